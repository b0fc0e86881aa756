"""Bad input: a clear message naming what is wrong, exit 2 (input) or 3 (reach), never a traceback."""

from __future__ import annotations

import socket
import time

import pytest

from tests.delays import handmade
from tests.delays.conftest import run_delays


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_missing_column_is_named(tmp_path):
    res = run_delays(handmade.write_csv(tmp_path / "fb.csv", drop=handmade.CAMPAIGN))
    assert res.exit_code == 2
    assert "missing column(s)" in res.stderr and handmade.CAMPAIGN in res.stderr


def test_optional_columns_may_be_absent(tmp_path):
    res = run_delays(
        handmade.write_csv(tmp_path / "fb.csv", drop=handmade.CHANNEL),
        "--output",
        "json",
        "--delay-rate",
        "1",
    )
    assert res.exit_code == 0
    assert res.json()["groups"][0]["channel"] == "unknown"


def test_timestamp_that_is_not_a_time(tmp_path):
    path = handmade.write_csv(tmp_path / "fb.csv")
    path.write_text(path.read_text().replace("2026-11-20T10:00:30Z", "yesterday"))
    res = run_delays(path)
    assert res.exit_code == 2
    assert "wrong value type" in res.stderr and "yesterday" in res.stderr


def test_timestamp_of_a_numeric_type(tmp_path):
    path = tmp_path / "fb.csv"
    text = handmade.write_csv(path).read_text().splitlines()
    rows = [text[0]] + [
        str(1700000000 + i) + line[line.index(",") :] for i, line in enumerate(text[1:])
    ]
    path.write_text("\n".join(rows) + "\n")
    res = run_delays(path)
    assert res.exit_code == 2
    assert "column 'timestamp' has a number type" in res.stderr


def test_empty_data(tmp_path):
    path = tmp_path / "fb.csv"
    path.write_text(",".join(handmade.COLUMNS) + "\n")
    res = run_delays(path)
    assert res.exit_code == 2
    assert "no feedback events" in res.stderr


def test_unreadable_parquet(tmp_path):
    path = tmp_path / "fb.parquet"
    path.write_bytes(b"this is not parquet")
    res = run_delays(path)
    assert res.exit_code == 2 and str(path) in res.stderr


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("/nonexistent/feedback.parquet", "no such file or folder"),
        ("/nonexistent/*.parquet", "no such file or folder"),
    ],
)
def test_missing_source(source, message):
    res = run_delays(source)
    assert res.exit_code == 2 and message in res.stderr


