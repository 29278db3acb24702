"""The read-only dashboard: the overview and the responses (signing in: tests/staff)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from app.clock import FrozenClock
from app.db import db
from app.models import Invitation, Response
from app.policy.nps import category
from app.vocabulary import Channel, InvitationStatus, Role, Trigger
from tests.support.factories import account_row, person_row, survey_row
from tests.support.staff import make_staff, sign_in


def _answers(app: Flask, clock: FrozenClock) -> None:
    now = clock.now()
    with app.app_context():
        survey = survey_row(now, "Product NPS", question="Q?")
        umbrella = account_row(now, "Umbrella", external_id="umbrella")
        for i, (score, role, comment) in enumerate(
            [
                (10, Role.EXECUTIVE, "Love the reports"),
                (2, Role.END_USER, "Exports time out"),
                (8, Role.END_USER, None),
            ]
        ):
            when = now - timedelta(days=3 * (i + 1))
            person = person_row(
                when,
                email=f"p{i}@umbrella.example",
                name=f"Person {i}",
                role=role,
                account=umbrella,
            )
            inv = Invitation(
                survey=survey,
                person=person,
                account=umbrella,
                channel=Channel.EMAIL,
                status=InvitationStatus.RESPONDED,
                trigger=Trigger.API,
                scheduled_at=when,
                sent_at=when,
                deadline_at=when + timedelta(days=10),
                attempts=0,
                created_at=when,
                updated_at=when,
            )
            db.session.add(
                Response(
                    invitation=inv,
                    survey=survey,
                    person=person,
                    account=umbrella,
                    score=score,
                    category=category(score),
                    comment=comment,
                    role=role,
                    channel=Channel.EMAIL,
                    answered_at=when,
                    updated_at=when,
                )
            )
        db.session.commit()


def test_pages_need_a_signed_in_staff_member(client: FlaskClient) -> None:
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/sign-in")


def test_overview_shows_the_figures(app: Flask, clock: FrozenClock, client: FlaskClient) -> None:
    _answers(app, clock)
    make_staff(app, "admin", "ada@acme.example")
    sign_in(client, "ada@acme.example")
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "NPS by month" in html
    assert '<div class="big">+0</div>' in html  # 1 promoter, 1 passive, 1 detractor
    assert "1 promoters · 1 passives · 1 detractors" in html
    assert "Umbrella" in html and "Exports time out" in html
    assert '<th scope="row">Executive</th><td class="num">+100</td>' in html
    executives = client.get("/dashboard/?role=executive").get_data(as_text=True)
    assert '<div class="big">+100</div>' in executives


def test_responses_filter_by_category(app: Flask, clock: FrozenClock, client: FlaskClient) -> None:
    _answers(app, clock)
    make_staff(app, "admin", "ada@acme.example")
    sign_in(client, "ada@acme.example")
    html = client.get("/dashboard/responses?category=detractor").get_data(as_text=True)
    assert "Exports time out" in html and "Love the reports" not in html
    # Unknown filter values are ignored, not errors.
    assert client.get("/dashboard/responses?category=x&period=zz&role=ceo").status_code == 200
