"""Upstream without a trigger log: the spread of departures only means something for
executions that have several messages, and is judged beyond the time the send rate needs."""

from __future__ import annotations

import pytest

from diagnose.delays import generate
from tests.delays.conftest import by_group, run_delays

UNITARY = generate.Spec(
    events=4_000, per_execution=1, inject="upstream", inject_campaign=1, seed=21
)
# one audience execution of 100,000 messages departing at a healthy 1,000 messages/s (~100 s)
AUDIENCE = generate.Spec(events=200_000, campaigns=1, per_execution=100_000, rate=1000.0, seed=22)


@pytest.fixture(scope="module")
def unitary(tmp_path_factory):
    root = tmp_path_factory.mktemp("unitary")
    data, log = root / "fb.parquet", root / "triggers.csv"
    generate.write(data, UNITARY)
    generate.write_trigger_log(log, UNITARY)
    return data, log


def test_unitary_executions_leave_upstream_not_measured(unitary):
    data, _ = unitary
    res = run_delays(data, "--output", "json")
    injected = generate.summary(UNITARY)["injected_campaign"]
    for group in res.json()["groups"]:
        assert group["upstream_measured"] is False
        assert group["judged"]["upstream"]["measured"] is False
        assert "pass --trigger-log" in group["judged"]["upstream"]["reason"]
        assert group["verdict"] in ("upstream", "downstream", "none")
    assert injected in {g["campaign"] for g in res.json()["groups"]}
    assert "delays.upstream" not in {d["code"] for d in res.json()["diagnosis"]}
    text = run_delays(data).stdout
    assert "not measured" in text and "pass --trigger-log to measure trigger -> departure" in text
    md = run_delays(data, "--output", "markdown").stdout
    assert "not measured (pass --trigger-log)" in md


def test_unitary_upstream_delay_is_found_with_the_trigger_log(unitary):
    data, log = unitary
    res = run_delays(data, "--trigger-log", log, "--output", "json")
    assert res.exit_code == 1
    verdicts = {g["campaign"]: g["verdict"] for g in res.json()["groups"]}
    assert verdicts.pop(generate.summary(UNITARY)["injected_campaign"]) == "upstream"
    assert set(verdicts.values()) == {"none"}
    assert all(g["upstream_measured"] for g in res.json()["groups"])


@pytest.fixture(scope="module")
def audience(tmp_path_factory):
    path = tmp_path_factory.mktemp("audience") / "fb.parquet"
    generate.write(path, AUDIENCE)
    return path


def test_large_execution_sent_at_full_speed_is_not_upstream(audience):
    # the raw spread (p90 ~ 90 s) is above a 60 s threshold; the allowance for 100,000
    # messages at 500/s is 200 s, so nothing is left beyond it
    res = run_delays(audience, "--upstream-threshold", "60", "--output", "json")
    assert res.exit_code == 0, res.stdout
    (group,) = res.json()["groups"]
    assert group["upstream_measured"] is True
    assert group["percentiles"]["departure_spread"]["p90"] > 60
    judged = group["judged"]["upstream"]
    assert judged["spread_seconds"] > 60 and judged["seconds"] < 0 and not judged["abnormal"]
    assert group["verdict"] == "none"
    # a campaign whose limit is slower than what it did would be upstream: the rate decides
    res = run_delays(
        audience, "--upstream-threshold", "60", "--send-rate", "5000", "--output", "json"
    )
    assert res.exit_code == 1
    assert by_group(res.json())[(group["campaign"], group["channel"])]["verdict"] == "upstream"


def test_large_execution_with_a_real_upstream_delay_is_still_upstream(tmp_path):
    spec = generate.Spec(
        events=40_000,
        campaigns=1,
        per_execution=20_000,
        rate=1000.0,
        inject="upstream",
        inject_campaign=0,
        seed=23,
    )
    generate.write(tmp_path / "fb.parquet", spec)
    res = run_delays(tmp_path / "fb.parquet", "--output", "json")
    assert res.exit_code == 1
    (group,) = res.json()["groups"]
    assert group["verdict"] == "upstream" and group["judged"]["upstream"]["abnormal"]


def test_bad_send_rate_is_exit_2(unitary):
    data, _ = unitary
    for value in ("0", "-1", "nan", "inf"):
        res = run_delays(data, "--send-rate", value)
        assert res.exit_code == 2, value


def test_a_group_that_never_departed_is_not_told_to_pass_a_trigger_log(tmp_path):
    from tests.delays import handmade

    path = tmp_path / "fb.csv"
    lines = handmade.write_csv(path).read_text().splitlines()
    path.write_text("\n".join([lines[0]] + [ln for ln in lines[1:] if ",error," in ln]) + "\n")
    res = run_delays(path, "--output", "json")
    assert res.exit_code == 0, res.stderr
    (group,) = res.json()["groups"]
    assert group["counts"] == {"error": 1} and "upstream" not in group["judged"]
    assert "pass --trigger-log" not in run_delays(path).stdout
