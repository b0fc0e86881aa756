"""A row of counts as one line of block characters, for terminals (delays' histograms,
explain's timelines)."""

from __future__ import annotations

_BARS = " ▁▂▃▄▅▆▇█"


def sparkline(bins: list[int]) -> str:
    """One character per histogram bin, scaled to the fullest bin; '·' for an empty bin."""
    top = max(bins) if bins else 0
    if not top:
        return "·" * len(bins)
    return "".join("·" if n == 0 else _BARS[max(1, round(n / top * 8))] for n in bins)
