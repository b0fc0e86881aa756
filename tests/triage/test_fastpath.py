"""The fast path (verdict cache, dense blocks read whole) gives exactly the plain path's answers.

- The whole existing corpus gives the verdicts the scanner gave before the cache existed
  (`verdict_snapshot.py`), through both paths.
- On random logs built from real lines and mutations of them (digits changed, status and
  sub-status codes swapped, UUIDs, trace and span ids inserted, timestamps in every form,
  accents and a Kelvin sign, `\\u` escapes, time-outs whose number decides, line wraps,
  blank lines, CRLF), cut into random blocks, every record gets the same causes,
  signatures, time and request ids both ways, and the use case the same document.
- The masking analysis reads the shipped catalogue as it should (what stays, what is
  opaque), and refuses what it cannot follow.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnose.catalogue import load
from diagnose.render.explanation import to_document
from diagnose.triage import masking, records, shapes
from diagnose.triage.scanner import Scanner
from diagnose.triage.signatures import compile_catalogue
from diagnose.usecases.explain import explain

from .samples import SAMPLES
from .test_realworld import ENTRIES
from .test_signatures import FRAMINGS
from .verdict_snapshot import SNAPSHOT, verdicts

CATALOGUE = load()
SIGNATURES = compile_catalogue(CATALOGUE)
PLAIN = Scanner(SIGNATURES, fast=False)
FAST = Scanner(SIGNATURES)  # shared across examples: its cache carries from log to log
DENSE = Scanner(SIGNATURES, dense_hits=1)  # every block with a hit is tried whole

COSMOS = (
    '{{"timestamp":"{ts}","level":"ERROR","requestId":"{id1}","msg":"Microsoft.Azure.Cosmos.'
    "CosmosException : Response status code does not indicate success: Forbidden ({status}); "
    "Substatus: {sub}; ActivityId: {id2}; Reason: (Access to your account is currently revoked "
    "because the Azure Cosmos DB service is unable to obtain the AAD authentication token for "
    "the account's default identity);\"}}"
)
CAMPAIGN = (
    '{{"timestamp":"{ts}","level":"ERROR","x-request-id":"{id1}","msg":"POST https://platform.'
    'adobe.io/ajo/im/executions/unitary returned {status}","body":{{"type":"https://ns.adobe.com/'
    'aep/errors/MSG-000{status}-{status}","status":{status}}},"latency_ms":{n}}}'
)
TIMEOUT = "{ts} ERROR [ajo-runtime] POST /im/executions timed out after {n} s requestId={id1}"
FILLER = [
    "{ts} INFO [ajo-runtime] request completed status=200 latency_ms={n} id={id1}",
    "    at com.adobe.ajo.Runtime.handle(Runtime.java:{n})",
    '{{"timestamp":"{ts}","level":"DEBUG","msg":"cache hit","n":{n}}}',
]
STAMPS = [
    "2026-11-26T03:{m:02d}:{s:02d}.{ms:03d}Z",
    "2026-11-26 03:{m:02d}:{s:02d},{ms:03d}",
    "2026-11-26T04:{m:02d}:{s:02d}+01:00",
    "Nov 26 03:{m:02d}:{s:02d}",
    "26 Nov 2026 03:{m:02d}:{s:02d},{ms:03d}",
    "Nov 26, 2026 3:{m:02d}:{s:02d} AM",
    "11/26/2026, 3:{m:02d}:{s:02d}.{ms:03d} AM",
    "17641262{m:02d}",
    "2026-13-26T03:{m:02d}:{s:02d}Z",  # impossible: no time
]
REAL = [line for e in ENTRIES for line in e.text.splitlines() if line.strip()] + [
    frame(text) for texts in SAMPLES.values() for text in texts[:1] for frame in FRAMINGS.values()
]
TIDY = [line for line in REAL if "\n" not in line and records.starts(line.encode())]


def _uuid(rng: random.Random) -> str:
    a, b, c, d, e = (rng.getrandbits(n) for n in (32, 16, 16, 16, 48))
    text = f"{a:08x}-{b:04x}-{c:04x}-{d:04x}-{e:012x}"
    return text.upper() if rng.random() < 0.2 else text


def _hex(rng: random.Random, digits: int) -> str:
    """A bare hex id (a trace or span id), now and then holding a code the signatures
    tell apart, or all digits."""
    text = f"{rng.getrandbits(4 * digits):0{digits}x}"
    kind = rng.random()
    if kind < 0.15:
        code = rng.choice(["403", "4000", "500", "7000112", "4019"])
        at = rng.choice([0, digits - len(code), rng.randrange(digits - len(code) + 1)])
        text = text[:at] + code + text[at + len(code) :]
    elif kind < 0.25:
        text = "".join(rng.choice("0123456789") for _ in range(digits))
    return text.upper() if rng.random() < 0.2 else text


def _id(rng: random.Random, kind: int | None = None) -> str:
    """A request or trace id as incident logs write them (`kind`, one per log; else at
    random): a UUID, a W3C trace id or `traceparent`, a span id, an id without hyphens;
    now and then one that only nearly is one (one hex digit too few or too many)."""
    if kind is None or rng.random() < 0.08:
        kind = rng.randrange(12)
    if kind < 5:
        return _uuid(rng)
    if kind < 7:
        return _hex(rng, 32)
    if kind < 9:
        return f"00-{_hex(rng, 32)}-{_hex(rng, 16)}-01"
    if kind < 11:
        return _hex(rng, 16)
    return _hex(rng, rng.choice([15, 17, 31, 33]))


def _mutate(text: str, rng: random.Random) -> str:
    """One of the changes an incident log's lines differ by (or a hostile one)."""
    kind = rng.randrange(12)
    if kind == 0:  # another number in place of a digit run
        digits = [i for i, c in enumerate(text) if c.isdigit()]
        if digits:
            at = rng.choice(digits)
            return text[:at] + str(rng.randrange(10 ** rng.randrange(1, 5))) + text[at + 1 :]
    if kind == 1:
        return text.replace("403", rng.choice(["404", "403", "4030", "1403"]))
    if kind == 2:
        return text.replace("4000", rng.choice(["4002", "4019", "4020", "40000", "4000"]))
    if kind == 3:
        return text.replace("500", rng.choice(["502", "500", "5000"]))
    if kind == 4:
        at = rng.randrange(len(text) + 1)
        return text[:at] + f" id={_id(rng)} " + text[at:]
    if kind == 5:
        return text.replace("a", "\u00e9", 1) if rng.random() < 0.5 else "\u212a" + text
    if kind == 6:
        return text.replace("4", "\\u0034", 1)
    if kind == 7:  # a wrap by a log viewer, mid-word
        at = rng.randrange(len(text) + 1)
        return text[:at] + "\n" + text[at:]
    if kind == 8:
        return text + "\r"
    if kind == 9:
        return text.upper() if rng.random() < 0.3 else text.lower()
    if kind == 10:  # a time-out whose number decides (an opaque signature)
        return text + f" timed out after {rng.choice([5, 59, 60, 61, 600])} s"
    return text


