"""Configuration from environment variables, with defaults a newcomer can run with.

Every setting can also be passed to ``create_app(overrides)``; tests do that. Nothing here
connects to anything: reading configuration has no side effects beyond the development
secret key file in the instance folder.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ENVIRONMENTS = ("development", "production", "test")


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and how to fix it."""


def _env_bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def from_environment() -> dict[str, Any]:
    """Read every setting Sounding knows from the environment."""
    env = os.environ.get
    return {
        "SOUNDING_ENV": env("SOUNDING_ENV", "development"),
        "DATABASE_URL": env("DATABASE_URL") or None,
        "REDIS_URL": env("REDIS_URL") or None,
        "SECRET_KEYS": env("SECRET_KEYS") or None,
        "BASE_URL": env("BASE_URL", "http://127.0.0.1:5000"),
        "COMPANY_NAME": env("COMPANY_NAME", "Acme"),
        "SWEEP_INTERVAL_SECONDS": _env_int("SWEEP_INTERVAL_SECONDS", 30),
        "CLAIM_TIMEOUT_SECONDS": _env_int("CLAIM_TIMEOUT_SECONDS", 600),
        "SWEEP_LEASE_SECONDS": _env_int("SWEEP_LEASE_SECONDS", 300),
        "OUTBOX_LATENCY_SECONDS": _env_float("OUTBOX_LATENCY_SECONDS", 0.0),
        # SendGrid takes up to 1,000 personalizations per request: one job, one request.
        "JOB_BATCH_SIZE": _env_int("JOB_BATCH_SIZE", 1000),
        "JOB_RETRIES": _env_int("JOB_RETRIES", 3),
        "MAX_COMMENT_LENGTH": _env_int("MAX_COMMENT_LENGTH", 5000),
        # Sending rates shared by all workers (``limits`` notation: N per second/minute/hour).
        "EMAIL_SEND_RATE": env("EMAIL_SEND_RATE", "6000/minute"),
        "SMS_SEND_RATE": env("SMS_SEND_RATE", "600/minute"),
        "SMS_SENDER_RATE": env("SMS_SENDER_RATE", "60/minute"),
        # The widget's public endpoints, per widget key and client IP.
        "WIDGET_RATE_LIMIT": env("WIDGET_RATE_LIMIT", "600/minute"),
        # Proxies in front of the web processes whose X-Forwarded-For is trusted.
        "TRUSTED_PROXY_HOPS": _env_int("TRUSTED_PROXY_HOPS", 0),
        "FANOUT_CHUNK": _env_int("FANOUT_CHUNK", 10_000),
        "EMAIL_BACKEND": env("EMAIL_BACKEND", "outbox"),
        "SMS_BACKEND": env("SMS_BACKEND", "outbox"),
        "DEFAULT_SENDER_EMAIL": env("DEFAULT_SENDER_EMAIL", "surveys@example.com"),
        "DEFAULT_SENDER_NAME": env("DEFAULT_SENDER_NAME") or None,
        "SENDGRID_API_KEY": env("SENDGRID_API_KEY") or None,
        "SENDGRID_HOST": env("SENDGRID_HOST", "https://api.sendgrid.com"),
        "SENDGRID_SANDBOX": _env_bool(env("SENDGRID_SANDBOX"), False),
        "SENDGRID_AUTHENTICATED_DOMAINS": env("SENDGRID_AUTHENTICATED_DOMAINS", ""),
        "SENDGRID_WEBHOOK_PUBLIC_KEY": env("SENDGRID_WEBHOOK_PUBLIC_KEY") or None,
        "TWILIO_ACCOUNT_SID": env("TWILIO_ACCOUNT_SID") or None,
        "TWILIO_AUTH_TOKEN": env("TWILIO_AUTH_TOKEN") or None,
        "TWILIO_API_KEY_SID": env("TWILIO_API_KEY_SID") or None,
        "TWILIO_API_KEY_SECRET": env("TWILIO_API_KEY_SECRET") or None,
        "TWILIO_MESSAGING_SERVICE_SID": env("TWILIO_MESSAGING_SERVICE_SID") or None,
        "TWILIO_FROM_NUMBER": env("TWILIO_FROM_NUMBER") or None,
        "TWILIO_BASE_URL": env("TWILIO_BASE_URL") or None,
        # Staff sign-in (app/access, app/staff).
        "STAFF_SESSION_IDLE_MINUTES": _env_int("STAFF_SESSION_IDLE_MINUTES", 12 * 60),
        "STAFF_SESSION_MAX_HOURS": _env_int("STAFF_SESSION_MAX_HOURS", 7 * 24),
        "SIGN_IN_RATE_PER_EMAIL": env("SIGN_IN_RATE_PER_EMAIL", "10/15 minutes"),
        "SIGN_IN_RATE_PER_IP": env("SIGN_IN_RATE_PER_IP", "60/15 minutes"),
        "CSM_SEES_UNASSIGNED_PEOPLE": _env_bool(env("CSM_SEES_UNASSIGNED_PEOPLE"), False),
        "OIDC_ISSUER": env("OIDC_ISSUER") or None,
        "OIDC_CLIENT_ID": env("OIDC_CLIENT_ID") or None,
        "OIDC_CLIENT_SECRET": env("OIDC_CLIENT_SECRET") or None,
        "OIDC_ALLOWED_DOMAINS": env("OIDC_ALLOWED_DOMAINS", ""),
        "OIDC_ROLE_CLAIM": env("OIDC_ROLE_CLAIM") or None,
        "OIDC_DEFAULT_ROLE": env("OIDC_DEFAULT_ROLE", "analyst"),
        "OIDC_PROVIDER_NAME": env("OIDC_PROVIDER_NAME", "single sign-on"),
    }


