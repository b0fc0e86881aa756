"""Write diagnose/lab/services/api_versions.json: the api-versions the Azure REST API specifications
publish for each resource type the lab serves.

A version is published for a type when its folder `…/{stable,preview}/<version>/` of the
specification holds the OpenAPI file that defines that type (for example `keys.json` for
`Microsoft.KeyVault/vaults/keys`, or the single `openapi.json` of a TypeSpec-generated version).

Input, one of:
  --specs DIR      a checkout of Azure/azure-rest-api-specs (a sparse one is enough); its files are
                   listed with `git ls-files` and its HEAD commit is recorded
  --paths FILE     a list of specification paths, one per line (default: scripts/spec-paths.txt)

    python scripts/gen_api_versions.py [--specs DIR | --paths FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = ROOT / "scripts" / "spec-paths.txt"
DEFAULT_OUT = ROOT / "diagnose" / "lab" / "services" / "api_versions.json"
SOURCE = "https://github.com/Azure/azure-rest-api-specs"

# resource type -> (specification folder, OpenAPI file names that define it)
TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Microsoft.KeyVault/vaults/accessPolicies": (
        "specification/keyvault/resource-manager/Microsoft.KeyVault/",
        ("keyvault.json", "openapi.json"),
    ),
    "Microsoft.Resources/subscriptions": (
        "specification/resources/resource-manager/Microsoft.Resources/",
        ("subscriptions.json",),
    ),
    "Microsoft.Resources/tenants": (
        "specification/resources/resource-manager/Microsoft.Resources/",
        ("subscriptions.json",),
    ),
    "Microsoft.Resources/resourceGroups": (
        "specification/resources/resource-manager/Microsoft.Resources/",
        ("resources.json",),
    ),
    "Microsoft.Authorization/roleAssignments": (
        "specification/authorization/resource-manager/Microsoft.Authorization/",
        ("authorization-RoleAssignmentsCalls.json", "authorization-RoleBasedCalls.json"),
    ),
    "Microsoft.Authorization/roleDefinitions": (
        "specification/authorization/resource-manager/Microsoft.Authorization/",
        ("authorization-RoleDefinitionsCalls.json", "authorization-RoleBasedCalls.json"),
    ),
    "Microsoft.KeyVault/vaults": (
        "specification/keyvault/resource-manager/Microsoft.KeyVault/",
        ("keyvault.json", "openapi.json"),
    ),
    "Microsoft.KeyVault/vaults/keys": (
        "specification/keyvault/resource-manager/Microsoft.KeyVault/",
        ("keys.json", "openapi.json"),
    ),
    "Microsoft.ManagedIdentity/userAssignedIdentities": (
        "specification/msi/resource-manager/Microsoft.ManagedIdentity/",
        ("ManagedIdentity.json", "openapi.json"),
    ),
    "Microsoft.DocumentDB/databaseAccounts": (
        "specification/cosmos-db/resource-manager/Microsoft.DocumentDB/",
        ("cosmos-db.json", "openapi.json"),
    ),
    "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments": (
        "specification/cosmos-db/resource-manager/Microsoft.DocumentDB/",
        ("rbac.json", "openapi.json"),
    ),
    "Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions": (
        "specification/cosmos-db/resource-manager/Microsoft.DocumentDB/",
        ("rbac.json", "openapi.json"),
    ),
}

# The first version whose file defines the type, where older files of the same name do not: the
# operation Vaults_UpdateAccessPolicy (PUT …/vaults/{vaultName}/accessPolicies/{operationKind}) is in
# keyvault.json from 2018-02-14-preview and 2018-02-14 on, not in 2015-06-01 or 2016-10-01
# (https://github.com/Azure/azure-rest-api-specs/blob/main/specification/keyvault/resource-manager/Microsoft.KeyVault/stable/2018-02-14/keyvault.json
# and …/2016-10-01/keyvault.json).
SINCE: dict[str, str] = {"Microsoft.KeyVault/vaults/accessPolicies": "2018-02-14"}

# …/(stable|preview)/<version>/<file>.json, the version a date with an optional suffix
_VERSION_FILE = re.compile(
    r"/(?:stable|preview)/(?P<ver>\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:-[a-z]+)?)/(?P<file>[^/]+\.json)$"
)


def versions_by_type(paths: list[str]) -> dict[str, list[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        m = _VERSION_FILE.search(path)
        if m is None:
            continue
        for rtype, (folder, files) in TYPES.items():
            since = SINCE.get(rtype, "")
            if path.startswith(folder) and m.group("file") in files and m.group("ver") >= since:
                found[rtype].add(m.group("ver"))
    missing = sorted(set(TYPES) - set(found))
    if missing:
        raise SystemExit(f"no specification file defines {', '.join(missing)}")
    return {t: sorted(found[t]) for t in sorted(found)}


def read_paths(args: argparse.Namespace) -> tuple[list[str], str]:
    if args.specs:

        def git(*words: str) -> str:
            command = ["git", "-C", str(Path(args.specs)), *words]
            return subprocess.run(command, check=True, capture_output=True, text=True).stdout

        listed = git("ls-files", "specification").splitlines()
        head = git("rev-parse", "HEAD").strip()
        return listed, f"{SOURCE} @ {head} (git ls-files)"
    text = Path(args.paths).read_text(encoding="utf-8").splitlines()
    paths = [line.strip() for line in text if line.strip() and not line.startswith("#")]
    commits = sorted(set(re.findall(r"\b[0-9a-f]{40}\b", "\n".join(text))))
    rel = Path(args.paths).resolve()
    shown = rel.relative_to(ROOT) if rel.is_relative_to(ROOT) else rel
    return paths, f"{SOURCE}, paths in {shown} (commits {', '.join(commits)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--specs", help="a checkout of Azure/azure-rest-api-specs")
    source.add_argument("--paths", default=str(DEFAULT_PATHS), help="a list of spec paths")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    paths, where = read_paths(args)
    types = versions_by_type(paths)
    data = {"source": where, "generated_by": "scripts/gen_api_versions.py", "types": types}
    Path(args.out).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    for rtype, versions in types.items():
        print(f"{rtype}: {len(versions)} api-versions, newest {versions[-1]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
