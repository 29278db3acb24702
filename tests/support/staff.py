"""Staff for tests: a staff member with a password, signing in through the page, an app with
other settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import clock as app_clock
from app.db import db
from app.models import StaffUser
from app.vocabulary import StaffRole
from tests.support.api import csrf_token
from tests.support.app import make_app

STAFF_PASSWORD = "correct horse battery staple"


def make_staff(app: Flask, role: str, email: str, *, password: str | None = STAFF_PASSWORD) -> int:
    """A staff member with a password (or, if one exists with this email, give them it);
    returns their id."""
    from app.access.passwords import hash_password

    with app.app_context():
        staff = db.session.query(StaffUser).filter_by(email=email).one_or_none()
        if staff is None:
            staff = StaffUser(
                email=email,
                name=email.split("@")[0].title(),
                role=StaffRole(role),
                created_at=app_clock.now(),
            )
            db.session.add(staff)
        staff.password_hash = hash_password(password) if password else None
        db.session.commit()
        return staff.id


def sign_in(
    client: FlaskClient, email: str, password: str = STAFF_PASSWORD, *, expect: int = 302
) -> TestResponse:
    """Sign in through the sign-in page as a browser would (with its CSRF token)."""
    page = client.get("/dashboard/sign-in")
    response = client.post(
        "/dashboard/sign-in",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_token(page.get_data(as_text=True)),
        },
    )
    assert response.status_code == expect, response.get_data(as_text=True)[:500]
    return response


@contextmanager
def app_with(database_url: str, clock: Any, **overrides: Any) -> Iterator[Flask]:
    """An app with other settings, emptied afterwards even when the test fails."""
    made = make_app(database_url, clock, **overrides)
    app = next(made)
    try:
        yield app
    finally:
        next(made, None)