def _line(rng: random.Random, shared: list[str], tidy: bool, kind: int | None = None) -> str:
    """One line; `tidy`: one that starts a record and stays one line (a dense block's kind);
    `kind`: the log's kind of id (`_id`)."""
    m, s, ms = rng.randrange(60), rng.randrange(60), rng.randrange(1000)
    ts = rng.choice(STAMPS[:3] if tidy else STAMPS).format(m=m, s=s, ms=ms)
    ids = [_id(rng, kind), _id(rng, kind)]
    if shared and rng.random() < 0.4:
        ids[0] = rng.choice(shared)
    shared.append(ids[0])
    pick = rng.randrange(10)
    if pick < 3:
        text = COSMOS.format(ts=ts, id1=ids[0], id2=ids[1], status=403, sub=4000)
    elif pick < 6:
        text = CAMPAIGN.format(ts=ts, id1=ids[0], status=500, n=rng.randrange(3000))
    elif pick == 6:
        text = TIMEOUT.format(ts=ts, id1=ids[0], n=rng.choice([5, 60, 90]))
    elif pick == 7:
        filler = [f for f in FILLER if not tidy or not f.startswith(" ")]
        text = rng.choice(filler).format(ts=ts, id1=ids[0], n=rng.randrange(10**6))
    else:
        text = rng.choice(TIDY if tidy else REAL)
    while rng.random() < 0.4:
        mutated = _mutate(text, rng)
        if not tidy or ("\n" not in mutated and records.starts(mutated.encode())):
            text = mutated
    return text


