"""The lab: a local stand-in for Entra ID, Graph, ARM, Key Vault, Cosmos DB, Adobe IMS and AJO.

`Lab(scenario)` starts every service over HTTPS on loopback, behind one world
model that the scenario edits; see docs/lab.md for the contract.
"""

from diagnose.lab.lab import Lab, UnknownScenario
from diagnose.lab.scenarios import SCENARIOS

__all__ = ["SCENARIOS", "Lab", "UnknownScenario"]
