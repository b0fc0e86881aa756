"""The profile's layers, precedence, validation and the `profile` commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnose import profile as profiles
from diagnose.errors import InputError
from tests.harness import CliResult, run_cli


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
