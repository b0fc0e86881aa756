"""The delivery-delays runbook: its causes point at steps with text, and the verdicts use them."""

from __future__ import annotations

from diagnose import catalogue


def test_delivery_delays_runbook_causes_and_steps():
    cat = catalogue.load()
    book = cat.runbook("delivery-delays")
    assert "#delivery-delays" in book.sources[0]
    for code, step in (("delays.upstream", 2), ("delays.downstream", 3)):
        cause = cat.cause(code)
        assert cause.runbook == "delivery-delays" and cause.step == step
        assert cause.remediation
        assert book.step(step) is not None and book.step(step).text
    assert book.step(1).text and "diagnose delays" in book.step(1).text
