"""What a newcomer meets first with the ``sounding`` command: the demo's links, the help,
the version and the development-key warning, a busy port, quiet hours holding a message, and
how ``explain`` names a widget refusal."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from app import config, create_app
from app.clock import install
from app.db import db
from app.models import Decision, OutboxMessage, Person
from app.vocabulary import Channel, Trigger
from tests.support.api import Api
from tests.support.settings import TEST_SETTINGS

SOUNDING = str(Path(sys.executable).with_name("sounding"))


def _sounding(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SECRET_KEYS", "BASE_URL", "DATABASE_URL")
    }
    env["SOUNDING_INSTANCE_PATH"] = str(tmp_path / "instance")
    return subprocess.run(
        [SOUNDING, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_demo_links_point_at_the_port_it_serves_on(tmp_path: Path, clock) -> None:
    settings = {k: v for k, v in TEST_SETTINGS.items() if k != "BASE_URL"}
    app = create_app({**settings, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"})
    install(app, clock)
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve", "--port", "5123"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5123/dashboard" in result.output
    with app.app_context():
        texts = [m.text for m in db.session.query(OutboxMessage)]
        db.engine.dispose()
    assert texts and all("http://127.0.0.1:5123/" in t for t in texts)
    assert not any(":5000" in t for t in texts)


def test_help_and_version_are_sounding_s_own(tmp_path: Path) -> None:
    helped = _sounding(tmp_path, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "--app" not in helped.stdout and "--env-file" not in helped.stdout
    assert "explain" in helped.stdout and "widget-key" in helped.stdout
    assert "SECRET_KEYS" not in helped.stderr  # nothing runs: no development-key warning
    version = _sounding(tmp_path, "--version")
    assert version.returncode == 0
    assert version.stdout.strip() == "sounding 0.1.0"
    assert "Flask" not in version.stdout


def test_the_development_key_warning_is_given_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {k: v for k, v in TEST_SETTINGS.items() if k != "SECRET_KEYS"}
    monkeypatch.delenv("SECRET_KEYS", raising=False)
    with caplog.at_level(logging.WARNING, logger="app.config"):
        for _ in range(3):  # a process may build the app more than once
            config.build(settings, str(tmp_path))
    warnings = [r for r in caplog.records if "SECRET_KEYS is not set" in r.getMessage()]
    assert len(warnings) == 1


def test_dev_says_so_when_the_port_is_taken(runner: FlaskCliRunner) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(args=["dev", "--port", str(port)])
    assert result.exit_code == 1
    assert f"Cannot serve on 127.0.0.1:{port}: the port is in use" in result.output
    assert "is running" not in result.output


def test_the_outbox_says_when_quiet_hours_hold_a_message(
    app: Flask, api: Api, runner: FlaskCliRunner
) -> None:
    survey = api.post("/api/v1/surveys", json={"name": "NPS"}).get_json()["id"]
    invited = api.post(
        "/api/v1/invitations",
        json={
            "survey_id": survey,
            "channel": "email",
            "person": {"email": "ny@globex.example", "timezone": "America/New_York"},
        },
    )
    assert invited.get_json()["status"] == "scheduled"  # 05:00 in New York
    output = runner.invoke(args=["outbox"]).output
    assert "The outbox is empty." in output
    assert "1 email or SMS invitation waits for the send window (quiet hours" in output
    assert "the next goes out at 2026-11-16 14:00 UTC" in output
    assert "waits" not in runner.invoke(args=["outbox", "--to", "else@x.example"]).output


def test_explain_lists_a_widget_refusal_as_the_widget_s(
    app: Flask, api: Api, runner: FlaskCliRunner, clock
) -> None:
    survey = api.post("/api/v1/surveys", json={"name": "In-app"}).get_json()["id"]
    pid = api.post("/api/v1/people", json={"external_id": "u-9"}).get_json()["id"]
    with app.app_context():
        assert db.session.get(Person, pid) is not None
        db.session.add(
            Decision(
                person_id=pid,
                survey_id=survey,
                channel=Channel.WIDGET,
                trigger=Trigger.API,
                allowed=False,
                reason="dismissal_backoff",
                message="Dismissed a survey in the app 2 days ago.",
                next_eligible_at=clock.now() + timedelta(days=5),
                created_at=clock.now(),
            )
        )
        db.session.commit()
    output = runner.invoke(args=["explain", "u-9"]).output
    assert f"survey {survey} in the widget: Dismissed a survey" in output
    assert "widget (api)" not in output
