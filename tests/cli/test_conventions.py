"""The conventions of the ecosystem: -o, --out, pasting into explain, completion, examples, progress."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import click
import pexpect
import pytest

from diagnose.cli import cli as root
from tests.harness import run_cli, spawn_cli

CMK_LINE = (
    '{"code":"Forbidden","message":"Request is blocked due to Customer Managed Key '
    'not being accessible. (4000)"} substatus 4000\n'
)
FILLER = "2026-11-20T08:00:00Z INFO POST /ajo/im/executions/unitary 202 12ms requestId=abc\n"


def every_command() -> Iterator[tuple[str, click.Command]]:
    """Every command and sub-command, by its full name (the lazy ones loaded)."""
    ctx = click.Context(root)

    def walk(prefix: str, command: click.Command) -> Iterator[tuple[str, click.Command]]:
        yield prefix, command
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                yield from walk(f"{prefix} {name}".strip(), sub)

    yield from walk("", root)


COMMANDS = dict(every_command())


@pytest.mark.parametrize("name", sorted(n for n in COMMANDS if n))
def test_every_command_has_examples_and_takes_debug_and_verbose(name: str) -> None:
    command = COMMANDS[name]
    assert command.epilog and "Example" in command.epilog, name
    options = {opt for p in command.params for opt in p.opts}
    assert {"--debug", "-v", "--verbose"} <= options, name
    if any(p.name == "output" for p in command.params):
        assert "-o" in options, f"{name}: --output without -o"


def test_the_examples_show_in_help() -> None:
    result = run_cli("run", "--help")
    assert "Examples:" in result.stdout and "diagnose run --lab kv-role-missing" in result.stdout


def test_short_output_flag_works(lab) -> None:
    result = run_cli("checks", "-o", "json")
    assert result.json("diagnose/checks@1")["checks"]
    running = lab("healthy")
    assert run_cli("run", "-o", "json", env=running.env).json("diagnose/report@1")


@pytest.mark.parametrize("command", ["run", "timeline"])
@pytest.mark.parametrize("name", ["json", "JSON", "junit", "markdown", "text"])
def test_out_refuses_a_bare_format_name(tmp_path: Path, name: str, command: str) -> None:
    result = run_cli(command, "--lab", "healthy", "--out", name, cwd=tmp_path)
    assert result.exit_code == 2, result
    assert f"-o {name.lower()}" in result.stderr and f"./{name}" in result.stderr
    assert not (tmp_path / name).exists()


def test_out_takes_a_file_named_like_a_format_when_written_as_a_path(tmp_path: Path) -> None:
    result = run_cli(
        "run",
        "--lab",
        "healthy",
        "-o",
        "json",
        "--out",
        "./json",
        cwd=tmp_path,
        env={"DIAGNOSE_LAB_PROPAGATION_S": "0.05"},
    )
    assert result.exit_code == 0, result
    assert (tmp_path / "json").read_text().lstrip().startswith("{")


@pytest.mark.parametrize("args", [(), ("-",)])
def test_explain_on_a_terminal_reads_what_is_pasted(args: tuple[str, ...]) -> None:
    child = spawn_cli("explain", *args, no_color=True)
    child.expect_exact("Paste the evidence")  # the one-line hint, on stderr
    child.send(CMK_LINE)
    child.send(FILLER)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1, child.before
    assert "cosmos.revoked.4000" in child.before


def test_explain_from_a_pipe_gives_no_hint() -> None:
    result = run_cli("explain", stdin=CMK_LINE)
    assert result.exit_code == 1 and "Paste" not in result.stderr


# --- completion: the protocol the shells' scripts run (docs/completion.md) ----------------
def complete(words: str) -> list[str]:
    """What bash completion offers for the last word of `words` (click's bash protocol)."""
    parts = words.split(" ")
    result = run_cli(
        env={
            "_DIAGNOSE_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(parts) - 1),
        }
    )
    assert result.exit_code == 0, result
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if "," in line]


def test_completion_of_scenarios_runbooks_and_check_ids() -> None:
    assert {"kv-firewall", "kv-role-missing", "kv-access-policy-missing"} <= set(
        complete("diagnose run --lab kv-")
    )
    assert "kv-firewall" in complete("diagnose lab serve --scenario kv-f")
    assert complete("diagnose runbook show cosmos") == ["cosmosdb-auth-errors"]
    assert "entra-credentials" in complete("diagnose runbook walk e")
    assert complete("diagnose run --only principal.enabled,roles.k") == [
        "principal.enabled,roles.keyvault"
    ]
    assert "keyvault.unwrap" in complete("diagnose run --skip keyvault.")
    assert "cosmos_id=" in complete("diagnose profile init --set cosmos_")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_for_each_shell(shell: str) -> None:
    result = run_cli(env={"_DIAGNOSE_COMPLETE": f"{shell}_source"})
    assert result.exit_code == 0 and "_DIAGNOSE_COMPLETE" in result.stdout, result


def test_completion_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "completion.md").read_text()
    for shell in ("bash_source", "zsh_source", "fish_source"):
        assert f"_DIAGNOSE_COMPLETE={shell} diagnose" in doc


# --- progress: on a terminal only -------------------------------------------------------------
@pytest.fixture
def big_log(tmp_path: Path) -> Path:
    """Seconds of reading in a few MB (a plain log is read at hundreds of MB a second): an
    incident log whose lines share no verdict, each holding a word of its own."""
    path = tmp_path / "big.log"
    with path.open("w") as fh:
        fh.write(CMK_LINE)
        for n in range(40_000):
            word = "".join("ghiklmnopqrstuvwxyz_"[int(d)] for d in str(n))
            fh.write(CMK_LINE.replace('"} substatus', f'","node":"{word}"}} substatus'))
    return path


def test_a_large_explain_input_shows_how_far_it_was_read(big_log: Path) -> None:
    child = spawn_cli("explain", str(big_log), no_color=True, timeout=120)
    child.expect(r"reading …/big\.log: \d+% \(\d+")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1 and "cosmos.revoked.4000" in child.before


def test_explain_progress_never_reaches_a_pipe(big_log: Path) -> None:
    result = run_cli("explain", str(big_log), "-o", "json")
    assert result.exit_code == 1
    assert "reading" not in result.stderr and "\x1b" not in result.output
    result.json("diagnose/explain@1")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A PostgreSQL address that accepts connections and never answers (the kernel completes
    the handshake into the backlog; nothing reads or writes)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


def test_delays_shows_it_is_working_while_the_server_keeps_it_waiting(silent_server: int) -> None:
    url = f"postgresql://user@127.0.0.1:{silent_server}/db"
    child = spawn_cli("delays", url, "--connect-timeout", "3", no_color=True, timeout=60)
    child.expect_exact("analysing delivery delays")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3, child.before
    result = run_cli("delays", url, "--connect-timeout", "2")
    assert result.exit_code == 3 and "analysing" not in result.output


def test_out_writes_the_text_report_as_stdout_shows_it_what_changed_included(
    tmp_path: Path,
) -> None:
    """`run --what-changed --out FILE`: the file is the report stdout shows, not without its
    last section (as the JSON and Markdown reports hold `what_changed`)."""
    report = tmp_path / "run.txt"
    result = run_cli(
        "run",
        "--lab",
        "healthy",
        "--what-changed",
        "--out",
        str(report),
        env={"DIAGNOSE_LAB_PROPAGATION_S": "0.05"},
    )
    assert result.exit_code == 0, result
    assert "What changed, " in result.stdout
    assert report.read_text() == result.stdout