def _secret_keys(config: dict[str, Any], instance_path: Path) -> list[str]:
    """Keys newest first. Production must set them; development keeps one on disk."""
    raw = config.get("SECRET_KEYS")
    if isinstance(raw, list | tuple):
        keys = [k for k in raw if k]
    else:
        keys = [k.strip() for k in (raw or "").split(",") if k.strip()]
    if keys:
        return keys
    if config["SOUNDING_ENV"] == "production":
        raise ConfigError(
            "SECRET_KEYS is not set. Production needs at least one secret key to sign survey "
            "links and sessions: set SECRET_KEYS to a long random value, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`. For rotation, put "
            "the new key first and keep the old ones after it, comma-separated."
        )
    key_file = instance_path / "secret_key"
    if key_file.exists():
        key = key_file.read_text().strip()
    else:
        instance_path.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        key_file.write_text(key + "\n")
        key_file.chmod(0o600)
    if not _dev_key_warnings["quiet"] and key_file not in _dev_key_warnings["given"]:
        _dev_key_warnings["given"].add(key_file)
        log.warning(
            "SECRET_KEYS is not set: using the development key kept in %s. "
            "Set SECRET_KEYS before running in production.",
            key_file,
        )
    return [key]


#: The development-key warning is given once per key file and process (a process may build
#: the app more than once), and not at all when nothing runs (``sounding --help``).
_dev_key_warnings: dict[str, Any] = {"quiet": False, "given": set()}


def quiet_development_key() -> None:
    """Say nothing about the development key in this process."""
    _dev_key_warnings["quiet"] = True


