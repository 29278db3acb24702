"""Signing in with a password; server-side sessions that end at once."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app.access.passwords import verify_password
from app.db import db
from app.models import ApiKey, AuditEntry, StaffSession, StaffUser
from app.staff import services
from tests.support.api import Api, csrf_token, issue_test_key
from tests.support.settings import TEST_SETTINGS
from tests.support.staff import STAFF_PASSWORD, app_with, make_staff, sign_in

EMAIL = "ada@acme.example"


def _post_sign_in(client: FlaskClient, email: str, password: str) -> Any:
    page = client.get("/dashboard/sign-in")
    return client.post(
        "/dashboard/sign-in",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )


def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_password_sign_in_and_the_page_says_who(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "admin", EMAIL)
    response = sign_in(client, EMAIL)
    assert response.headers["Location"] == "/dashboard/"
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "Signed in as Ada@Acme.Example" in html or "Signed in as" in html
    with app.app_context():
        entry = db.session.query(AuditEntry).filter_by(action="staff.signed_in").one()
        assert entry.actor == EMAIL and entry.after == {"method": "password"}


def test_next_goes_back_to_the_page_but_never_off_site(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "admin", EMAIL)
    page = client.get("/dashboard/sign-in?next=//evil.example/x")
    response = client.post(
        "/dashboard/sign-in?next=//evil.example/x",
        data={
            "email": EMAIL,
            "password": STAFF_PASSWORD,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert response.headers["Location"] == "/dashboard/"
    client.post(
        "/dashboard/sign-out",
        data={"csrf_token": csrf_token(client.get("/dashboard/").get_data(as_text=True))},
    )
    page = client.get("/dashboard/sign-in?next=/dashboard/responses")
    response = client.post(
        "/dashboard/sign-in?next=/dashboard/responses",
        data={
            "email": EMAIL,
            "password": STAFF_PASSWORD,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert response.headers["Location"] == "/dashboard/responses"


def test_unknown_email_and_wrong_password_get_the_same_answer(
    app: Flask, client: FlaskClient
) -> None:
    make_staff(app, "admin", EMAIL)
    answers = []
    for email, password in ((EMAIL, "wrong password!"), ("nobody@acme.example", STAFF_PASSWORD)):
        response = _post_sign_in(client, email, password)
        answers.append(
            (
                response.status_code,
                "do not match an active staff account" in response.get_data(as_text=True),
            )
        )
    assert answers == [(401, True), (401, True)]
    assert client.get("/dashboard/").status_code == 302
    with app.app_context():
        failed = db.session.query(AuditEntry).filter_by(action="staff.sign_in_failed").all()
        assert sorted(e.actor for e in failed) == [EMAIL, "nobody@acme.example"]
        assert all(e.staff_user_id is None and e.via == "anonymous" for e in failed)


def test_an_unknown_email_costs_the_same_argon2_check() -> None:
    from app.access.passwords import hash_password

    stored = hash_password(STAFF_PASSWORD)

    def timed(stored_hash: str | None) -> float:
        start = time.perf_counter()
        for _ in range(5):
            assert not verify_password(stored_hash, "wrong password!")
        return time.perf_counter() - start

    timed(None)  # the dummy hash is made once
    known, unknown = timed(stored), timed(None)
    assert 0.5 < unknown / known < 2.0, (known, unknown)


def test_a_copied_cookie_stops_working_at_sign_out(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "admin", EMAIL)
    sign_in(client, EMAIL)
    copied = _session_cookie(client)
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/dashboard/").status_code == 200
    token = csrf_token(client.get("/dashboard/").get_data(as_text=True))
    assert client.post("/dashboard/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/dashboard/").status_code == 302
    assert thief.get("/dashboard/").status_code == 302
    with app.app_context():
        row = db.session.query(StaffSession).one()
        assert row.ended_reason == "signed_out"


def test_the_session_id_changes_at_sign_in(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "admin", EMAIL)
    client.get("/dashboard/sign-in")
    before = _session_cookie(client)
    sign_in(client, EMAIL)
    first = _session_cookie(client)
    assert first != before
    sign_in_again = app.test_client()
    sign_in(sign_in_again, EMAIL)
    assert _session_cookie(sign_in_again) != first
    with app.app_context():
        hashes = [s.token_hash for s in db.session.query(StaffSession)]
        assert len(set(hashes)) == 2
        assert all(first not in h for h in hashes)  # only a hash of the token is stored


def test_deactivation_ends_sessions_and_revokes_keys_at_once(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    staff_id = make_staff(app, "csm", "carla@acme.example")
    sign_in(client, "carla@acme.example")
    key = Api(app.test_client(), issue_test_key(app, "csm", "carla@acme.example"))
    assert key.get("/api/v1/surveys").status_code == 200
    with app.app_context():
        done = services.deactivate(db.session.get(StaffUser, staff_id), clock.now())
        db.session.commit()
        assert (done.sessions_ended, done.keys_revoked) == (1, 1)
        assert db.session.query(ApiKey).one().revoked_at is not None
    assert client.get("/dashboard/").status_code == 302
    assert key.get("/api/v1/surveys").status_code == 401
    assert _post_sign_in(app.test_client(), "carla@acme.example", STAFF_PASSWORD).status_code == 401


def test_a_deactivated_owners_key_is_refused_even_if_not_revoked(app: Flask, clock: Any) -> None:
    key = Api(app.test_client(), issue_test_key(app, "csm", "carla@acme.example"))
    with app.app_context():
        staff = db.session.query(StaffUser).one()
        staff.deactivated_at = clock.now()  # deactivated behind the service's back
        db.session.commit()
    assert key.get("/api/v1/surveys").status_code == 401


def test_a_password_change_and_sign_out_everywhere_end_other_sessions(
    app: Flask, clock: Any
) -> None:
    staff_id = make_staff(app, "admin", EMAIL)
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, EMAIL)
    sign_in(phone, EMAIL)
    with app.app_context():
        services.set_password(
            db.session.get(StaffUser, staff_id), "a brand new secret", clock.now()
        )
        db.session.commit()
    assert laptop.get("/dashboard/").status_code == 302
    assert phone.get("/dashboard/").status_code == 302
    sign_in(laptop, EMAIL, "a brand new secret")
    with app.app_context():
        assert services.sign_out_everywhere(db.session.get(StaffUser, staff_id), clock.now()) == 1
        db.session.commit()
    assert laptop.get("/dashboard/").status_code == 302


def test_an_idle_session_expires(app: Flask, client: FlaskClient, clock: Any) -> None:
    from datetime import timedelta

    make_staff(app, "admin", EMAIL)
    sign_in(client, EMAIL)
    clock.advance(timedelta(hours=11))
    assert client.get("/dashboard/").status_code == 200
    clock.advance(timedelta(hours=12, minutes=1))
    assert client.get("/dashboard/").status_code == 302


def test_cookie_flags(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "admin", EMAIL)
    response = sign_in(client, EMAIL)
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header
    production = create_app(
        {**TEST_SETTINGS, "SOUNDING_ENV": "production", "DATABASE_URL": "sqlite://"}
    )
    assert production.config["SESSION_COOKIE_SECURE"] is True


def test_sign_in_is_rate_limited_per_email_and_per_ip(database_url: str, clock: Any) -> None:
    with app_with(
        database_url, clock, SIGN_IN_RATE_PER_EMAIL="3/minute", SIGN_IN_RATE_PER_IP="5/minute"
    ) as app:
        make_staff(app, "admin", EMAIL)
        client = app.test_client()
        for _ in range(3):
            assert _post_sign_in(client, EMAIL, "wrong password!").status_code == 401
        limited = _post_sign_in(client, EMAIL, STAFF_PASSWORD)  # even the right password
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
        assert "Too many attempts" in limited.get_data(as_text=True)
        assert client.get("/dashboard/").status_code == 302
        # The same address, another email: the fifth attempt from this IP passes the limit
        # (the refused fourth counted too); the sixth does not.
        assert _post_sign_in(client, "x@acme.example", "whatever!!").status_code == 401
        assert _post_sign_in(client, "x@acme.example", "whatever!!").status_code == 429
        with app.app_context():
            throttled = db.session.query(AuditEntry).filter_by(action="staff.sign_in_throttled")
            assert throttled.count() == 2


def test_a_tampered_csrf_token_is_a_friendly_400(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "admin", EMAIL)
    page = client.get("/dashboard/sign-in")
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(
        "/dashboard/sign-in",
        data={"email": EMAIL, "password": STAFF_PASSWORD, "csrf_token": token[:-4] + "AAAA"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This form has expired" in html and "nothing was saved" in html
    assert client.get("/dashboard/").status_code == 302


def test_empty_fields_are_shown_inline(app: Flask, client: FlaskClient) -> None:
    page = client.get("/dashboard/sign-in")
    response = client.post(
        "/dashboard/sign-in",
        data={"email": "", "password": "", "csrf_token": csrf_token(page.get_data(as_text=True))},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html and "Enter your email." in html
    assert 'id="password-error"' in html and 'aria-invalid="true"' in html
    with app.app_context():
        assert db.session.query(StaffSession).count() == 0
