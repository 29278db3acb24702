"""Speaking to the API as a test: keys for a role, JSON requests with one, and reading what came
back (the error body, CSRF tokens, row counts to show a refusal changed nothing)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import clock as app_clock
from app.db import db
from app.models import StaffUser
from app.vocabulary import StaffRole


def issue_test_key(app: Flask, role: str, staff_email: str | None = None) -> str:
    from app.api.auth import issue_key

    with app.app_context():
        staff = None
        if staff_email:
            staff = db.session.query(StaffUser).filter_by(email=staff_email).one_or_none()
            if staff is None:
                staff = StaffUser(
                    email=staff_email,
                    name=staff_email.split("@")[0].title(),
                    role=StaffRole(role),
                    created_at=app_clock.now(),
                )
                db.session.add(staff)
        _, plain = issue_key(f"test {role}", StaffRole(role), staff, app_clock.now())
        db.session.commit()
        return plain


class Api:
    """JSON requests with a bearer key."""

    def __init__(self, client: FlaskClient, key: str) -> None:
        self.client = client
        self.key = key

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **(headers or {})}

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        return self.client.post(
            path, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        return self.client.patch(
            path, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.delete(
            path, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )

    def put(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        return self.client.put(
            path, json=json, headers=self._headers(kwargs.pop("headers", None)), **kwargs
        )


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def error_of(response: TestResponse) -> dict[str, Any]:
    body = response.get_json()
    assert body is not None and "error" in body, response.get_data(as_text=True)
    return body["error"]


def row_counts(app: Flask) -> dict[str, int]:
    """How many rows every table holds: compare before and after a refused request to show
    it changed nothing."""
    from sqlalchemy import func, select

    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
            for table in db.metadata.sorted_tables
        }


def iso(moment: datetime) -> str:
    """A time as the API writes it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
