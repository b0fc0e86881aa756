"""How a walkthrough talks to the person: say things, ask with a default. `--no-input` never asks."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from diagnose.model import CheckResult, DiagnosisEntry
from diagnose.render import cause
from diagnose.render.safe import escaped
from diagnose.render.style import Styler


class Stop(Exception):
    """The person ended the walk (end of input counts)."""


class Console:
    def __init__(self, style: Styler, no_input: bool):
        self.style = style
        self.no_input = no_input

    def say(self, text: str = "") -> None:
        click.echo(escaped(text))

    def causes(
        self,
        results: list[CheckResult],
        fill: Callable[[list[DiagnosisEntry]], None] | None = None,
    ) -> None:
        """Each cause the results show, in the one layout of a cause, then what could not be decided.

        `fill` gives the entries their remediation with the values the walk read (as `run` does)."""
        entries = cause.entries_of((r.id, f) for r in results for f in r.findings)
        if fill is not None:
            fill(entries)
        for n, entry in enumerate(entries, 1):
            self.say(cause.text(entry, n, self.style))
        for result in results:
            if result.limitation:
                reason = result.limitation.reason
                self.say(
                    f"  {result.id} could not decide: {reason}.{cause.needs(result.limitation)}"
                )

    def choose(self, question: str, choices: dict[str, str], default: str) -> str:
        """One of `choices`' keys. Without input, the default (and the log says so)."""
        legend = ", ".join(f"{k} {v}" for k, v in choices.items())
        if self.no_input:
            self.say(f"{question} ({legend}) -> {default} (--no-input)")
            return default
        while True:
            # Not click.prompt: it turns Ctrl-C into the same Abort as end of input, and
            # Ctrl-C must stop the walk with exit 130 while end of input is an answer ("stop").
            prompt = f"{self.style(question, bold=True)} ({legend}) [{default}]: "
            click.echo(escaped(prompt), nl=False)
            line = sys.stdin.readline()
            if not line:
                raise Stop("no more input")
            answer = line.strip().lower() or default
            if answer in choices:
                return answer
            self.say(f"Please answer one of: {', '.join(choices)}")
