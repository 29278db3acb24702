"""The `sounding` command: API keys, the outbox, the sweep and the demo data set."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner

from app import create_app
from app.clock import install
from app.db import db
from app.models import ApiKey, Invitation, OutboxMessage, Person, Response
from tests.support.api import Api, issue_test_key
from tests.support.settings import TEST_SETTINGS
from tests.support.staff import sign_in


def test_create_admin_key_prints_a_working_key(app: Flask, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-api-key", "--role", "admin"])
    assert result.exit_code == 0, result.output
    key = result.output.strip()
    assert key.startswith("snd_")
    assert Api(app.test_client(), key).get("/api/v1/surveys").status_code == 200
    with app.app_context():
        stored = db.session.query(ApiKey).one()
        assert stored.key_hash != key and key not in stored.key_hash  # only the hash is kept


def test_csm_key_belongs_to_a_csm(app: Flask, runner: FlaskCliRunner) -> None:
    refused = runner.invoke(args=["create-api-key", "--role", "csm"])
    assert refused.exit_code == 2 and "--email" in refused.output
    bad = runner.invoke(args=["create-api-key", "--role", "csm", "--email", "not-an-email"])
    assert bad.exit_code == 2
    ok = runner.invoke(
        args=[
            "create-api-key",
            "--role",
            "csm",
            "--email",
            "Jane@Acme.example",
            "--staff-name",
            "Jane Doe",
        ]
    )
    assert ok.exit_code == 0, ok.output
    with app.app_context():
        key = db.session.query(ApiKey).one()
        assert key.staff_user.email == "jane@acme.example"
        assert key.staff_user.name == "Jane Doe"


def test_outbox_shows_what_would_have_been_sent(
    app: Flask, runner: FlaskCliRunner, api: Api
) -> None:
    assert "The outbox is empty." in runner.invoke(args=["outbox"]).output
    survey = api.post("/api/v1/surveys", json={"name": "NPS"}).get_json()
    api.post(
        "/api/v1/invitations",
        json={
            "survey_id": survey["id"],
            "channel": "email",
            "person": {"email": "kim@globex.example", "name": "Kim Lee"},
        },
    )
    output = runner.invoke(args=["outbox"]).output
    assert "to kim@globex.example" in output
    assert "Subject: Quick question from Acme at Acme" in output
    assert "Hi Kim," in output
    assert "http://sounding.test/s/" in output


def test_sweep_command_runs_the_sweep(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0
    assert "'expired': 0" in result.output


def test_demo_builds_a_year_of_realistic_data_on_sqlite(tmp_path: Path, clock) -> None:
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"})
    install(app, clock)
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "Sign in at http://127.0.0.1:5000/dashboard/sign-in" in result.output
    email = result.output.split("Email:", 1)[1].split()[0]
    password = result.output.split("Password:", 1)[1].split()[0]
    client = app.test_client()
    sign_in(client, email, password)
    assert "Signed in as Alex Admin" in client.get("/dashboard/").get_data(as_text=True)
    key = issue_test_key(app, "admin")
    with app.app_context():
        assert 45 <= db.session.query(Person).count() <= 60
        assert db.session.query(Response).count() > 50
        assert db.session.query(Invitation).count() > 100
        assert db.session.query(OutboxMessage).count() == 2  # fresh ones went through the pipeline
    api = Api(app.test_client(), key)
    roles = {g["key"]: g for g in api.get("/api/v1/reports/nps?group_by=role").get_json()["groups"]}
    assert {"end_user", "influencer", "decision_maker", "executive"} <= set(roles)
    assert roles["executive"]["nps"] > roles["end_user"]["nps"]  # not flat
    months = api.get("/api/v1/reports/nps?group_by=month").get_json()["groups"]
    assert len(months) >= 11
    overall = api.get("/api/v1/reports/nps").get_json()
    assert 30 <= overall["response_rate"] <= 80
    # Running it again finds the data and does not duplicate it.
    again = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert again.exit_code == 0 and "Found existing demo data" in again.output
    with app.app_context():
        assert db.session.query(OutboxMessage).count() == 2
        db.engine.dispose()
