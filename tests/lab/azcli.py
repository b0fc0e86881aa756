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


def _az_version() -> str | None:
    """The CLI's own version, read by its Python without running `az` (which would check online)."""
    if not AZ:
        return None
    python = Path(AZ).resolve().parent / "python"
    if not python.exists():
        return None
    out = subprocess.run(
        [str(python), "-c", "from azure.cli.core import __version__; print(__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.strip() or None


def seed_version_check(config_dir: Path) -> None:
    """A fresh config folder makes the CLI look up its latest version online at start (its
    `handle_version_update`): a version cache saying "checked just now" keeps it on the machine."""
    import datetime
    import json

    version = _az_version()
    if not version:
        return
    config_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")
    local = {"local": version, "pypi": version}
    (config_dir / "versionCheck.json").write_text(
        json.dumps({"versions": {"core": local, "azure-cli": local}, "update_time": now})
    )


class AzureCli:
    def __init__(self, lab: Lab, config_dir: Path) -> None:
        self.lab = lab
        seed_version_check(config_dir)
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
