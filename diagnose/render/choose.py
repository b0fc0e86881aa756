"""How every command picks its renderer, its styler and where the output goes: one way for all.

A renderer is a function `(document, styler) -> str`. Each document kind lists its
formats here as "module:function" strings, so that a command's `--output` choices are
known without importing a renderer (start-up stays light), and the renderer module is
imported only when it is used.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Generic, TypeVar, cast

import click

if TYPE_CHECKING:
    from diagnose.catalogue import Catalogue, Runbook
    from diagnose.payload.document import PayloadReport
    from diagnose.render.style import Styler
    from diagnose.timeline.model import Timeline
    from diagnose.usecases.delays import DelaysReport
    from diagnose.usecases.explain import Explanation
    from diagnose.usecases.fleet import FleetReport
    from diagnose.usecases.run import RunReport

D = TypeVar("D")
F = TypeVar("F", bound=Callable[..., Any])


class Renderers(Generic[D]):
    """The renderers of one kind of document, by `--output` format."""

    def __init__(self, targets: dict[str, str]):
        self.targets = targets

    @property
    def formats(self) -> list[str]:
        """The `--output` choices, the default first."""
        return list(self.targets)

    def __call__(self, output: str) -> Callable[[D, Styler], str]:
        module, function = self.targets[output].split(":")
        return cast(
            "Callable[[D, Styler], str]", getattr(importlib.import_module(module), function)
        )


RUN: Renderers[RunReport] = Renderers(
    {
        "text": "diagnose.render.run_text:render",
        "json": "diagnose.render.run_json:render",
        "junit": "diagnose.render.run_junit:render",
        "markdown": "diagnose.render.run_markdown:render",
        "sarif": "diagnose.render.sarif:render_run",
    }
)
# `run --all` (issue 16): the same formats as `run`, for a fleet
FLEET: Renderers[FleetReport] = Renderers(
    {
        "text": "diagnose.render.fleet_text:render",
        "json": "diagnose.render.fleet_json:render",
        "junit": "diagnose.render.fleet_junit:render",
        "markdown": "diagnose.render.fleet_markdown:render",
        "sarif": "diagnose.render.sarif:render_fleet",
    }
)
EXPLAIN: Renderers[Explanation] = Renderers(
    {
        "text": "diagnose.render.explanation:render_text",
        "json": "diagnose.render.explanation:render_json",
        "markdown": "diagnose.render.explanation:render_markdown",
    }
)
PAYLOAD: Renderers[PayloadReport] = Renderers(
    {
        "text": "diagnose.render.payload:render_text",
        "json": "diagnose.render.payload:render_json",
        "markdown": "diagnose.render.payload:render_markdown",
    }
)
DELAYS: Renderers[DelaysReport] = Renderers(
    {
        "text": "diagnose.render.delays:render_text",
        "json": "diagnose.render.delays:render_json",
        "markdown": "diagnose.render.delays:render_markdown",
    }
)
TIMELINE: Renderers[Timeline] = Renderers(
    {
        "text": "diagnose.render.timeline:render_text",
        "json": "diagnose.render.timeline:render_json",
        "markdown": "diagnose.render.timeline:render_markdown",
    }
)

CATALOGUE: Renderers[Catalogue] = Renderers(
    {
        "text": "diagnose.render.catalogue:render_list_text",
        "json": "diagnose.render.catalogue:render_list_json",
    }
)
RUNBOOK: Renderers[Runbook] = Renderers(
    {
        "text": "diagnose.render.catalogue:render_show_text",
        "json": "diagnose.render.catalogue:render_show_json",
    }
)


def output_option(renderers: Renderers[D], help: str = "Output format.") -> Callable[[F], F]:
    """The `--output` option of a command: the formats its renderers know, text by default."""
    return click.option(
        "-o",
        "--output",
        type=click.Choice(renderers.formats),
        default=renderers.formats[0],
        show_default=True,
        help=help,
    )


def styler(output: str = "text", stream: IO[str] | None = None) -> Styler:
    """Colour only for text on a terminal, never with NO_COLOR (`stream`: standard output unless named)."""
    from diagnose.render.style import Styler, use_colour

    return Styler(output == "text" and use_colour(sys.stdout if stream is None else stream))


def emit(text: str, out: Path | None = None) -> None:
    """Print `text` (ending in one newline), or write it to `out` and say so on standard error.

    Either way through `safe.escaped`: no control or bidirectional character from a service or
    a file reaches the terminal, the CI log or the file.
    """
    from diagnose.errors import InputError
    from diagnose.render.safe import escaped

    text = escaped(text)
    if not text.endswith("\n"):
        text += "\n"
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"report written to {out}", err=True)