def test_folder_without_exports_and_mixed_formats(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    res = run_delays(tmp_path)
    assert res.exit_code == 2 and "holds no .parquet" in res.stderr
    handmade.write_csv(tmp_path / "a.csv")
    handmade.write_nested_jsonl(tmp_path / "b.jsonl")
    res = run_delays(tmp_path)
    assert res.exit_code == 2 and "mixes formats" in res.stderr


def test_bad_trigger_log_names_the_line(tmp_path):
    source = handmade.write_csv(tmp_path / "fb.csv")
    log = tmp_path / "t.csv"
    log.write_text("executionId,requestedAt\nUMA-1,2026-11-20T09:59:50Z\nUMA-2,soon\n")
    res = run_delays(source, "--trigger-log", log)
    assert res.exit_code == 2 and f"{log}:3" in res.stderr and "'soon'" in res.stderr
    log.write_text("execution,when\nUMA-1,2026-11-20T09:59:50Z\n")
    res = run_delays(source, "--trigger-log", log)
    assert res.exit_code == 2 and "no execution id" in res.stderr
    res = run_delays(source, "--trigger-log", tmp_path / "absent.csv")
    assert res.exit_code == 2 and "no such file" in res.stderr


def test_bad_flags(tmp_path):
    source = handmade.write_csv(tmp_path / "fb.csv")
    res = run_delays(source, "--since", "2026-11-21", "--until", "2026-11-20")
    assert res.exit_code == 2 and "--since must be before --until" in res.stderr
    res = run_delays(source, "--since", "last tuesday")
    assert res.exit_code == 2 and "--since" in res.stderr
    res = run_delays(source, "--plot", tmp_path / "chart.gif")
    assert res.exit_code == 2 and all(s in res.stderr for s in (".png", ".svg", ".html"))
    res = run_delays(source, "--upstream-threshold", "-1")
    assert res.exit_code == 2


def test_unreachable_server_is_exit_3_and_keeps_the_password_secret():
    secret = "S3cret-pass-word"
    res = run_delays(f"postgresql://alice:{secret}@127.0.0.1:{_closed_port()}/db")
    assert res.exit_code == 3
    assert "cannot connect" in res.stderr and "127.0.0.1" in res.stderr
    assert secret not in res.stdout + res.stderr


def test_silent_server_times_out_instead_of_hanging():
    """A listener that never answers: the connect timeout bounds the wait."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        started = time.monotonic()
        res = run_delays(f"postgresql://bob:pw@127.0.0.1:{port}/db", "--connect-timeout", "2")
        elapsed = time.monotonic() - started
    assert res.exit_code == 3
    assert elapsed < 30  # generous: the point is that it returns at all


def test_malformed_url_is_exit_2():
    res = run_delays("postgresql://u:Pw-Secret-9@host/db?nosuchoption=1")
    assert res.exit_code == 2
    assert "not a valid postgresql:// URL" in res.stderr and "nosuchoption" in res.stderr
    assert "Pw-Secret-9" not in res.stderr


def test_unresolvable_host_is_exit_3():
    res = run_delays("postgresql://u:Pw-Secret-9@no-such-host.invalid/db", "--connect-timeout", "2")
    assert res.exit_code == 3
    assert "no-such-host.invalid" in res.stderr and "Pw-Secret-9" not in res.stderr


def test_no_traceback_from_the_real_binary(tmp_path):
    path = tmp_path / "fb.csv"
    path.write_text(",".join(handmade.COLUMNS) + "\n")
    proc = run_delays(path)
    assert proc.exit_code == 2
    assert proc.stderr.startswith("Error:") and "Traceback" not in proc.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "NaN", "1e300", "-1e20"])
def test_non_finite_or_impossible_times_are_exit_2(tmp_path, value):
    source = handmade.write_csv(tmp_path / "fb.csv")
    for flag in ("--since", "--until"):
        res = run_delays(source, flag, value)
        assert res.exit_code == 2, res.stderr
        assert f"{flag}: {value!r} is not a time" in res.stderr
        assert "Binder Error" not in res.stderr
    log = tmp_path / "t.jsonl"
    log.write_text('{"executionId": "UMA-1", "requestedAt": NaN}\n')
    res = run_delays(source, "--trigger-log", log)
    assert res.exit_code == 2 and "is not a time" in res.stderr
    log.write_text(f"executionId,requestedAt\nUMA-1,{value}\n")
    res = run_delays(source, "--trigger-log", log)
    assert res.exit_code == 2 and f"{log}:2" in res.stderr


def test_top_is_capped(tmp_path):
    source = handmade.write_csv(tmp_path / "fb.csv")
    for value in ("100000000000000000000", "10001", "1e20"):
        res = run_delays(source, "--top", value)
        assert res.exit_code == 2 and "--top" in res.stderr, value
    res = run_delays(source, "--top", "10000", "--delay-rate", "1", "--output", "json")
    assert res.exit_code == 0 and len(res.json()["slowest_executions"]) == 2


@pytest.mark.parametrize(
    "flag",
    [
        "--upstream-threshold",
        "--downstream-threshold",
        "--delay-rate",
        "--send-rate",
        "--connect-timeout",
        "--query-timeout",
    ],
)
@pytest.mark.parametrize("value", ["nan", "inf", "1e400"])
def test_non_finite_numbers_are_exit_2(tmp_path, flag, value):
    """nan passes a FloatRange (it compares false with any bound) and would disable a check."""
    source = handmade.write_csv(tmp_path / "fb.csv")
    res = run_delays(source, flag, value)
    assert res.exit_code == 2, res.stderr
    assert "is not a finite number" in res.stderr