def _log(seed: int, size: int) -> bytes:
    """A log of `size` lines; most logs tidy (every line a record: read whole when dense)."""
    rng = random.Random(seed)
    tidy = rng.random() < 0.7
    shared: list[str] = []
    kind = rng.randrange(11)
    lines = [_line(rng, shared, tidy, kind) for _ in range(size)]
    if not tidy and rng.random() < 0.3:
        lines.insert(rng.randrange(len(lines) + 1), "")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def seen(scanner: Scanner, blocks: list[bytes]) -> list[tuple[Any, ...]]:
    """Every record that shows a cause: line, (code, signatures, line in record)..., time, ids."""
    found = []
    for batches in scanner.batches(blocks):
        for batch in batches:
            for line, text, when, ids in zip(
                batch.lines, batch.texts, batch.times, batch.ids, strict=True
            ):
                hits = tuple((h.code, h.signatures, h.line) for h in batch.entry.hits)
                found.append((line, hits, when, ids, batch.entry.server_error, text))
    return sorted(found, key=lambda r: r[0])


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_the_whole_corpus_gives_the_verdicts_it_gave_before_the_cache(fast: bool) -> None:
    before = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    now = verdicts(FAST if fast else PLAIN)
    assert set(before) <= set(now), sorted(set(before) - set(now))  # no input of it dropped
    changed = {name: (before[name], now[name]) for name in before if before[name] != now[name]}
    assert not changed, json.dumps(changed, indent=1, ensure_ascii=False)[:4000]
    assert sum(map(len, before.values())) > 500


def test_inputs_added_since_the_snapshot_read_the_same_fast_and_plain() -> None:
    """The corpus grows (real-world texts, samples of new signatures): on what the snapshot does
    not hold, the fast path gives what the plain one gives."""
    before = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    fast, plain = verdicts(FAST), verdicts(PLAIN)
    added = sorted(set(plain) - set(before))
    assert added  # the corpus has grown since b716be6 (files 68 on, newer samples)
    assert {n: fast[n] for n in added} == {n: plain[n] for n in added}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=2**32),
    size=st.integers(min_value=1, max_value=60),
    cuts=st.lists(st.integers(min_value=0, max_value=1 << 16), max_size=6),
)
def test_fast_and_plain_paths_agree_record_by_record(seed: int, size: int, cuts: list[int]) -> None:
    data = _log(seed, size)
    plain = seen(PLAIN, [data])
    assert seen(FAST, _cut(data, cuts)) == plain
    assert seen(DENSE, _cut(data, cuts)) == plain


def test_the_random_logs_reach_the_dense_reading_and_its_cache() -> None:
    """The property above is not vacuous: dense blocks are read, and records share entries."""
    scanner = Scanner(SIGNATURES, dense_hits=1)
    calls = []
    original = scanner._dense

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        calls.append(result is not None)
        return result

    scanner._dense = spy  # type: ignore[method-assign]
    tidy = [seed for seed in range(40) if random.Random(seed).random() < 0.7]
    data = b"".join(_log(seed, 80) for seed in tidy[:5])  # (each with its kind of id)
    found = seen(scanner, [data])
    assert any(calls), "no block was read whole"
    entries = {id(b.entry) for batches in scanner.batches([data]) for b in batches}
    assert len(found) > 2 * len(entries) > 0, "records should share cached entries"
    assert any(r[2] is not None for r in found) and any(r[3] for r in found)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32), size=st.integers(1, 80))
def test_the_use_case_gives_one_document_both_ways(
    seed: int, size: int, tmp_path_factory: Any
) -> None:
    path = tmp_path_factory.mktemp("log") / "app.log"
    path.write_bytes(_log(seed, size))
    fast = to_document(explain([str(path)], CATALOGUE))
    plain = to_document(explain([str(path)], CATALOGUE, fast=False))
    assert fast == plain


def test_the_shipped_catalogue_masks_all_but_its_own_numbers() -> None:
    plan = masking.plan(SIGNATURES)
    # the one signature that compares a number it reads is keyed exactly when present
    assert plan.opaque_signatures == ("call.timeout #0",)
    assert set(plan.opaque_anchors) == {"timed out", "timeout", "time-out", "deadline exceeded"}
    for kept in ("403", "4000", "4019", "500", "7000112", "401013", "msg\\-0"):
        assert kept in plan.protected, kept
    assert "40[23456789][0-9]" in plan.protected  # cosmos.revoked.other's sub-status
    # a context before a segment is kept only where the bare segment is not protected
    assert "msg\\-[0-9]{6,6}\\-4[0-9][0-9]" in plan.protected
    assert not any(p.endswith("500") and p != "500" and "msg" in p for p in plan.protected)
    assert plan.placeholder and plan.placeholder.decode() not in " ".join(
        a for s in SIGNATURES for a in s.anchors
    )