def build(overrides: Mapping[str, Any] | None, instance_path: str) -> dict[str, Any]:
    """The final settings: environment, then overrides, then derived values and checks."""
    config = from_environment()
    config.update(overrides or {})
    if config["SOUNDING_ENV"] not in ENVIRONMENTS:
        raise ConfigError(
            f"SOUNDING_ENV must be one of {', '.join(ENVIRONMENTS)}, got {config['SOUNDING_ENV']!r}"
        )
    instance = Path(instance_path)
    if not config.get("DATABASE_URL"):
        instance.mkdir(parents=True, exist_ok=True)
        config["DATABASE_URL"] = f"sqlite:///{instance / 'sounding.db'}"
    config["SECRET_KEYS"] = _secret_keys(config, instance)
    config["BASE_URL"] = config["BASE_URL"].rstrip("/")
    # `sounding dev --port P` may point links at itself when nobody set BASE_URL.
    config["BASE_URL_IS_DEFAULT"] = "BASE_URL" not in os.environ and "BASE_URL" not in (
        overrides or {}
    )
    for backend, allowed in (
        ("EMAIL_BACKEND", ("outbox", "sendgrid")),
        ("SMS_BACKEND", ("outbox", "twilio")),
    ):
        if config[backend] not in allowed:
            raise ConfigError(
                f"{backend} must be one of {', '.join(allowed)}, got {config[backend]!r}"
            )
    if config["SWEEP_LEASE_SECONDS"] < 1:
        raise ConfigError("SWEEP_LEASE_SECONDS must be at least 1.")
    if not 0 <= config["OUTBOX_LATENCY_SECONDS"] <= 60:
        raise ConfigError("OUTBOX_LATENCY_SECONDS must be from 0 to 60.")
    for rate in (
        "EMAIL_SEND_RATE",
        "SMS_SEND_RATE",
        "SMS_SENDER_RATE",
        "WIDGET_RATE_LIMIT",
        "SIGN_IN_RATE_PER_EMAIL",
        "SIGN_IN_RATE_PER_IP",
    ):
        try:
            from limits import parse

            parse(str(config[rate]))
        except ValueError as exc:
            raise ConfigError(
                f"{rate} must be a rate like '100/second' or '60/minute', got {config[rate]!r}"
            ) from exc
    if config["EMAIL_BACKEND"] == "sendgrid" and not config.get("SENDGRID_API_KEY"):
        raise ConfigError("EMAIL_BACKEND=sendgrid needs SENDGRID_API_KEY.")
    if config["SMS_BACKEND"] == "twilio":
        _check_twilio(config)
    # Flask's own settings derived from ours.
    config["SECRET_KEY"] = config["SECRET_KEYS"][0]
    config["SECRET_KEY_FALLBACKS"] = config["SECRET_KEYS"][1:]
    config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(config["DATABASE_URL"])
    config.setdefault("TESTING", config["SOUNDING_ENV"] == "test")
    config.setdefault("MAX_CONTENT_LENGTH", 1024 * 1024)
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    config.setdefault(
        "SESSION_COOKIE_SECURE",
        config["SOUNDING_ENV"] == "production" or config["BASE_URL"].startswith("https://"),
    )
    config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    if config["OIDC_DEFAULT_ROLE"] not in ("admin", "csm", "analyst"):
        raise ConfigError("OIDC_DEFAULT_ROLE must be one of admin, csm, analyst.")
    if config.get("OIDC_ISSUER") and not (
        config.get("OIDC_CLIENT_ID") and config.get("OIDC_CLIENT_SECRET")
    ):
        raise ConfigError("OIDC_ISSUER needs OIDC_CLIENT_ID and OIDC_CLIENT_SECRET.")
    if config.get("OIDC_ISSUER") and not (config.get("OIDC_ALLOWED_DOMAINS") or "").strip():
        raise ConfigError(
            "OIDC_ISSUER needs OIDC_ALLOWED_DOMAINS: the email domains that may sign in "
            "(comma-separated, e.g. acme.com)."
        )
    config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    return config


def _check_twilio(config: Mapping[str, Any]) -> None:
    if not (config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN")):
        raise ConfigError(
            "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (the Auth Token "
            "also verifies Twilio's webhook signatures, even when an API key sends)."
        )
    if bool(config.get("TWILIO_API_KEY_SID")) != bool(config.get("TWILIO_API_KEY_SECRET")):
        raise ConfigError("Set both TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET, or neither.")
    if not (config.get("TWILIO_MESSAGING_SERVICE_SID") or config.get("TWILIO_FROM_NUMBER")):
        raise ConfigError(
            "SMS_BACKEND=twilio needs TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER: "
            "who the texts come from."
        )


def normalize_database_url(url: str) -> str:
    """Accept the usual ``postgres://`` and ``postgresql://`` spellings; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
