"""The fleet lab honours the connection faults (dns, refused, wrong-cert) as the one-account lab
does: `run --all` names each account it could not decide, with what happened, and still decides
the rest from the services it reached."""

from __future__ import annotations

import pytest

from tests.harness import Cli, CliResult

BROKEN = {"principal.disabled": 2, "key.disabled": 1}


def run_all_with(cli: Cli, fault: str, *args: str) -> CliResult:
    """`run --all` on the 12-account fleet lab with `fault` set."""
    return cli(
        "run",
        "--all",
        "--lab",
        "fleet:12",
        "--timeout",
        "60",
        *args,
        env={"DIAGNOSE_LAB_FAULTS": fault, "DIAGNOSE_LAB_PROPAGATION_S": "0.05"},
    )


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("vault:refused", "Key Vault: the connection was refused"),
        ("vault:dns", "Key Vault: the name does not resolve (https://vault.lab.invalid:"),
        ("vault:wrong-cert", "Key Vault: certificate verify failed"),
    ],
)
def test_an_unreachable_key_vault_leaves_its_accounts_undecided_and_named(
    cli: Cli, fault: str, said: str
) -> None:
    result = run_all_with(cli, fault, "-o", "json")
    assert result.exit_code == 1, result  # the broken accounts are still found (ARM, Graph)
    doc = result.json("diagnose/fleet@1")
    undecided = [a for a in doc["accounts"] if a["status"] == "undecided"]
    assert len(undecided) == 9 and all(said in a["reason"] for a in undecided), undecided[:1]
    failing = [a["root_cause"] for a in doc["accounts"] if a["status"] == "failing"]
    assert {c: failing.count(c) for c in set(failing)} == BROKEN


@pytest.mark.parametrize("fault", ["arm:refused", "arm:dns", "arm:wrong-cert"])
def test_an_unreachable_resource_graph_is_exit_3_in_one_line(cli: Cli, fault: str) -> None:
    result = run_all_with(cli, fault)
    assert result.exit_code == 3, result
    assert "Resource Graph:" in result.stderr and "Traceback" not in result.output
