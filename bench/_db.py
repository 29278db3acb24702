"""A fresh, migrated PostgreSQL database for a benchmark (never the tests' database)."""

from __future__ import annotations

import os

import psycopg
from flask import Flask

from app import create_app

ADMIN_URL = os.environ.get(
    "SOUNDING_BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def fresh_app(name: str, **overrides: object) -> Flask:
    """Drop and create database ``name``, migrate it, and return an app on it."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return existing_app(name, **overrides)


def existing_app(name: str, **overrides: object) -> Flask:
    """An app on database ``name`` (left by an earlier run), migrated to the newest schema."""
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    app = create_app(
        {
            "SOUNDING_ENV": "test",
            "DATABASE_URL": url,
            "SECRET_KEYS": ["bench-key"],
            "REDIS_URL": None,
            **overrides,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return app


def drop(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
