"""Small helpers the tests share (not fixtures: those are in conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from rq import SimpleWorker
from werkzeug.test import TestResponse

from app import clock as app_clock
from app.db import db
from app.jobs.queue import QUEUES, RQBackend, backend
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


def run_worker(app: Flask) -> int:
    """Run a real RQ worker in burst mode over every queue; returns how many jobs it ran.
    Failed jobs fail the test."""
    chosen = backend(app)
    assert isinstance(chosen, RQBackend), "run_worker needs the rq_app fixture"
    queues = [chosen.queue(name) for name in QUEUES]
    before = sum(q.finished_job_registry.count for q in queues)
    worker = SimpleWorker(queues, connection=chosen.connection)
    with app.app_context():
        worker.work(burst=True)
    failed = [job_id for q in queues for job_id in q.failed_job_registry.get_job_ids()]
    assert not failed, f"jobs failed: {failed}"
    return sum(q.finished_job_registry.count for q in queues) - before


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


def new_survey(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.post("/api/v1/surveys", json={"name": "Product NPS", **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def new_person(api: Api, external_id: str = "u-1", **fields: Any) -> dict[str, Any]:
    """A person with an email address made from ``external_id`` unless ``email`` is given."""
    fields.setdefault("email", f"{external_id}@globex.example")
    response = api.post("/api/v1/people", json={"external_id": external_id, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


#: Cadence for tests about something else than cadence: ask anyone, any time, as often as the
#: test needs (the defaults would refuse a second ask within 30 days, and hold email and SMS
#: outside 09:00-17:00 on weekdays).
PERMISSIVE_CADENCE: dict[str, Any] = {
    "recontact_days": 0,
    "recurrence_days": 0,
    "min_tenure_days": 0,
    "yearly_cap": 1000,
    "send_window_start": "00:00",
    "send_window_end": "23:59",
    "send_weekdays": [0, 1, 2, 3, 4, 5, 6],
}


def permissive_cadence(api: Api, **overrides: Any) -> None:
    response = api.put("/api/v1/cadence", json={**PERMISSIVE_CADENCE, **overrides})
    assert response.status_code == 200, response.get_json()


STAFF_PASSWORD = "correct horse battery staple"


def make_staff(app: Flask, role: str, email: str, *, password: str | None = STAFF_PASSWORD) -> int:
    """A staff member with a password; returns their id."""
    from app.access.passwords import hash_password

    with app.app_context():
        staff = StaffUser(
            email=email,
            name=email.split("@")[0].title(),
            role=StaffRole(role),
            created_at=app_clock.now(),
            password_hash=hash_password(password) if password else None,
        )
        db.session.add(staff)
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
    from tests.conftest import make_app

    made = make_app(database_url, clock, **overrides)
    app = next(made)
    try:
        yield app
    finally:
        next(made, None)
