"""The profile's layers, precedence, validation and the `profile` commands."""

from __future__ import annotations

from pathlib import Path

import pexpect
import pytest

from diagnose import profile as profiles
from diagnose.cli.profile import ADOBE_QUESTIONS, FIRST_QUESTIONS, LAST_QUESTIONS, OWN_QUESTIONS
from diagnose.errors import InputError
from diagnose.usecases import derive
from tests.harness import CliResult, run_cli, spawn_cli


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "diagnose.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_precedence_flag_over_diagnose_var_over_azure_var_over_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[profile.default]\ntenant_id = "from-file"\nca_bundle = "/nope"\nsandbox = "file-sb"\ncampaign_id = "file-c"\n',
    )
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    other = tmp_path / "other.pem"
    other.write_text("y")
    env = {
        "AZURE_TENANT_ID": "from-env",
        "REQUESTS_CA_BUNDLE": str(other),
        "DIAGNOSE_CA_BUNDLE": str(bundle),
        "DIAGNOSE_SANDBOX": "env-sb",
    }
    prof = profiles.load(env, config=path, flags={"sandbox": "flag-sb"})
    assert prof.tenant_id == "from-env" and prof.sources["tenant_id"] == "env AZURE_TENANT_ID"
    assert prof.ca_bundle == str(bundle) and prof.sources["ca_bundle"] == "env DIAGNOSE_CA_BUNDLE"
    assert prof.sandbox == "flag-sb" and prof.sources["sandbox"] == "flag"
    assert prof.campaign_id == "file-c" and "[profile.default]" in prof.sources["campaign_id"]
    assert prof.cloud.name == "AzureCloud" and prof.sources["cloud"] == "default"


def test_environment_alone_suffices_and_custom_cloud_endpoints(tmp_path: Path) -> None:
    env = {
        "DIAGNOSE_CLOUD": "custom",
        "AZURE_AUTHORITY_HOST": "https://login.example",
        "DIAGNOSE_ARM_URL": "https://arm.example",
        "DIAGNOSE_GRAPH_URL": "https://graph.example",
        "DIAGNOSE_COSMOS_ENDPOINT": "https://127.0.0.6:4444/",
    }
    prof = profiles.load(env, cwd=tmp_path)
    assert prof.cloud.arm_url == "https://arm.example"
    assert (
        prof.cosmos_token_scope == "https://127.0.0.6/.default"
    )  # the port is dropped, as Cosmos does


def test_sovereign_cloud_defaults(tmp_path: Path) -> None:
    prof = profiles.load({"DIAGNOSE_CLOUD": "AzureUSGovernment"}, cwd=tmp_path)
    assert prof.cloud.authority == "https://login.microsoftonline.us"
    assert prof.cloud.first_party_cosmos_app_id == "57506a73-e302-42a9-b869-6f12d9ec29e9"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[profile.default\n", "not valid TOML"),
        ('[profile.default]\nclient_secret = "s3cr3t"\n', "secrets do not belong"),
        ('[profile.default]\nvault = "x"\n', "unknown key 'vault'"),
        ('[profile.default]\ntopology = "mine"\n', "is not one of: own, adobe"),
        ('[profile.default]\narm_url = "http://plain"\n', "must be an https:// URL"),
        ('[profile.other]\ncloud = "AzureCloud"\n', "no [profile.default] table"),
    ],
)
def test_bad_profile_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        profiles.load({}, config=path)
    assert message in str(info.value.message)
    assert "s3cr3t" not in str(info.value.message)


def test_profile_show_never_prints_secrets_and_exits_2_on_bad_config(tmp_path: Path) -> None:
    env = {
        "AZURE_CLIENT_SECRET": "very-secret-value",
        "AZURE_CLIENT_ID": "abc",
        "DIAGNOSE_SANDBOX": "prod",
    }
    result = run_cli("profile", "show", env=env, cwd=tmp_path)
    assert result.exit_code == 2, result.output  # a sandbox alone: a run would check nothing
    assert "very-secret-value" not in result.output
    assert "AZURE_CLIENT_SECRET (set)" in result.output
    assert "sandbox" in result.output and "env DIAGNOSE_SANDBOX" in result.output
    bad = write(tmp_path, "[profile.default\n")
    result = run_cli("profile", "show", "--config", str(bad))
    assert result.exit_code == 2
    assert "not valid TOML" in result.output


