"""``sounding staff create|list|deactivate`` and ``create-api-key`` for staff."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner

from app.db import db
from app.models import AuditEntry, StaffUser
from tests.support.api import Api, csrf_token
from tests.support.staff import sign_in


def test_create_prints_a_link_that_sets_the_password_once(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(
        args=[
            "staff",
            "create",
            "--email",
            "Carla@Acme.example",
            "--name",
            "Carla",
            "--role",
            "csm",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Created Carla <carla@acme.example> (Customer success manager)." in result.output
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("http://sounding.test/dashboard/invitation/")
    path = link.removeprefix("http://sounding.test")
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200 and "Welcome, Carla" in page.get_data(as_text=True)
    too_short = client.post(
        path, data={"password": "short", "csrf_token": csrf_token(page.get_data(as_text=True))}
    )
    assert too_short.status_code == 400
    assert "Use 10 to 256 characters." in too_short.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(StaffUser).one().password_hash is None
    done = client.post(
        path,
        data={
            "password": "carla's own secret",
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert done.status_code == 302 and client.get("/dashboard/").status_code == 200
    assert app.test_client().get(path).status_code == 410  # used up
    sign_in(app.test_client(), "carla@acme.example", "carla's own secret")
    with app.app_context():
        created = db.session.query(AuditEntry).filter_by(action="staff.created").one()
        assert created.actor == "cli" and created.after["role"] == "csm"


def test_create_refuses_bad_input_and_changes_nothing(app: Flask, runner: FlaskCliRunner) -> None:
    ok = runner.invoke(
        args=["staff", "create", "--email", "a@acme.example", "--name", "A", "--role", "admin"]
    )
    assert ok.exit_code == 0
    twice = runner.invoke(
        args=["staff", "create", "--email", "A@acme.example", "--name", "B", "--role", "csm"]
    )
    assert twice.exit_code == 2 and "already exists" in twice.output
    bad = runner.invoke(args=["staff", "create", "--email", "nope", "--name", "B", "--role", "csm"])
    assert bad.exit_code == 2 and "--email" in bad.output
    role = runner.invoke(
        args=["staff", "create", "--email", "b@acme.example", "--name", "B", "--role", "boss"]
    )
    assert role.exit_code == 2
    with app.app_context():
        assert db.session.query(StaffUser).count() == 1


def test_list_and_deactivate(app: Flask, runner: FlaskCliRunner) -> None:
    runner.invoke(
        args=["staff", "create", "--email", "a@acme.example", "--name", "Ann", "--role", "analyst"]
    )
    key = runner.invoke(args=["create-api-key", "--role", "analyst", "--email", "a@acme.example"])
    assert key.exit_code == 0, key.output
    api = Api(app.test_client(), key.output.strip())
    assert api.get("/api/v1/surveys").status_code == 200
    listed = runner.invoke(args=["staff", "list"])
    assert listed.output.strip() == "a@acme.example\tanalyst\tinvited\tAnn"
    gone = runner.invoke(args=["staff", "deactivate", "a@acme.example"])
    assert gone.exit_code == 0
    assert "0 session(s) ended, 1 API key(s) revoked" in gone.output
    assert api.get("/api/v1/surveys").status_code == 401
    assert "deactivated" in runner.invoke(args=["staff", "list"]).output
    unknown = runner.invoke(args=["staff", "deactivate", "who@acme.example"])
    assert unknown.exit_code == 2


def test_an_analyst_key_needs_its_owner(runner: FlaskCliRunner) -> None:
    refused = runner.invoke(args=["create-api-key", "--role", "analyst"])
    assert refused.exit_code == 2 and "--email" in refused.output
