"""`diagnose delays` on local exports (DuckDB in process): figures, verdicts, outputs, filters."""

from __future__ import annotations

import pytest

from tests.delays import handmade
from tests.delays.conftest import by_group, run_delays


def _assert_expected(group: dict, with_triggers: bool) -> None:
    assert group["counts"] == handmade.EXPECTED_COUNTS
    for measure, expected in handmade.EXPECTED.items():
        if measure == "trigger_to_departure" and not with_triggers:
            assert measure not in group["percentiles"]
            continue
        got = group["percentiles"][measure]
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, abs=1e-6), (measure, key)


@pytest.mark.parametrize("layout", ["flat-csv", "nested-jsonl"])
def test_handmade_figures_match_hand_computation(tmp_path, layout):
    if layout == "flat-csv":
        source = handmade.write_csv(tmp_path / "fb.csv")
    else:
        source = handmade.write_nested_jsonl(tmp_path / "fb.jsonl")
    trig = handmade.write_triggers(tmp_path / "triggers.csv")
    # one delay event for four sent messages: abnormal at the default 5 %, not at 50 %
    res = run_delays(source, "--trigger-log", trig, "--output", "json", "--delay-rate", "0.5")
    assert res.exit_code == 0, res.stderr
    doc = res.json()
    assert doc["schema"] == "diagnose/delays@1"
    (group,) = doc["groups"]
    assert (group["campaign"], group["channel"]) == ("camp-1", "email")
    _assert_expected(group, with_triggers=True)
    assert group["verdict"] == "none"
    # delivered after 10 s, 60 s, 600 s: bins 10s-1m, 1-5m, 5-15m
    assert group["histogram"]["departure_to_delivered"] == [0, 0, 1, 1, 1, 0, 0, 0]
    assert doc["histogram_bins"][2:5] == ["10s-1m", "1-5m", "5-15m"]
    for measure, bins in group["histogram"].items():
        assert sum(bins) == group["percentiles"][measure]["count"]
    # slowest: UMA-2 (60 s before + 600 s after) then UMA-1 (70 s + 60 s)
    assert [e["execution"] for e in doc["slowest_executions"]] == ["UMA-2", "UMA-1"]
    assert doc["slowest_executions"][0]["trigger_to_departure"] == pytest.approx(60.0)
    reasons = {(r["status"], r["reason"]): r["events"] for r in group["failure_reasons"]}
    assert reasons == {
        ("bounce", "Mailbox full"): 1,
        ("error", "Invalid email address"): 1,
        ("delay", "Mailbox temporarily unavailable"): 1,
    }
    assert doc["diagnosis"] == []


def test_trigger_log_as_json_lines(tmp_path):
    source = handmade.write_csv(tmp_path / "fb.csv")
    trig = handmade.write_triggers(tmp_path / "triggers.jsonl")
    doc = run_delays(source, "--trigger-log", trig, "--output", "json").json()
    _assert_expected(doc["groups"][0], with_triggers=True)


def test_without_trigger_log_upstream_is_the_spread(tmp_path):
    source = handmade.write_csv(tmp_path / "fb.csv")
    doc = run_delays(source, "--output", "json").json()
    _assert_expected(doc["groups"][0], with_triggers=False)
    assert doc["groups"][0]["judged"]["upstream"]["measure"] == "departure_spread"


def test_thresholds_can_be_set(tmp_path):
    source = handmade.write_csv(tmp_path / "fb.csv")
    res = run_delays(source, "--output", "json")  # default delay rate 5 %: 1 delay in 4 sent
    assert res.exit_code == 1
    assert res.json()["groups"][0]["verdict"] == "downstream"
    assert "delay events 25.0% of sent" in res.json()["diagnosis"][0]["message"]
    # p90 departure -> delivered is 492 s: abnormal against 400 s, not against the default 900 s
    res = run_delays(
        source, "--downstream-threshold", "400", "--delay-rate", "0.5", "--output", "json"
    )
    assert res.exit_code == 1
    assert res.json()["groups"][0]["verdict"] == "downstream"
    res = run_delays(
        source, "--upstream-threshold", "50", "--delay-rate", "0.5", "--output", "json"
    )
    assert res.exit_code == 1
    assert res.json()["groups"][0]["verdict"] == "upstream"  # p90 spread 51 s > 50 s
    res = run_delays(
        source,
        "--upstream-threshold",
        "50",
        "--percentile",
        "p50",
        "--delay-rate",
        "0.5",
        "--output",
        "json",
    )
    assert res.exit_code == 0  # p50 spread 15 s


@pytest.mark.parametrize(
    ("fmt", "layout"), [("parquet", "flat"), ("jsonl", "nested"), ("csv", "flat")]
)
def test_injected_upstream_delay_names_side_and_campaign(datasets, fmt, layout):
    ds = datasets["upstream"]
    res = run_delays(ds.file(fmt, layout), "--output", "json")
    assert res.exit_code == 1, res.stderr
    doc = res.json()
    verdicts = {g["campaign"]: g["verdict"] for g in doc["groups"]}
    injected = ds.info["injected_campaign"]
    assert verdicts.pop(injected) == "upstream"
    assert set(verdicts.values()) == {"none"}
    (entry,) = doc["diagnosis"]
    assert entry["code"] == "delays.upstream"
    assert entry["runbook"] == {"id": "delivery-delays", "step": 2}
    assert injected in entry["message"]
    assert doc["slowest_executions"][0]["campaign"] == injected


