"""The catalogue: runbooks, their steps, and the causes that point at them.

Each runbook is one Markdown file in `runbooks/` whose YAML front matter holds the
machine part (steps, causes, signatures) and whose body holds the human text.
Nothing else in the program knows remediation text. A remediation line may name the
values a run reads (`{vault_id}`, ...): `Cause.templates` keeps the lines as written,
`Cause.remediation` shows each field as a placeholder that names it, and
`diagnose.remediation.fill` puts a run's values in (docs in that module).

Runbook directories beyond the shipped one (for extensions and tests) join it:
`load(extra=[...])`, or, for `default()`, the directories named in the
`DIAGNOSE_RUNBOOKS` variable (separated like PATH). A cause or runbook id may be
defined only once across all of them.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from diagnose import remediation as fields
from diagnose.errors import InputError
from diagnose.model import Severity, StepRef


class CatalogueError(InputError):
    """The catalogue on disk is malformed (a bug in the shipped data, or a bad extra runbook directory)."""


@dataclass(frozen=True)
class Fix:
    id: str
    title: str
    permission: str


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    checks: tuple[str, ...] = ()
    fixes: tuple[Fix, ...] = ()
    text: str = ""


@dataclass(frozen=True)
class Cause:
    code: str
    runbook: str
    step: int | None
    severity: Severity
    title: str
    remediation: tuple[str, ...]  # the lines with placeholders that name the fields
    signatures: tuple[dict[str, Any], ...] = ()
    templates: tuple[str, ...] = ()  # the lines as written, `{field}`s included

    @property
    def ref(self) -> StepRef:
        return StepRef(self.runbook, self.step)


@dataclass(frozen=True)
class Runbook:
    id: str
    title: str
    summary: str
    sources: tuple[str, ...]
    steps: tuple[Step, ...]
    causes: tuple[Cause, ...]
    body: str
    path: Path

    def step(self, number: int) -> Step | None:
        return next((s for s in self.steps if s.number == number), None)


@dataclass
class Catalogue:
    version: str
    runbooks: dict[str, Runbook] = field(default_factory=dict)
    causes: dict[str, Cause] = field(default_factory=dict)

    def cause(self, code: str) -> Cause:
        try:
            return self.causes[code]
        except KeyError:
            raise CatalogueError(f"cause code {code!r} is not in the catalogue") from None

    def runbook(self, runbook_id: str) -> Runbook:
        try:
            return self.runbooks[runbook_id]
        except KeyError:
            known = ", ".join(sorted(self.runbooks))
            raise CatalogueError(f"no runbook {runbook_id!r} (known: {known})") from None


def catalogue_dir() -> Path:
    """The shipped catalogue: inside the wheel, or `runbooks/` of a source checkout."""
    packaged = resources.files("diagnose") / "runbooks"
    if packaged.is_dir():
        return Path(str(packaged))
    source = Path(__file__).resolve().parent.parent / "runbooks"
    if source.is_dir():
        return source
    raise CatalogueError("the runbook catalogue is missing from this installation")


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.S)
_STEP_HEADING = re.compile(r"^## Step (\d+)\b.*$", re.M)


def _split(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise CatalogueError(f"{path.name}: no YAML front matter between '---' lines")
    try:
        meta = yaml.load(match.group(1), Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path.name}: front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise CatalogueError(f"{path.name}: front matter must be a mapping")
    return meta, match.group(2)


def _step_texts(body: str) -> dict[int, str]:
    """The body's `## Step N` sections, by step number."""
    heads = list(_STEP_HEADING.finditer(body))
    texts: dict[int, str] = {}
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(body)
        section = body[head.end() : end]
        section = re.split(r"^## ", section, maxsplit=1, flags=re.M)[0]
        texts[int(head.group(1))] = section.strip()
    return texts


def _load_runbook(path: Path) -> Runbook:
    meta, body = _split(path)
    rid = meta.get("id")
    if rid != path.stem:
        raise CatalogueError(f"{path.name}: id {rid!r} does not match the file name")
    texts = _step_texts(body)
    steps = tuple(
        Step(
            number=int(s["step"]),
            title=str(s["title"]),
            checks=tuple(s.get("checks") or ()),
            fixes=tuple(
                Fix(id=f["id"], title=f["title"], permission=f.get("permission", ""))
                for f in s.get("fixes") or ()
            ),
            text=texts.get(int(s["step"]), ""),
        )
        for s in meta.get("steps") or ()
    )
    causes = []
    for c in meta.get("causes") or ():
        remediation = c.get("remediation") or ()
        if not all(isinstance(line, str) for line in remediation):
            # an unquoted "text: more text" line is a YAML mapping, not the sentence it looks like
            raise CatalogueError(
                f"{path.name}: cause {c.get('code')}: every remediation line must be a string"
            )
        unknown = sorted({name for line in remediation for name in fields.unknown_fields(line)})
        if unknown:
            raise CatalogueError(
                f"{path.name}: cause {c.get('code')}: remediation names unknown field(s) "
                f"{', '.join('{' + u + '}' for u in unknown)} (known: {', '.join(sorted(fields.FIELDS))})"
            )
        try:
            causes.append(
                Cause(
                    code=str(c["code"]),
                    runbook=rid,
                    step=c.get("step"),
                    severity=Severity(c.get("severity", "fail")),
                    title=str(c["title"]),
                    remediation=tuple(fields.generic(line) for line in remediation),
                    signatures=tuple(c.get("signatures") or ()),
                    templates=tuple(remediation),
                )
            )
        except (KeyError, ValueError) as exc:
            raise CatalogueError(f"{path.name}: cause {c!r} is malformed: {exc}") from None
    return Runbook(
        id=rid,
        title=str(meta.get("title", rid)),
        summary=str(meta.get("summary", "")),
        sources=tuple(meta.get("sources") or ()),
        steps=steps,
        causes=tuple(causes),
        body=body,
        path=path,
    )


EXTRA_RUNBOOKS_VARIABLE = "DIAGNOSE_RUNBOOKS"


def load(directory: Path | None = None, extra: Iterable[Path] = ()) -> Catalogue:
    """The catalogue of `directory` (default: the shipped one) plus the runbooks of `extra` directories.

    The version is `directory`'s.
    """
    directory = directory or catalogue_dir()
    version_file = directory / "VERSION"
    version = version_file.read_text().strip() if version_file.exists() else "unversioned"
    catalogue = Catalogue(version=version)
    for folder in (directory, *extra):
        if not folder.is_dir():
            raise CatalogueError(f"the runbook directory {folder} does not exist")
        for path in sorted(folder.glob("*.md")):
            runbook = _load_runbook(path)
            if runbook.id in catalogue.runbooks:
                raise CatalogueError(f"{path}: runbook {runbook.id} is defined twice")
            catalogue.runbooks[runbook.id] = runbook
            for cause in runbook.causes:
                if cause.code in catalogue.causes:
                    raise CatalogueError(f"{path.name}: cause {cause.code} is defined twice")
                catalogue.causes[cause.code] = cause
    return catalogue


def extra_dirs() -> tuple[Path, ...]:
    """The runbook directories named in DIAGNOSE_RUNBOOKS, in order."""
    value = os.environ.get(EXTRA_RUNBOOKS_VARIABLE, "")
    return tuple(Path(p) for p in value.split(os.pathsep) if p.strip())


def default() -> Catalogue:
    """The shipped catalogue plus DIAGNOSE_RUNBOOKS's directories, loaded once per process (per value)."""
    return _cached(extra_dirs())


@functools.cache
def _cached(extra: tuple[Path, ...]) -> Catalogue:
    return load(extra=extra)