@pytest.mark.parametrize(
    "pattern",
    [r"a(\d)\1", r"[^4]x", r"[a-z4]+", r"(x)?(?(1)4|5)"],
    ids=["back-reference", "negated-digit", "mixed-class", "conditional"],
)
def test_patterns_the_analysis_cannot_follow_are_opaque(pattern: str) -> None:
    with pytest.raises(masking.Opaque):
        masking.protected_patterns(pattern)


@pytest.mark.parametrize(
    ("pattern", "protected"),
    [
        (r"status[^\w\n]{0,4}403\b", ["403"]),
        (r"msg-\d{6}-4\d\d\b", ["msg\\-[0-9]{6,6}\\-4[0-9][0-9]"]),
        (r"(?:40|50)[2-9]", ["(?:40|50)[23456789]"]),
        (r"http/\d(?:\.\d)?\s*\d+", []),  # every digit alike: nothing to keep
        (r"[^()]{0,1500}\(4002\)", ["4002"]),
    ],
)
def test_the_digits_a_pattern_tells_apart_are_kept(pattern: str, protected: list[str]) -> None:
    assert masking.protected_patterns(pattern) == protected


def test_a_catalogue_id_is_not_replaced() -> None:
    """An id written in a signature (a well-known application) stays as it is."""
    app = "a232010e-820c-4083-83bb-3ace5fc29d0b"
    spec = {"text": f"application {app} was not found", "anchors": ["was not found"]}
    from diagnose.triage import signatures as sigs

    anchors, conditions = sigs.compile_signature(spec, "test")
    sig = sigs.Signature(
        "x.y", "rb", 1, SIGNATURES[0].severity, 0, tuple(anchors), tuple(conditions)
    )
    scanner = Scanner([sig])
    text = f"the application {app} was not found; request {masking.UUID.decode()[:0]}"
    assert scanner.verdicts.canonical(text.encode()) == text.encode()
    assert [m.code for m in scanner.scan([text.encode()], "x")] == ["x.y"]
    other = text.replace(app, "b232010e-820c-4083-83bb-3ace5fc29d0b")
    assert [m.code for m in scanner.scan([other.encode()], "x")] == []
    assert Path(SNAPSHOT).exists()


def test_without_hyperscan_the_fast_path_agrees_too() -> None:
    """The `re` engines (no hyperscan wheel for the platform) give the same records."""
    scanner = Scanner(SIGNATURES, engine="re", dense_hits=1)
    for seed in range(12):
        data = _log(seed, 50)
        assert seen(scanner, _cut(data, [seed * 997, seed * 4001])) == seen(PLAIN, [data])


def _incident(rng: random.Random, size: int) -> bytes:
    """An incident log whose numbers sometimes hold a code the signatures tell apart (a
    latency of 403 ms, a millisecond field reading 500, a status that is 404 on one line
    and 403 on the next), whose ids are UUIDs, trace and span ids (`_id`), sometimes no id
    (a word character next to one, one hex digit too many), and whose fields sometimes
    hold a hex letter where the other lines hold a digit."""
    out = []
    kind = rng.randrange(11)
    for k in range(size):
        ms = rng.choice(["037", "401", "403", "500", "999", "4b1"])
        m, sec = k % 60, rng.randrange(60)
        ts = rng.choice(  # times of one length whose separators and halves of the day differ
            [
                f"2026-11-26T03:{m:02d}:{sec:02d}.{ms}Z",
                f"2026-11-26T03:{m:02d}:{sec:02d},{ms}Z",
                f"11/26/2026, 3:{m:02d}:{sec:02d}.{ms} AM",
                f"11/26/2026, 3:{m:02d}:{sec:02d}.{ms} PM",
            ]
        )
        id1 = _id(rng, kind)
        odd = rng.random()
        if odd < 0.1:
            id1 = "x" + id1  # a word character before: no UUID
        elif odd < 0.2:
            id1 += "a"  # one hex digit too many: no UUID
        if k % 2:
            latency = rng.choice(["12", "403", "4000", "1500", "500", "4a0", "4019"])
            status = rng.choice(["500", "500", "502", "401", "404"])
            out.append(CAMPAIGN.format(ts=ts, id1=id1, status=status, n=latency))
        else:
            sub = rng.choice(["4000", "4000", "4002", "4019", "4a00"])
            status = rng.choice(["403", "403", "404", "401", "409"])
            out.append(COSMOS.format(ts=ts, id1=id1, id2=_id(rng, kind), status=status, sub=sub))
    return ("\n".join(out) + "\n").encode()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32), size=st.integers(1, 400))