def test_profile_init_writes_a_starter_that_loads(tmp_path: Path) -> None:
    target = tmp_path / "diagnose.toml"
    result = run_cli("profile", "init", "--path", str(target))
    assert result.exit_code == 0, result.output
    prof = profiles.load({}, config=target)
    assert prof.cloud.name == "AzureCloud" and prof.topology == "own"
    again = run_cli("profile", "init", "--path", str(target))
    assert again.exit_code == 2 and "already exists" in again.output


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DIAGNOSE_KEY_ID": "https://kv.vault.azure.net/secrets/x"}, "is not a key URI"),
        ({"DIAGNOSE_KEYVAULT_ID": "/subscriptions/s/vaults/kv"}, "is not a Key Vault resource id"),
        ({"DIAGNOSE_COSMOS_ID": "cosmos-ajo"}, "is not a Cosmos DB account resource id"),
        ({"AZURE_CLIENT_CERTIFICATE_PATH": "/nonexistent/cert.pem"}, "is not a file"),
    ],
)
def test_malformed_identifiers_are_exit_2_naming_the_variable(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = run_cli("run", env={**env, "DIAGNOSE_PROFILE": "default"}, cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert next(iter(env)) in result.output or "AZURE_CLIENT_CERTIFICATE_PATH" in result.output


def test_an_empty_profile_checks_nothing_and_says_so(tmp_path: Path) -> None:
    result = run_cli("run", "--output", "json", cwd=tmp_path)
    assert result.exit_code == 2
    assert "nothing was checked" in result.output


def test_every_key_is_a_typed_attribute_reading_its_layered_value(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    given = {key.name: f"https://{key.name}.example" for key in profiles.KEYS}  # any string will do
    given |= {"cloud": "AzureUSGovernment", "topology": "adobe", "execution_kind": "unitary"}
    given |= {"ca_bundle": str(bundle), "key_id": "https://kv.vault.azure.net/keys/k"}
    given["keyvault_id"] = "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v"
    given["cosmos_id"] = (
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.DocumentDB/databaseAccounts/c"
    )
    env = {key.variables[0]: given[key.name] for key in profiles.KEYS}
    prof = profiles.load(env, cwd=tmp_path)
    attributes = {
        name: key for name, key in vars(profiles.Profile).items() if isinstance(key, profiles.Key)
    }
    assert list(attributes.values()) == list(profiles.KEYS)  # declared once, in one order
    for attribute, key in attributes.items():
        assert getattr(prof, attribute) == given[key.name] == prof.get(key.name)
        assert prof.sources[key.name] == f"env {key.variables[0]}"
    assert prof.cloud_name == "AzureUSGovernment" and prof.cloud.name == "AzureUSGovernment"


def test_defaulted_keys_read_their_default_and_values_come_only_from_the_layers(
    tmp_path: Path,
) -> None:
    prof = profiles.load({}, cwd=tmp_path)
    assert (prof.topology, prof.cloud_name) == ("own", "AzureCloud")
    assert prof.platform_url == "https://platform.adobe.io" and prof.tenant_id is None
    with pytest.raises(AttributeError, match="come from its layers"):
        prof.tenant_id = "set-by-hand"  # type: ignore[assignment]  # refused by mypy too
    assert prof.tenant_id is None and "tenant_id" not in prof.values


# --- hostile input: each a clear exit 2 naming the problem, never a traceback ---------------------
URL_KEYS = {
    "authority": "AZURE_AUTHORITY_HOST",
    "arm_url": "DIAGNOSE_ARM_URL",
    "graph_url": "DIAGNOSE_GRAPH_URL",
    "keyvault_url": "DIAGNOSE_KEYVAULT_URL",
    "key_id": "DIAGNOSE_KEY_ID",
    "cosmos_endpoint": "DIAGNOSE_COSMOS_ENDPOINT",
    "ims_url": "DIAGNOSE_IMS_URL",
    "platform_url": "DIAGNOSE_PLATFORM_URL",
}


def assert_exit_2(result: CliResult, *needles: str) -> None:
    assert result.exit_code == 2, result
    assert "Traceback" not in result.output, result
    for needle in needles:
        assert needle in result.output, result


@pytest.mark.parametrize("url", ["https://[::1/", "https://[not-ipv6]/", "https://host:99999/"])
@pytest.mark.parametrize("key", sorted(URL_KEYS))
def test_a_url_whose_host_cannot_be_read_is_exit_2_in_every_url_setting(
    tmp_path: Path, key: str, url: str
) -> None:
    assert_exit_2(
        run_cli("profile", "show", env={URL_KEYS[key]: url}, cwd=tmp_path),
        key,
        URL_KEYS[key],
        "host or port cannot be read",
    )
    path = write(tmp_path, f'[profile.default]\n{key} = "{url}"\n')
    assert_exit_2(run_cli("run", "--config", str(path)), key, "host or port cannot be read")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('profile = {default = "x"}\n', "profile.default must be a table"),
        ("[[profile.default]]\n", "profile.default must be a table"),
        ('profile = "x"\n', "`profile` must hold [profile.NAME] tables"),
        ("a = " + "[" * 10_000 + "]" * 10_000 + "\n", "nests too deeply"),
        ("a = " + "{b = " * 3_000 + "1" + "}" * 3_000 + "\n", "nests too deeply"),
        ("[profile.default]\nsandbox = nan\n", "sandbox must be a string"),
        ("[profile.default]\nsandbox = inf\n", "sandbox must be a string"),
        ('[profile.default]\nsandbox = "a\\u001b]0;x\\u0007"\n', "control character \\u001b"),
    ],
)
def test_hostile_profile_files_are_exit_2(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    assert_exit_2(run_cli("profile", "show", "--config", str(path)), message)


def test_an_endless_profile_file_is_refused_after_1_mb(tmp_path: Path) -> None:
    result = run_cli("profile", "show", "--config", "/dev/zero", timeout=30)
    assert_exit_2(result, "/dev/zero", "larger than 1 MB")
    big = tmp_path / "big.toml"
    big.write_text("[profile.default]\n" + "# padding\n" * 110_000)
    assert_exit_2(run_cli("profile", "show", "--config", str(big)), str(big), "1 MB")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "0", "-5"])
