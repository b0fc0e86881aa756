"""How a walkthrough talks to the person: say things, ask with a default. `--no-input` never asks."""

from __future__ import annotations

import click

from diagnose.report.style import Styler


class Stop(Exception):
    """The person ended the walk (end of input counts)."""


class Console:
    def __init__(self, style: Styler, no_input: bool):
        self.style = style
        self.no_input = no_input

    def say(self, text: str = "") -> None:
        click.echo(text)

    def choose(self, question: str, choices: dict[str, str], default: str) -> str:
        """One of `choices`' keys. Without input, the default (and the log says so)."""
        legend = ", ".join(f"{k} {v}" for k, v in choices.items())
        if self.no_input:
            self.say(f"{question} ({legend}) -> {default} (--no-input)")
            return default
        try:
            answer = click.prompt(
                f"{self.style(question, bold=True)} ({legend})",
                default=default,
                type=click.Choice(list(choices), case_sensitive=False),
                show_choices=False,
            )
        except click.exceptions.Abort:  # end of input (Ctrl-D, a script that ran out of answers)
            raise Stop("no more input") from None
        return str(answer).lower()