def test_numbers_that_matter_in_fields_that_usually_do_not(seed: int, size: int) -> None:
    """The dense reading's shapes (`shapes.py`): a run that usually varies freely but now
    and then holds a protected code, ids that only nearly are UUIDs, a letter in place of
    a digit; each such line gets its own answer, as on the plain path."""
    data = _incident(random.Random(seed), size)
    plain = seen(PLAIN, [data])
    assert seen(DENSE, [data]) == plain
    assert seen(FAST, _cut(data, [seed % 9973])) == plain


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(
        st.sampled_from(
            [
                "a1b2c3d4-e5f6-4789-90ab-cdef01234567",
                "4bf92f3577b34da6",  # a span id
                "4bf92f3577b34da6a3ce929d0e0e4736",  # a trace id
                "1234567890123456",  # all digits: an id as well
                "-",
                "_",
                "x",
                "h",
                "H",
                " ",
                "0",
                "f",
                "\n",
                "ab",
            ]
        ),
        max_size=14,
    ).map("".join)
)
def test_a_shape_is_the_canonical_text_with_its_digits_masked(text: str) -> None:
    """Ids found in the hex-alike text are the ones the engine finds (UUIDs, 32- and
    16-hex runs; an `h` of the text is no hex digit)."""
    data = text.encode()
    verdicts = FAST.verdicts
    expected = verdicts.canonical(data).translate(masking.DIGITS_MASKED)
    assert shapes.mask(data, verdicts.shapes.fill) == expected


def _traced(rng: random.Random, size: int) -> bytes:
    """An incident as Application Insights / OpenTelemetry write it: a bare 32-hex trace id,
    a 16-hex span id and `traceparent` on every line, no UUID."""
    out = []
    for k in range(size):
        trace, span = f"{rng.getrandbits(128):032x}", f"{rng.getrandbits(64):016x}"
        ts = f"2026-11-26T03:{k % 60:02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z"
        if k % 2:
            line = CAMPAIGN.format(ts=ts, id1=trace, status=500, n=rng.randrange(3000))
            out.append(line.replace('"level"', f'"traceparent":"00-{trace}-{span}-01","level"'))
        else:
            out.append(COSMOS.format(ts=ts, id1=span, id2=trace, status=403, sub=4000))
    return ("\n".join(out) + "\n").encode()


def test_records_that_differ_only_in_trace_ids_share_a_verdict() -> None:
    """Bare hex trace and span ids are ids (`masking.ID_PATTERNS`): an incident log holding
    one on every line is read at one verdict per shape, with the plain path's answers."""
    data = _traced(random.Random(5), 400)
    scanner = Scanner(SIGNATURES, dense_hits=1)
    found = seen(scanner, [data])
    assert found == seen(PLAIN, [data])
    assert len(found) == 400
    entries = {id(b.entry) for batches in scanner.batches([data]) for b in batches}
    assert len(entries) <= 2 * 4  # two kinds of line; a latency of one to four digits
    canon = scanner.verdicts.canonical(data.split(b"\n")[1])
    assert b"j" * 32 in canon and b"00-" + b"j" * 32 + b"-" + b"j" * 16 + b"-01" in canon


@pytest.mark.parametrize("digits", [16, 32])
def test_no_code_the_signatures_tell_apart_lies_inside_a_hex_id(digits: int) -> None:
    """Replacing a bare hex id never hides a code: each protected code, written inside an
    id (at its start, middle or end) right after each context the catalogue reads codes
    in, gives the same causes with the id as read and with it replaced."""
    verdicts = FAST.verdicts
    codes = [p for p in verdicts.plan.protected if p.isdigit()]
    contexts = [
        "status ",
        "status: ",
        "Substatus: ",
        "returned ",
        "HTTP/1.1 ",
        '"error_codes":[',
        "AADSTS",
        "(",
        "msg-000500-",
        "error code ",
        "timed out after ",
    ]
    assert len(codes) > 20
    for code in codes:
        for at in (0, (digits - len(code)) // 2, digits - len(code)):
            token = ("ab" * digits)[:at] + code + ("cd" * digits)[: digits - at - len(code)]
            for context in contexts:
                text = f"ERROR {context}{token} ) revoked forbidden (403) 500".encode()
                canon = verdicts.canonical(text)
                assert (canon != text) is (not context[-1].isalnum()), text  # AADSTS<id>: no id
                assert verdicts.hits([text]) == verdicts.hits([canon]), text
