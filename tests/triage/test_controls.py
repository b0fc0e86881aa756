"""Excerpts show terminal control characters escaped; a log cannot drive the engineer's terminal."""

from __future__ import annotations

from pathlib import Path

from tests.harness import run_cli


def test_escape_sequences_and_carriage_returns_are_shown_not_obeyed(tmp_path: Path) -> None:
    log = tmp_path / "evil.log"
    log.write_bytes(
        b"\x1b]0;owned\x07\x1b[2J status 403 x-ms-substatus: 4000 \r Access to your account is currently "
        b"revoked because the Azure Cosmos DB service is unable to obtain the AAD authentication token\n"
    )
    for output in ("text", "markdown", "json"):
        result = run_cli("explain", str(log), "--output", output)
        assert result.exit_code == 1, result.output
        assert "cosmos.revoked.4000" in result.output
        assert "\x1b" not in result.output and "\r" not in result.output
        assert "\\x1b" in result.output


def test_settings_and_durations_are_not_incidents(tmp_path: Path) -> None:
    log = tmp_path / "config.log"
    log.write_text(
        "POST /im/executions/unitary configured with timeout 90 s\n"
        "POST /im/executions/unitary responded 202 in time; response 500 ms\n"
    )
    result = run_cli("explain", str(log), "--output", "json")
    assert result.exit_code == 0, result.output
    assert result.json()["matches"] == []


def test_a_real_time_out_of_the_execution_call_still_counts(tmp_path: Path) -> None:
    log = tmp_path / "client.log"
    log.write_text(
        "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='platform.adobe.io', port=443): "
        "Read timed out. (read timeout=60) POST /ajo/im/executions/unitary\n"
    )
    result = run_cli("explain", str(log))
    assert result.exit_code == 1 and "call.timeout" in result.output