@pytest.mark.parametrize(
    "command",
    [
        ("run", "--timeout"),
        ("run", "--trigger-deadline"),
        ("runbook", "walk", "call-timeout", "--wait"),
        ("runbook", "walk", "call-timeout", "--trigger-deadline"),
    ],
)
def test_non_finite_or_non_positive_seconds_are_exit_2(
    tmp_path: Path, command: tuple[str, ...], value: str
) -> None:
    result = run_cli(*command, value, "--lab", "healthy", cwd=tmp_path)
    assert_exit_2(result, command[-1], "positive, finite number of seconds")


# --- what is missing, init that asks little, the run that derives --------------------------------
DERIVABLE = (
    "DIAGNOSE_KEY_ID",
    "DIAGNOSE_KEYVAULT_ID",
    "DIAGNOSE_KEYVAULT_URL",
    "DIAGNOSE_COSMOS_ENDPOINT",
    "DIAGNOSE_PRINCIPAL_APP_ID",
    "DIAGNOSE_SUBSCRIPTION_ID",
)


def without_derivable(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in DERIVABLE}


def test_profile_show_names_what_is_missing_and_exits_2_when_nothing_could_run(
    tmp_path: Path,
) -> None:
    empty = run_cli("profile", "show", cwd=tmp_path)
    assert empty.exit_code == 2, empty
    assert "missing" in empty.stdout and "cosmos_id" in empty.stdout
    assert "campaign_id" in empty.stdout and "would check nothing" in empty.stderr
    as_json = run_cli("profile", "show", "-o", "json", cwd=tmp_path)
    assert as_json.exit_code == 2
    document = as_json.json()
    assert document["can_start"] is False
    assert {m["key"] for m in document["missing"]} >= {"cosmos_id", "campaign_id", "tenant_id"}


def test_profile_show_says_what_a_run_reads_from_the_account(lab, tmp_path: Path) -> None:
    running = lab("healthy")
    result = run_cli("profile", "show", env=without_derivable(running.env), cwd=tmp_path)
    assert result.exit_code == 0, result
    assert "key_id            read at run time from the resource of cosmos_id" in result.stdout
    assert "keyvault_id" in result.stdout and "missing" not in result.stdout
    full = run_cli("profile", "show", "--lab", "healthy", cwd=tmp_path)
    assert full.exit_code == 0 and "missing" not in full.stdout


def test_the_run_reads_the_vault_and_key_from_the_account(lab) -> None:
    running = lab("kv-role-missing")
    result = run_cli("run", "-o", "json", env=without_derivable(running.env))
    report = result.json("diagnose/report@1")
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    # the three checks that skipped without a vault and a key now run and decide
    for cid in ("keyvault.vault", "keyvault.key", "keyvault.unwrap", "roles.keyvault"):
        assert statuses[cid] != "skip", (cid, statuses)
    assert report["diagnosis"][0]["code"] == "keyvault.role-missing"
    assert report["profile"]["key_id"].endswith("/keys/cmk")
    assert report["profile"]["keyvault_id"].endswith("/vaults/kv-ajo-cmk")


HOST = "kv-ajo-cmk.vault.azure.net"


@pytest.mark.parametrize(
    ("body", "same"),
    [
        ({"name": "kv-ajo-cmk", "properties": {"vaultUri": f"https://{HOST}/"}}, True),
        (
            {"name": "kv-ajo-cmk", "properties": {"vaultUri": "https://kv-other.vault.azure.net/"}},
            False,
        ),
        # without vaultUri: the vault's name against the host's first label, in any case
        ({"name": "kv-other", "properties": {}}, False),
        ({"name": "kv-other"}, False),
        ({"name": "KV-AJO-CMK", "properties": {"vaultUri": ""}}, True),
        ({"name": "kv-ajo-cmk", "properties": ["not", "an", "object"]}, True),
        ({"properties": {}}, False),
        ({"name": 7}, False),
        ("kv-ajo-cmk", False),
    ],
)
def test_a_vault_without_vault_uri_is_the_same_vault_only_by_its_name(
    body: object, same: bool
) -> None:
    assert derive._same_vault(body, HOST) is same


