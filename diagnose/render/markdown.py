"""Markdown helpers the renderers share."""

from __future__ import annotations


def cell(value: object) -> str:
    """Text made safe for one Markdown table cell or list item (no pipe, no line break)."""
    return str(value).replace("|", "\\|").replace("\n", " ")
