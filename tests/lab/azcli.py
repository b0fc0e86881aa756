"""The Azure CLI signed in to a lab, registered as a custom cloud (docs/lab.md "Rehearsing with the
Azure CLI"): `AzureCli(lab, config_dir).login(app_id, secret)` then `cli("keyvault", "show", ...)`.

`AZ` is the executable (DIAGNOSE_TEST_AZ, else `az` on PATH), None when the CLI is not installed:
the tests that use it skip then. The CLI keeps the secret and its tokens in clear under its config
folder: every test gives it a throwaway one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from diagnose.lab import Lab
from tests.harness import clean_environ

AZ = os.environ.get("DIAGNOSE_TEST_AZ") or shutil.which("az")
needs_az = pytest.mark.skipif(not AZ, reason="the Azure CLI (az) is not installed")


class AzureCli:
    def __init__(self, lab: Lab, config_dir: Path) -> None:
        self.lab = lab
        self.env = clean_environ(
            {
                "AZURE_CONFIG_DIR": str(config_dir),
                "AZURE_CORE_INSTANCE_DISCOVERY": "false",
                "AZURE_CORE_COLLECT_TELEMETRY": "false",
                "AZURE_CORE_NO_COLOR": "true",
                "AZURE_CORE_ONLY_SHOW_ERRORS": "true",
                "REQUESTS_CA_BUNDLE": lab.ca_bundle,
            }
        )

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert AZ is not None
        result = subprocess.run(
            [AZ, *args], capture_output=True, text=True, env=self.env, timeout=120
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"az {' '.join(args[:4])} failed ({result.returncode}): {result.stderr[-2000:]}"
            )
        return result

    def login(self, app_id: str, secret: str) -> AzureCli:
        """Register the lab as the cloud `DiagnoseLab` and sign in with a service principal."""
        env = self.lab.env
        self(
            "cloud",
            "register",
            "-n",
            "DiagnoseLab",
            "--endpoint-resource-manager",
            env["DIAGNOSE_ARM_URL"] + "/",
        )
        self("cloud", "set", "-n", "DiagnoseLab")
        self(
            "login",
            "--service-principal",
            "-u",
            app_id,
            f"--password={secret}",  # a secret may start with '-' (the CLI's own advice)
            "--tenant",
            env["AZURE_TENANT_ID"],
        )
        return self