def test_a_vault_name_is_the_hosts_first_label_without_its_port() -> None:
    assert derive._same_vault({"name": "Kv-Ajo-Cmk"}, f"{HOST}:8443")
    assert not derive._same_vault({"name": "kv-ajo-cmk"}, "kv-ajo-cmk-2.vault.azure.net")


def test_profile_init_no_input_writes_flags_env_and_what_it_read(lab, tmp_path: Path) -> None:
    running = lab("healthy")
    env = without_derivable(running.env)
    target = tmp_path / "diagnose.toml"
    result = run_cli(
        "profile",
        "init",
        "--no-input",
        "--path",
        str(target),
        "--set",
        f"sandbox={running.env['DIAGNOSE_SANDBOX']}",
        env={k: v for k, v in env.items() if k != "DIAGNOSE_SANDBOX"},
    )
    assert result.exit_code == 0, result
    text = target.read_text()
    prof = profiles.load({}, config=target)
    assert prof.sandbox == running.env["DIAGNOSE_SANDBOX"]  # the flag (not in the environment)
    assert prof.cosmos_id == running.env["DIAGNOSE_COSMOS_ID"]  # the environment
    assert prof.key_id == running.env["DIAGNOSE_KEY_ID"].rstrip("/")  # read from the account
    assert prof.keyvault_id == running.env["DIAGNOSE_KEYVAULT_ID"]
    assert prof.principal_app_id == running.env["DIAGNOSE_PRINCIPAL_APP_ID"]
    assert prof.cosmos_endpoint and prof.subscription_id
    assert "derived from the Cosmos DB account's keyVaultKeyUri" in text
    assert "derived from the Cosmos DB account's defaultIdentity" in text
    for name, value in running.env.items():  # identifiers only
        if name.endswith("_SECRET"):
            assert value not in text
    again = run_cli("run", "--config", str(target), "-o", "json", env=secrets_of(running.env))
    assert again.exit_code == 0, again


def secrets_of(env: dict[str, str]) -> dict[str, str]:
    """Only the credentials: everything else must come from the file."""
    return {k: v for k, v in env.items() if k in profiles.CREDENTIAL_VARIABLES}


def test_profile_init_asks_only_what_it_cannot_read(lab, tmp_path: Path) -> None:
    running = lab("healthy")
    keep = (
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "DIAGNOSE_ADOBE_CLIENT_ID",
        "DIAGNOSE_ADOBE_CLIENT_SECRET",
        "DIAGNOSE_ADOBE_SCOPES",
        "DIAGNOSE_CLOUD",
        "AZURE_AUTHORITY_HOST",
        "DIAGNOSE_ARM_URL",
        "DIAGNOSE_GRAPH_URL",
        "DIAGNOSE_CA_BUNDLE",
        "DIAGNOSE_IMS_URL",
        "DIAGNOSE_PLATFORM_URL",
    )
    env = {k: v for k, v in running.env.items() if k in keep}
    target = tmp_path / "diagnose.toml"
    child = spawn_cli("profile", "init", "--path", str(target), env=env, no_color=True)
    questions = dict(FIRST_QUESTIONS + OWN_QUESTIONS + ADOBE_QUESTIONS + LAST_QUESTIONS)
    answers = {
        "topology": "",  # Enter: own
        "tenant_id": running.env["AZURE_TENANT_ID"],
        "cosmos_id": running.env["DIAGNOSE_COSMOS_ID"],
        "cosmos_caller": running.env["DIAGNOSE_COSMOS_CALLER_APP_ID"],
        "ims_org": running.env["DIAGNOSE_IMS_ORG"],
        "sandbox": running.env["DIAGNOSE_SANDBOX"],
        "campaign_id": running.env["DIAGNOSE_CAMPAIGN_ID"],
    }
    keys = list(questions)
    asked = []
    while True:
        index = child.expect_exact([questions[k] for k in keys] + ["wrote "])
        if index == len(keys):
            break
        asked.append(keys[index])
        child.sendline(answers[keys[index]])
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert asked == list(answers)  # the key, vault, endpoint and principal are read, not asked
    prof = profiles.load({}, config=target)
    assert prof.key_id and prof.keyvault_id and prof.principal_app_id and prof.cosmos_endpoint
    result = run_cli("run", "--config", str(target), "-o", "json", env=secrets_of(running.env))
    assert result.exit_code == 0, result
