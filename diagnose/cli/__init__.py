"""The `diagnose` command line: a thin layer that parses, calls the core, renders and exits.

Sub-commands live in their own modules and are imported only when invoked, so
`diagnose --help` never pays for the Azure SDKs (or DuckDB).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys

import click

from diagnose import __version__
from diagnose.exitstatus import ExitStatus

# name -> "module:attribute"; help text shown without importing the module.
_COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("diagnose.cli.run:run", "Run the check chain live and print the diagnosis."),
    "checks": ("diagnose.cli.checks:checks", "List the checks and the rights they need."),
    "explain": ("diagnose.cli.explain:explain", "Triage logs and error bodies into causes."),
    "runbook": ("diagnose.cli.runbook:runbook", "The runbook catalogue and guided walkthroughs."),
    "payload": (
        "diagnose.cli.payload:payload",
        "Check a campaign's cURL request; send one test call.",
    ),
    "delays": ("diagnose.cli.delays:delays", "Find where message delivery time goes."),
    "timeline": (
        "diagnose.cli.timeline:timeline",
        "What changed, who, and when, from the services' records.",
    ),
    "profile": ("diagnose.cli.profile:profile", "Show or create the profile the checks use."),
    "lab": ("diagnose.cli.lab:lab", "The local stand-in for Azure and Adobe."),
}


def _set_logging(ctx: click.Context, param: click.Parameter, value: object) -> None:
    """--debug and -v: raise the detail of the process's logging (diagnose/logs.py)."""
    if ctx.resilient_parsing or not value:
        return
    from diagnose import logs

    if param.name == "debug":
        logs.setup(debug=True)
    else:
        logs.setup(verbose=int(value))  # type: ignore[call-overload]


def _global_options() -> list[click.Option]:
    return [
        click.Option(
            ["-v", "--verbose"],
            count=True,
            expose_value=False,
            callback=_set_logging,
            help="More detail on stderr: what the tool derived and decided.",
        ),
        click.Option(
            ["--debug"],
            is_flag=True,
            expose_value=False,
            callback=_set_logging,
            help="A redacted HTTP trace on stderr (method, URL, status, time, request ids) "
            "and the libraries' warnings, for support tickets.",
        ),
    ]


def with_global_options(command: click.Command) -> click.Command:
    """Give `command` and its sub-commands --debug and -v/--verbose, after their names (as az does)."""
    names = {name for p in command.params for name in p.opts}
    if "--debug" not in names:
        command.params.extend(_global_options())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_global_options(sub)
    return command


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target[0].split(":")
        return with_global_options(getattr(importlib.import_module(module_name), attr))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in _COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _version_message() -> str:
    from diagnose.catalogue import catalogue_dir

    try:
        catalogue = (catalogue_dir() / "VERSION").read_text().strip()
    except Exception:  # noqa: BLE001 - the version line must never fail
        catalogue = "missing"
    return f"diagnose {__version__} (catalogue {catalogue})"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(_version_message())
        ctx.exit()


EXAMPLES = """\b
Examples:
  diagnose run --lab kv-role-missing      see a diagnosis on the built-in lab
  diagnose profile init                   describe your setup (asks only what it cannot read)
  diagnose run                            check it live
  diagnose explain app.log                which cause a log shows
  diagnose runbook show cosmosdb-auth-errors
Shell completion: docs/completion.md.
"""


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=EXAMPLES,
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the tool's and the catalogue's versions.",
)
def cli() -> None:
    """Find out why Adobe Journey Optimizer API-triggered campaigns fail on Azure, and what to do."""


with_global_options(cli)


def main() -> None:
    """Console entry point: map every outcome to the exit statuses of docs/design.md."""
    from diagnose import interrupts, logs

    interrupts.install()
    logs.setup()  # no library's log line reaches the user unless --debug
    for stream in (sys.stdout, sys.stderr):
        # a console or redirect that cannot encode a character shows it escaped, never crashes
        if isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(ValueError):
                stream.reconfigure(errors="backslashreplace")
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        code = ExitStatus.INTERRUPTED
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        code = ExitStatus.INTERRUPTED
    except BrokenPipeError:
        code = ExitStatus.OK
    interrupts.leave(int(code or 0))