def test_injected_downstream_delay_names_side_and_campaign(datasets):
    ds = datasets["downstream"]
    res = run_delays(ds.file("parquet"), "--output", "json")
    assert res.exit_code == 1
    doc = res.json()
    injected = ds.info["injected_campaign"]
    verdicts = {g["campaign"]: g["verdict"] for g in doc["groups"]}
    assert verdicts.pop(injected) == "downstream"
    assert set(verdicts.values()) == {"none"}
    assert [d["code"] for d in doc["diagnosis"]] == ["delays.downstream"]
    assert doc["diagnosis"][0]["runbook"] == {"id": "delivery-delays", "step": 3}


def test_trigger_log_measures_trigger_to_departure(datasets):
    ds = datasets["upstream"]
    doc = run_delays(ds.file("parquet"), "--trigger-log", ds.trigger_log, "--output", "json").json()
    injected = ds.info["injected_campaign"]
    for group in doc["groups"]:
        ttd = group["percentiles"]["trigger_to_departure"]
        assert ttd["count"] == group["counts"]["sent"]
        assert group["judged"]["upstream"]["measure"] == "trigger_to_departure"
        if group["campaign"] == injected:
            assert ttd["p50"] > 300 and group["verdict"] == "upstream"
        else:
            assert ttd["max"] < 5 and group["verdict"] == "none"


def test_healthy_data_exit_0_and_empty_diagnosis(datasets):
    res = run_delays(datasets["healthy"].file("parquet"), "--output", "json")
    assert res.exit_code == 0
    doc = res.json()
    assert doc["status"] == "pass" and doc["diagnosis"] == []
    assert {g["verdict"] for g in doc["groups"]} == {"none"}
    for group in doc["groups"]:
        assert set(group) >= {"campaign", "channel", "counts", "percentiles", "verdict"}


def test_filters_campaign_execution_and_window(datasets):
    ds = datasets["upstream"]
    source = ds.file("parquet")
    everything = run_delays(source, "--output", "json").json()
    one = ds.info["campaigns"][0]
    doc = run_delays(source, "--campaign", one, "--output", "json").json()
    assert [g["campaign"] for g in doc["groups"]] == [one]
    assert doc["groups"][0]["counts"] == by_group(everything)[(one, "email")]["counts"]
    doc = run_delays(source, "--execution", "UMA-000000000", "--output", "json").json()
    assert sum(sum(g["counts"].values()) for g in doc["groups"]) <= 3 * ds.spec.per_execution
    doc = run_delays(
        source,
        "--since",
        "2026-11-20T09:00:00Z",
        "--until",
        "2026-11-20T10:00:00",
        "--output",
        "json",
    ).json()
    assert doc["window"]["first"] >= "2026-11-20T09:00:00"
    assert doc["window"]["last"] < "2026-11-20T10:00:00"
    assert 0 < doc["events"] < everything["events"]


def test_text_output_has_verdict_histogram_and_runbook(datasets):
    ds = datasets["upstream"]
    res = run_delays(ds.file("parquet"))
    assert res.exit_code == 1
    out = res.stdout
    injected = ds.info["injected_campaign"]
    assert f"campaign {injected}  channel email  verdict UPSTREAM" in out
    assert "histogram" in out and "<1s 1-10s" in out
    spread_rows = [
        line
        for line in out.splitlines()
        if line.strip().startswith("departure spread") and any(c in line for c in "▁▂▃▄▅▆▇█")
    ]
    assert len(spread_rows) == len(ds.info["campaigns"])
    assert "[delays.upstream]" in out and "Runbook delivery-delays, step 2: " in out


def test_markdown_output(datasets):
    ds = datasets["downstream"]
    res = run_delays(ds.file("parquet"), "--output", "markdown")
    assert res.exit_code == 1
    assert res.stdout.startswith("# Delivery delays")
    row = next(
        line
        for line in res.stdout.splitlines()
        if ds.info["injected_campaign"] in line and line.startswith("|")
    )
    assert "**downstream**" in row


def test_folder_and_glob_sources(tmp_path):
    handmade.write_csv(tmp_path / "a.csv", campaign="camp-a")
    handmade.write_csv(tmp_path / "b.csv", campaign="camp-b")
    for source in (tmp_path, tmp_path / "*.csv"):
        doc = run_delays(source, "--output", "json").json()
        assert sorted(g["campaign"] for g in doc["groups"]) == ["camp-a", "camp-b"]


def test_fail_on_and_exit_status_from_the_real_binary(datasets):
    proc = run_delays(datasets["upstream"].file("parquet"), "--output", "json")
    assert proc.exit_code == 1
    assert proc.stdout.lstrip().startswith("{") and "Traceback" not in proc.stderr
