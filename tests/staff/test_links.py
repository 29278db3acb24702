"""Emailed single-use links: magic sign-in (15 minutes), password reset, invitations
(72 hours). The email goes out through the email channel (the outbox here) as a row first."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.db import db
from app.models import AuditEntry, OutboxMessage, StaffEmail, StaffSession, StaffToken, StaffUser
from tests.support.api import csrf_token
from tests.support.staff import make_staff, sign_in

EMAIL = "ada@acme.example"
LINK = re.compile(r"http://sounding\.test(/dashboard/\S+)")


def _post(client: FlaskClient, path: str, **data: str) -> Any:
    page = client.get(path)
    return client.post(path, data={**data, "csrf_token": csrf_token(page.get_data(as_text=True))})


def _mailed_link(app: Flask, to: str) -> str:
    with app.app_context():
        message = (
            db.session.query(OutboxMessage)
            .filter_by(recipient=to)
            .order_by(OutboxMessage.id.desc())
            .first()
        )
        assert message is not None, "no email went out"
        match = LINK.search(message.text)
        assert match and match.group(0) in (message.html or "")
        return match.group(1)


def test_a_magic_link_signs_in_once(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "admin", EMAIL)
    sent = _post(client, "/dashboard/sign-in/link", email=EMAIL)
    assert sent.status_code == 200
    assert "a link is on its way" in sent.get_data(as_text=True)
    path = _mailed_link(app, EMAIL)
    with app.app_context():
        row = db.session.query(StaffEmail).one()
        assert (row.status, row.purpose) == ("sent", "sign_in")
        message = db.session.query(OutboxMessage).one()
        assert message.subject == "Your sign-in link for Sounding"
        assert message.sender == "Acme Sounding <surveys@acme.example>"
        token = path.rsplit("/", 1)[1]
        assert all(token not in t.token_hash for t in db.session.query(StaffToken))
    browser = app.test_client()
    page = browser.get(path)  # a mail scanner opening it uses nothing
    assert page.status_code == 200 and "This link signs you in once" in page.get_data(as_text=True)
    done = browser.post(path, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert done.status_code == 302 and browser.get("/dashboard/").status_code == 200
    again = app.test_client()
    assert again.get(path).status_code == 410
    with app.app_context():
        assert db.session.query(StaffSession).one().method == "link"


def test_a_magic_link_expires_after_15_minutes(app: Flask, client: FlaskClient, clock: Any) -> None:
    make_staff(app, "admin", EMAIL)
    _post(client, "/dashboard/sign-in/link", email=EMAIL)
    path = _mailed_link(app, EMAIL)
    clock.advance(timedelta(minutes=15, seconds=1))
    page = client.get(path)
    assert page.status_code == 410 and "no longer works" in page.get_data(as_text=True)


def test_unknown_email_gets_the_same_answer_and_no_email(app: Flask, client: FlaskClient) -> None:
    answer = _post(client, "/dashboard/sign-in/link", email="nobody@acme.example")
    assert answer.status_code == 200
    assert "a link is on its way" in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(OutboxMessage).count() == 0
        assert db.session.query(StaffEmail).count() == 0


def test_a_bad_email_is_shown_inline_and_sends_nothing(app: Flask, client: FlaskClient) -> None:
    answer = _post(client, "/dashboard/sign-in/link", email="not an email")
    assert answer.status_code == 400
    assert "Enter a valid email address." in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(StaffEmail).count() == 0


def test_password_reset(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "csm", EMAIL)
    elsewhere = app.test_client()
    sign_in(elsewhere, EMAIL)
    _post(client, "/dashboard/password/forgot", email=EMAIL)
    path = _mailed_link(app, EMAIL)
    assert path.startswith("/dashboard/password/reset/")
    assert _post(client, path, password="short").status_code == 400
    done = _post(client, path, password="my new long password")
    assert done.status_code == 302
    assert elsewhere.get("/dashboard/").status_code == 302  # other sessions ended
    sign_in(app.test_client(), EMAIL, "my new long password")
    assert client.get(path).status_code == 410


def test_an_admin_invites_a_csm_who_sets_a_password(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "admin", EMAIL)
    sign_in(client, EMAIL)
    page = client.get("/dashboard/staff")
    done = client.post(
        "/dashboard/staff/invite",
        data={
            "email": "carla@acme.example",
            "name": "Carla",
            "role": "csm",
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    with app.app_context():
        carla = db.session.query(StaffUser).filter_by(email="carla@acme.example").one()
        assert carla.password_hash is None and carla.role.value == "csm"
        message = db.session.query(OutboxMessage).filter_by(recipient="carla@acme.example").one()
        assert message.subject == "You are invited to Sounding"
        assert "Ada invited you to Acme's Sounding" in message.text
        assert "Customer success manager" in message.text
    path = _mailed_link(app, "carla@acme.example")
    carla_browser = app.test_client()
    assert _post(carla_browser, path, password="carla sets her own").status_code == 302
    assert carla_browser.get("/dashboard/").status_code == 200
    assert carla_browser.get("/dashboard/staff").status_code == 403
    with app.app_context():
        actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
        assert "staff.created" in actions and "staff.password_changed" in actions


def test_an_invitation_with_bad_fields_changes_nothing(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "admin", EMAIL)
    sign_in(client, EMAIL)
    page = client.get("/dashboard/staff")
    token = csrf_token(page.get_data(as_text=True))
    bad = client.post(
        "/dashboard/staff/invite",
        data={"email": "nope", "name": "", "role": "boss", "csrf_token": token},
    )
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    assert "Enter a valid email address." in html and "Enter their name." in html
    assert 'id="role-error"' in html
    dup = client.post(
        "/dashboard/staff/invite",
        data={"email": EMAIL, "name": "Again", "role": "csm", "csrf_token": token},
    )
    assert dup.status_code == 409 and "already exists" in dup.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(StaffUser).count() == 1
        assert db.session.query(StaffEmail).count() == 0


def test_an_invitation_link_lasts_72_hours(app: Flask, runner: Any, clock: Any) -> None:
    result = runner.invoke(
        args=["staff", "create", "--email", "c@acme.example", "--name", "C", "--role", "csm"]
    )
    path = result.output.strip().splitlines()[-1].removeprefix("http://sounding.test")
    clock.advance(timedelta(hours=71))
    assert app.test_client().get(path).status_code == 200
    clock.advance(timedelta(hours=1, seconds=1))
    assert app.test_client().get(path).status_code == 410
