"""Configuration: defaults a newcomer can run with, and clear errors where they cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from app.config import ConfigError, build, normalize_database_url


def test_development_defaults_need_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEYS", "SOUNDING_ENV"):
        monkeypatch.delenv(name, raising=False)
    config = build(None, str(tmp_path))
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'sounding.db'}"
    assert config["REDIS_URL"] is None
    key_file = tmp_path / "secret_key"
    assert key_file.exists() and oct(key_file.stat().st_mode)[-3:] == "600"
    assert config["SECRET_KEYS"] == [key_file.read_text().strip()]
    assert "SECRET_KEYS is not set" in caplog.text
    # The same key is used next time, so links keep working across restarts.
    assert build(None, str(tmp_path))["SECRET_KEYS"] == config["SECRET_KEYS"]


def test_production_without_secret_keys_is_a_clear_startup_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEYS", raising=False)
    monkeypatch.setenv("SOUNDING_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEYS is not set"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_secret_keys_rotate_newest_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEYS", "new-key, old-key ,")
    config = build({"SOUNDING_ENV": "production"}, str(tmp_path))
    assert config["SECRET_KEYS"] == ["new-key", "old-key"]
    assert config["SECRET_KEY"] == "new-key" and config["SECRET_KEY_FALLBACKS"] == ["old-key"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SOUNDING_ENV": "staging"}, "SOUNDING_ENV must be one of"),
        ({"EMAIL_BACKEND": "smtp"}, "EMAIL_BACKEND must be one of"),
        ({"EMAIL_BACKEND": "sendgrid"}, "needs SENDGRID_API_KEY"),
        ({"SMS_BACKEND": "twilio"}, "needs TWILIO_ACCOUNT_SID"),
    ],
)
def test_bad_settings_name_themselves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overrides: dict[str, str], message: str
) -> None:
    for name in ("SENDGRID_API_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match=message):
        build({"SECRET_KEYS": "k", **overrides}, str(tmp_path))


def test_bad_number_in_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWEEP_INTERVAL_SECONDS", "soon")
    with pytest.raises(ConfigError, match="SWEEP_INTERVAL_SECONDS must be a whole number"):
        build({"SECRET_KEYS": "k"}, str(tmp_path))


def test_database_url_spellings() -> None:
    assert normalize_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("sqlite:///x.db") == "sqlite:///x.db"
