"""Factories: people, accounts, staff, surveys, invitations and responses made the way
Sounding makes them, through its API or its services (never by mocking either).

The API factories take an ``Api`` (see ``tests.support.api``) and return the JSON body of the
201 answer, failing the test with the body if the API refused. ``post_invitation`` returns the
raw answer, for tests about refusals.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

from app import clock as app_clock
from app.db import db
from app.models import Account, Person, Response, StaffUser, Survey
from app.services.responses import lock_invitation, record_response
from app.vocabulary import Channel, Role, StaffRole
from tests.support.api import Api

SURVEYS = "/api/v1/surveys"
PEOPLE = "/api/v1/people"
INVITATIONS = "/api/v1/invitations"
STAFF = "/api/v1/staff"

#: The person an invitation goes to when the test does not say.
PAT: dict[str, Any] = {"email": "pat@globex.example", "name": "Pat Doe"}


def _created(response: TestResponse, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (201,)), response.get_json()
    return response.get_json()


def new_survey(api: Api, **fields: Any) -> dict[str, Any]:
    """A survey named "Product NPS" unless ``name`` is given, with Sounding's defaults."""
    return _created(api.post(SURVEYS, json={"name": "Product NPS", **fields}))


def new_person(api: Api, external_id: str = "u-1", **fields: Any) -> dict[str, Any]:
    """A person with an email address made from ``external_id`` unless ``email`` is given."""
    fields.setdefault("email", f"{external_id}@globex.example")
    return _created(api.post(PEOPLE, json={"external_id": external_id, **fields}))


def upsert_person(api: Api, **fields: Any) -> dict[str, Any]:
    """A person posted as given: created (201) or updated (200) by external id or email."""
    return _created(api.post(PEOPLE, json=fields), 200, 201)


def account_ref(external_id: str = "globex", name: str = "Globex", **fields: Any) -> dict[str, Any]:
    """An account as a person's ``account`` field names it (the account is made with them)."""
    return {"external_id": external_id, "name": name, **fields}


def new_staff(api: Api, email: str = "jane@acme.example", **fields: Any) -> dict[str, Any]:
    """A staff user (a CSM unless ``role`` is given) through the admin API."""
    fields.setdefault("name", email.split("@")[0].title())
    return _created(api.post(STAFF, json={"email": email, **fields}))


def staff_user(app: Flask, email: str, role: StaffRole = StaffRole.CSM) -> int:
    """A staff user straight in the database (where no admin key exists yet); returns its id."""
    with app.app_context():
        staff = StaffUser(
            email=email, name=email.split("@")[0].title(), role=role, created_at=app_clock.now()
        )
        db.session.add(staff)
        db.session.commit()
        return staff.id


def post_invitation(api: Api, **body: Any) -> TestResponse:
    """POST ``body`` to /api/v1/invitations as it is; the answer is the test's to check."""
    return api.post(INVITATIONS, json=body)


def invite(api: Api, survey_id: int, channel: str = "email", **person: Any) -> dict[str, Any]:
    """An invitation to ``survey_id`` over ``channel`` for the person described by ``person``
    (upserted with it; Pat Doe's fields where not given, none where given as None)."""
    fields = {name: value for name, value in {**PAT, **person}.items() if value is not None}
    body = {"survey_id": survey_id, "channel": channel, "person": fields}
    return _created(post_invitation(api, **body))


def invite_person(
    api: Api, survey_id: int, person_id: int, channel: str = "email", **fields: Any
) -> dict[str, Any]:
    """An invitation to ``survey_id`` over ``channel`` for the existing person ``person_id``;
    ``fields`` are the invitation's other fields (``scheduled_at``, ``trigger`` ...)."""
    body = {"survey_id": survey_id, "person_id": person_id, "channel": channel, **fields}
    return _created(post_invitation(api, **body))


def answer(
    app: Flask,
    invitation_id: int,
    score: int,
    comment: str | None = None,
    role: Role | None = None,
    channel: Channel | None = None,
) -> int:
    """A response to ``invitation_id`` recorded by the service every channel uses, at the
    clock's time; returns the response's id."""
    with app.app_context():
        locked = lock_invitation(invitation_id)
        assert locked is not None, f"no invitation {invitation_id}"
        response: Response = record_response(
            locked,
            score=score,
            comment=comment,
            role=role,
            now=app_clock.now(),
            channel=channel,
        )
        db.session.commit()
        return response.id


# --- rows, for tests that build a history in the session (inside an app context) ---------


def survey_row(now: datetime, name: str = "S", **fields: Any) -> Survey:
    """A survey added to the session, made at ``now``."""
    fields = {"question": "?", "channels": {}, **fields}
    survey = Survey(name=name, created_at=now, updated_at=now, **fields)
    db.session.add(survey)
    return survey


def account_row(now: datetime, name: str, **fields: Any) -> Account:
    """An account added to the session, made at ``now``."""
    account = Account(name=name, created_at=now, **fields)
    db.session.add(account)
    return account


def person_row(now: datetime, **fields: Any) -> Person:
    """A person added to the session, first seen at ``now``."""
    person = Person(properties={}, first_seen_at=now, created_at=now, updated_at=now, **fields)
    db.session.add(person)
    return person


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
