"""What the workspace page tests share: a signed-in client, a form's fields, making rows."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.db import db
from app.models import Account, Invitation, Person, Response, Survey
from app.policy.nps import category
from app.vocabulary import Channel, InvitationStatus, Role, Trigger
from tests.support.api import csrf_token
from tests.support.staff import make_staff, sign_in


def signed_in(app: Flask, client: FlaskClient, role: str = "admin") -> FlaskClient:
    """``client`` signed in with a password as a new staff member with ``role``
    (``<role>@acme.example``)."""
    email = f"{role}@acme.example"
    make_staff(app, role, email)
    sign_in(client, email)
    return client


def post_form(
    client: FlaskClient, path: str, data: dict[str, Any], page: str | None = None
) -> TestResponse:
    """POST ``data`` with the CSRF token of the page at ``page`` (default: ``path``)."""
    html = client.get(page or path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token(html), **data})


def field_error(html: str, field_id: str) -> str | None:
    """The inline error shown for the field with this id, if any."""
    match = re.search(rf'id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    return match.group(1).strip() if match else None


def make_survey(now: datetime, **fields: Any) -> Survey:
    survey = Survey(
        name=fields.pop("name", "Product NPS"),
        question=fields.pop("question", "How likely?"),
        channels=fields.pop("channels", {"enabled": ["email", "sms", "link", "widget"]}),
        created_at=now,
        updated_at=now,
        **fields,
    )
    db.session.add(survey)
    db.session.flush()
    return survey


def make_person(now: datetime, email: str, account: Account | None = None, **fields: Any) -> Person:
    person = Person(
        email=email,
        account=account,
        first_seen_at=now,
        created_at=now,
        updated_at=now,
        properties={},
        **fields,
    )
    db.session.add(person)
    db.session.flush()
    return person


def asked(
    survey: Survey,
    person: Person,
    when: datetime,
    score: int | None = None,
    role: Role | None = None,
    comment: str | None = None,
) -> Invitation:
    """An email invitation sent at ``when``: answered with ``score`` the same moment, or
    expired unanswered."""
    invitation = Invitation(
        survey=survey,
        person=person,
        account=person.account,
        channel=Channel.EMAIL,
        status=InvitationStatus.EXPIRED if score is None else InvitationStatus.RESPONDED,
        trigger=Trigger.API,
        scheduled_at=when,
        sent_at=when,
        deadline_at=when + timedelta(days=10),
        attempts=0,
        created_at=when,
        updated_at=when,
    )
    db.session.add(invitation)
    if score is not None:
        db.session.add(
            Response(
                invitation=invitation,
                survey=survey,
                person=person,
                account=person.account,
                score=score,
                category=category(score),
                comment=comment,
                role=role,
                channel=Channel.EMAIL,
                answered_at=when,
                updated_at=when,
            )
        )
    return invitation
