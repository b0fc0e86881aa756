"""Personalization variables: those a payload carries (`profile.*`, `context.*`) and those a message uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCOPES = ("profile", "context")


def _leaves(prefix: str, value: object) -> set[str]:
    """Dotted paths of the leaves under `value` (a list or an empty object is a leaf)."""
    if isinstance(value, dict) and value:
        paths: set[str] = set()
        for key, inner in value.items():
            paths |= _leaves(f"{prefix}.{key}", inner)
        return paths
    return {prefix}


def _sources(payload: dict[str, Any]) -> list[tuple[int | None, dict[str, Any]]]:
    """(recipient index or None for the top level, the object holding profile/context)."""
    recipients = payload.get("recipients")
    sources: list[tuple[int | None, dict[str, Any]]] = [(None, payload)]
    if isinstance(recipients, list):
        sources += [(i, r) for i, r in enumerate(recipients) if isinstance(r, dict)]
    return sources


def carried_by(holder: dict[str, Any]) -> set[str]:
    paths: set[str] = set()
    for scope in SCOPES:
        if scope in holder:
            paths |= _leaves(scope, holder[scope])
    return paths


def carried(payload: dict[str, Any]) -> list[str]:
    """Every personalization variable the payload carries, anywhere, sorted."""
    paths: set[str] = set()
    for _, holder in _sources(payload):
        paths |= carried_by(holder)
    return sorted(paths)


def used_by(definition: dict[str, Any]) -> list[str]:
    """The variables the campaign's message uses, when its definition lists them."""
    listed = definition.get("personalization") or {}
    used: list[str] = []
    if isinstance(listed, dict):
        for scope in SCOPES:
            names = listed.get(scope) or []
            if isinstance(names, list):
                used += [
                    n if n.startswith(f"{scope}.") else f"{scope}.{n}"
                    for n in names
                    if isinstance(n, str)
                ]
    return used


def _has(paths: set[str], variable: str) -> bool:
    return any(p == variable or p.startswith(variable + ".") for p in paths)


@dataclass
class Missing:
    indexes: list[int | None] = field(default_factory=list)  # None: the payload's top level
    recipients: list[dict[str, Any]] = field(default_factory=list)


def missing(used: list[str], payload: dict[str, Any], kind: str) -> dict[str, Missing]:
    """variable -> where it is missing. Audience calls carry context only (profiles come from the
    audience); high-throughput calls carry no profile data, so only context is asked of them."""
    result: dict[str, Missing] = {}
    recipients = [(i, r) for i, r in _sources(payload) if i is not None]
    for variable in used:
        scope = variable.split(".", 1)[0]
        if kind == "highthroughput" and scope == "profile":
            continue
        if kind == "audience":
            if scope == "context" and not _has(carried_by(payload), variable):
                result[variable] = Missing([None], [])
            continue
        for index, recipient in recipients:
            if not _has(carried_by(recipient), variable):
                entry = result.setdefault(variable, Missing())
                entry.indexes.append(index)
                entry.recipients.append(recipient)
    return result
