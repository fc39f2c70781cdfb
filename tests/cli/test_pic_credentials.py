"""`pic` credentials: where they live, who may read them, and what the environment overrides."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from picloud.cli.pic.credentials import (
    Credentials,
    CredentialsError,
    credentials_path,
    effective,
    forget,
    load_saved,
    save,
)


def test_saved_credentials_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    path = credentials_path({"PICLOUD_CONFIG_DIR": str(tmp_path / "conf")})
    save(path, Credentials("http://127.0.0.1:9000", "tok", "ann"))

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_saved(path) == Credentials("http://127.0.0.1:9000", "tok", "ann")


def test_saving_over_a_loose_file_tightens_it(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text("{}")
    path.chmod(0o644)
    save(path, Credentials("http://x", "tok"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_platform_config_dir_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", "/somewhere/config")
    assert credentials_path({}) == Path("/somewhere/config/picloud/credentials.json")


def test_environment_overrides_the_saved_url_and_token() -> None:
    saved = Credentials("http://saved:1", "saved-token", "ann")
    assert effective(saved, {}) == saved
    assert effective(saved, {"PICLOUD_URL": "https://other/"}) == Credentials(
        "https://other", "saved-token", None
    )
    assert effective(saved, {"PICLOUD_TOKEN": "env"}).token == "env"
    assert effective(None, {}).token is None


def test_a_damaged_file_gets_a_clear_error_and_logout_removes_it(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text("{not json")
    with pytest.raises(CredentialsError, match="run `pic login` again"):
        load_saved(path)
    assert forget(path) is True
    assert forget(path) is False
    assert load_saved(path) is None
