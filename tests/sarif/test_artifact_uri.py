"""SARIF's artifact is the profile file the run read (`Profile.path`), relative to the working
directory; a file outside it, or no file, gives the pinned placeholder."""

from __future__ import annotations

from pathlib import Path

from diagnose import profile as profiles
from diagnose.render.sarif import PLACEHOLDER, artifact_uri
from diagnose.usecases import derive

TENANT = "00000000-0000-0000-0000-000000000001"


def write(path: Path, name: str = "default") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[profile.{name}]\ntenant_id = "{TENANT}"\n', encoding="utf-8")
    return path


def test_a_profile_file_under_the_cwd_gives_its_relative_path(tmp_path: Path) -> None:
    file = write(tmp_path / "infra" / "diagnose.toml")
    profile = profiles.load({}, config=file)
    assert profile.path == file
    assert artifact_uri(profile, cwd=tmp_path) == "infra/diagnose.toml"
    # every value set by a variable: still the file the run read
    overridden = profiles.load({"AZURE_TENANT_ID": TENANT}, config=file)
    assert overridden.sources["tenant_id"] == "env AZURE_TENANT_ID"
    assert artifact_uri(overridden, cwd=tmp_path) == "infra/diagnose.toml"
    # the derived profile keeps it
    derived = derive.with_values(profile, derive.Derived({"key_id": "https://v/keys/k"}))
    assert artifact_uri(derived, cwd=tmp_path) == "infra/diagnose.toml"


def test_the_default_file_in_the_cwd_is_found_and_named(tmp_path: Path) -> None:
    write(tmp_path / "diagnose.toml")
    profile = profiles.load({}, cwd=tmp_path)
    assert artifact_uri(profile, cwd=tmp_path) == "diagnose.toml"


def test_a_profile_file_outside_the_cwd_gives_the_placeholder(tmp_path: Path) -> None:
    file = write(tmp_path / "elsewhere" / "diagnose.toml")
    (tmp_path / "repo").mkdir()
    profile = profiles.load({}, config=file)
    assert profile.path == file
    assert artifact_uri(profile, cwd=tmp_path / "repo") == PLACEHOLDER


def test_no_profile_file_gives_the_placeholder(tmp_path: Path) -> None:
    profile = profiles.load({"AZURE_TENANT_ID": TENANT}, cwd=tmp_path)  # no diagnose.toml there
    assert profile.path is None
    assert artifact_uri(profile, cwd=tmp_path) == PLACEHOLDER
    (tmp_path / "diagnose.toml").write_text("# no profiles yet\n", encoding="utf-8")
    unread = profiles.load({"AZURE_TENANT_ID": TENANT}, cwd=tmp_path)  # nothing read from it
    assert unread.path is None
    assert artifact_uri(unread, cwd=tmp_path) == PLACEHOLDER
    assert artifact_uri(None, cwd=tmp_path) == PLACEHOLDER
