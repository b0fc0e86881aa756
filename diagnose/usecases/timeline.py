"""The core of `diagnose timeline` (and `run --what-changed`): every source asked at once, merged.

Each source answers on its own: one refused (a right the diagnosing identity lacks) is a
limitation of that source, and the others still answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from diagnose.errors import ToolLimitation
from diagnose.exitstatus import ExitStatus, decide
from diagnose.model import Limitation, Severity
from diagnose.profile import Profile, is_key_uri
from diagnose.timeline import activity, changes, entra, logs
from diagnose.timeline import evidence as sightings
from diagnose.timeline.merge import merge
from diagnose.timeline.model import Event, Query, SourceReport, Targets, Timeline
from diagnose.timeline.window import DEFAULT_SINCE, parse_since, window_end

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential


def targets_of(profile: Profile) -> Targets:
    key_arm_id = None
    if profile.keyvault_id and profile.key_id and is_key_uri(profile.key_id):
        name = profile.key_id.rstrip("/").split("/keys/", 1)[1].split("/")[0]
        key_arm_id = f"{profile.keyvault_id.rstrip('/')}/keys/{name}"
    return Targets(
        principal_app_id=profile.principal_app_id,
        vault_id=profile.keyvault_id.rstrip("/") if profile.keyvault_id else None,
        key_arm_id=key_arm_id,
        cosmos_id=profile.cosmos_id.rstrip("/") if profile.cosmos_id else None,
        subscription_id=profile.subscription_id,
    )


def default_since() -> datetime:
    """The start of the default window (`--since 7d`)."""
    return parse_since(DEFAULT_SINCE, datetime.now(UTC))


def kql_notes(profile: Profile) -> list[str]:
    """What `--kql` (which reads no service) cannot print that a run would ask: the vault's and
    key's queries when the profile leaves them to be derived from the account."""
    if profile.topology == "own" and profile.cosmos_id and not profile.keyvault_id:
        return [
            "the profile names no key vault (keyvault_id): a run derives it from the account's "
            "keyVaultKeyUri and asks Key Vault's logs too; --kql reads no service, so set "
            "keyvault_id (`diagnose profile show` says what a run derives) to print those queries"
        ]
    return []


def queries(profile: Profile, since: datetime, until: datetime) -> list[Query]:
    """Every Log Analytics and Resource Graph query the timeline runs (`--kql`)."""
    targets = targets_of(profile)
    return [
        *changes.plan(targets, since, until),
        *(q for found in logs.plan(profile, targets, since, until).values() for q in found),
    ]


def _sources() -> dict[str, SourceReport]:
    found = [entra.report(), activity.report(), changes.report(), *logs.reports()]
    return {s.name: s for s in found}


def _guarded(reports: Sequence[SourceReport], work: Callable[[], list[Event]]) -> list[Event]:
    """The events of the sources one job reads; a ToolLimitation, or a crash, becomes the
    limitation of each of them that has none yet, not the run's: a source is never left looking
    answered."""
    try:
        return work()
    except ToolLimitation as exc:
        for each in reports:
            each.limitation = each.limitation or Limitation(exc.reason, exc.permission)
    except Exception as exc:  # noqa: BLE001 - one source's failure never hides the others
        for each in reports:
            each.limitation = each.limitation or Limitation(
                f"{each.title} could not be read: {type(exc).__name__}: {str(exc)[:200]}"
            )
    return []


def build(
    profile: Profile,
    since: datetime,
    until: datetime | None = None,
    evidence: Sequence[str] = (),
    credential: TokenCredential | None = None,
) -> Timeline:
    from diagnose.azure import credential as credentials
    from diagnose.azure import rest
    from diagnose.usecases import derive

    until = until or window_end()
    cred = credential or credentials.SharedTokens(credentials.build(profile), profile.tenant_id)
    profile, derived = derive.for_profile(profile, cred, principal=True)  # as `run` derives
    targets = targets_of(profile)
    reports = _sources()
    timeline = Timeline(since, until, [], list(reports.values()))
    graph, arm = rest.graph(profile, cred), rest.arm(profile, cred)
    unasked = _unasked(targets)
    # each job, by the sources it reads (Log Analytics answers for both logs at once)
    work: dict[tuple[str, ...], Callable[[], list[Event]]] = {
        (entra.NAME,): lambda: entra.collect(
            graph, targets.principal_app_id or "", since, until, reports[entra.NAME]
        ),
        (activity.NAME,): lambda: activity.collect(
            arm, targets, since, until, reports[activity.NAME]
        ),
        (changes.NAME,): lambda: changes.collect(arm, targets, since, until, reports[changes.NAME]),
        (logs.KEY_VAULT, logs.COSMOS): lambda: logs.collect(
            profile, cred, targets, since, until, reports, entra.Names(graph)
        ),
    }
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="timeline") as pool:
        jobs = []
        for names, collect in work.items():
            asked = [reports[n] for n in names if n not in unasked]
            if asked:
                jobs.append(pool.submit(_guarded, asked, collect))
        events = [e for job in jobs for e in job.result()]
    for name, missing in unasked.items():
        reports[name].notes.append(f"not asked: the profile names {missing}")
        reports[name].notes += [f"not derived from the account: {note}" for note in derived.notes]
    for report in reports.values():
        report.events = sum(1 for e in events if e.source == report.name)
        _note_reach(report, since, until)
    if evidence:
        found, report = sightings.collect(evidence)
        timeline.sources.append(report)
        events += found
    return merge(timeline, events)


_NO_ARM_ID = "no vault, key or Cosmos DB account (keyvault_id, key_id, cosmos_id)"


def _unasked(targets: Targets) -> dict[str, str]:
    """Per source the profile gives nothing to ask about: what it would have to name."""
    needs = {
        entra.NAME: (targets.principal_app_id, "no CMK principal (principal_app_id)"),
        activity.NAME: (targets.arm_ids(), _NO_ARM_ID),
        changes.NAME: (targets.arm_ids(), _NO_ARM_ID),
        logs.KEY_VAULT: (targets.vault_id, "no key vault (keyvault_id)"),
        logs.COSMOS: (targets.cosmos_id, "no Cosmos DB account (cosmos_id)"),
    }
    return {name: missing for name, (named, missing) in needs.items() if not named}


_REACH_DAYS = {source.NAME: source.REACH_DAYS for source in (entra, activity, changes)}


def _note_reach(report: SourceReport, since: datetime, until: datetime) -> None:
    days = _REACH_DAYS.get(report.name)
    if days is not None and (until - since).days >= days:
        report.notes.append(f"the window starts more than {days} days back: older records are gone")


def exit_status(timeline: Timeline) -> ExitStatus:
    """1 when a service recorded failures in the window, else 3 when a source could not answer, else 0."""
    return decide(
        [Severity.FAIL] if timeline.failures else [], undecided=bool(timeline.limitations)
    )
