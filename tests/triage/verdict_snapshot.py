"""The verdicts of the scanner on the whole existing corpus, as data: what the verdict
cache must not change.

`inputs()` gathers every text the triage tests know (the real-world corpus, every
sample of every signature in each framing of `test_signatures.py`, and the layouts of
the block-boundary test); `verdicts(scanner)` lists, per input, each match's code,
line, signatures and excerpt. `data/verdicts-before.json` holds them as the scanner
gave them before the verdict cache existed (commit b716be6), written by

    PYTHONPATH=<a checkout of b716be6> .venv/bin/python -m tests.triage.verdict_snapshot

`test_fastpath.py` holds today's scanner, fast and plain, to that file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).parent / "data" / "verdicts-before.json"


def inputs() -> dict[str, str]:
    from tests.triage.samples import SAMPLES
    from tests.triage.test_realworld import ENTRIES
    from tests.triage.test_scanner_stream import EVIDENCE, FILLER
    from tests.triage.test_signatures import FRAMINGS

    found = {f"realworld/{e.name}": e.text for e in ENTRIES}
    for code, texts in sorted(SAMPLES.items()):
        for i, text in enumerate(texts):
            for framing, frame in FRAMINGS.items():
                found[f"sample/{code}/{i}/{framing}"] = frame(text)
    found["stream/all"] = "\n".join(FILLER + EVIDENCE + FILLER[::-1] + EVIDENCE[::-1]) + "\n"
    return found


def verdicts(scanner: Any) -> dict[str, list[list[Any]]]:
    """Per input: [code, line, signatures, excerpt] of every match, in order."""
    return {
        name: [
            [m.code, m.line, list(m.signatures), m.excerpt]
            for m in scanner.scan([text.encode("utf-8")], name)
        ]
        for name, text in inputs().items()
    }


def main() -> int:
    from diagnose.catalogue import load
    from diagnose.triage.scanner import Scanner
    from diagnose.triage.signatures import compile_catalogue

    found = verdicts(Scanner(compile_catalogue(load())))
    SNAPSHOT.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(found)} inputs, {sum(map(len, found.values()))} matches -> {SNAPSHOT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
