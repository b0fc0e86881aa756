"""The lab: a local stand-in for Entra ID, Graph, ARM, Key Vault, Cosmos DB, Adobe IMS and AJO.

`Lab(scenario)` starts every service over HTTPS on loopback, behind one world
model that the scenario edits; `faults=[...]` puts faults between the tool and the
services (diagnose/lab/faults.py); see docs/lab.md for the contract. `Lab` (and the
cryptography it needs) is imported on first use, so listing `SCENARIOS` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from diagnose.lab.faults import BadFault, parse_faults
from diagnose.lab.scenarios import SCENARIOS

if TYPE_CHECKING:
    from diagnose.lab.lab import Lab, UnknownScenario

__all__ = ["SCENARIOS", "BadFault", "Lab", "UnknownScenario", "parse_faults"]


def __getattr__(name: str) -> object:
    if name in ("Lab", "UnknownScenario"):
        from diagnose.lab import lab

        return getattr(lab, name)
    raise AttributeError(f"module 'diagnose.lab' has no attribute {name!r}")
