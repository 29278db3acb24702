"""The read-only dashboard: signing in with an API key, the overview and the responses."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from app.clock import FrozenClock
from app.db import db
from app.models import Account, ApiKey, Invitation, Person, Response, Survey
from app.policy.nps import category
from app.vocabulary import Channel, InvitationStatus, Role, Trigger
from tests.support.api import csrf_token


def _sign_in(client: FlaskClient, key: str) -> None:
    page = client.get("/dashboard/sign-in")
    response = client.post(
        "/dashboard/sign-in",
        data={"key": key, "csrf_token": csrf_token(page.get_data(as_text=True))},
    )
    assert response.status_code == 302


def _answers(app: Flask, clock: FrozenClock) -> None:
    now = clock.now()
    with app.app_context():
        survey = Survey(
            name="Product NPS", question="Q?", channels={}, created_at=now, updated_at=now
        )
        umbrella = Account(external_id="umbrella", name="Umbrella", created_at=now)
        for i, (score, role, comment) in enumerate(
            [
                (10, Role.EXECUTIVE, "Love the reports"),
                (2, Role.END_USER, "Exports time out"),
                (8, Role.END_USER, None),
            ]
        ):
            when = now - timedelta(days=3 * (i + 1))
            person = Person(
                email=f"p{i}@umbrella.example",
                name=f"Person {i}",
                role=role,
                account=umbrella,
                first_seen_at=when,
                created_at=when,
                updated_at=when,
                properties={},
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


def test_pages_need_a_signed_in_key(client: FlaskClient) -> None:
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/sign-in")


def test_a_wrong_key_is_refused_with_a_friendly_page(client: FlaskClient) -> None:
    page = client.get("/dashboard/sign-in")
    response = client.post(
        "/dashboard/sign-in",
        data={"key": "snd_wrong", "csrf_token": csrf_token(page.get_data(as_text=True))},
    )
    assert response.status_code == 401
    assert "That key is not valid" in response.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302


def test_sign_in_needs_the_csrf_token(client: FlaskClient, admin_key: str) -> None:
    response = client.post("/dashboard/sign-in", data={"key": admin_key})
    assert response.status_code == 400
    assert "text/html" in response.content_type
    assert client.get("/dashboard/").status_code == 302


def test_overview_shows_the_figures(
    app: Flask, clock: FrozenClock, client: FlaskClient, admin_key: str
) -> None:
    _answers(app, clock)
    _sign_in(client, admin_key)
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "NPS by month" in html
    assert '<div class="big">+0</div>' in html  # 1 promoter, 1 passive, 1 detractor
    assert "1 promoters · 1 passives · 1 detractors" in html
    assert "Umbrella" in html and "Exports time out" in html
    assert '<th scope="row">Executive</th><td class="num">+100</td>' in html
    executives = client.get("/dashboard/?role=executive").get_data(as_text=True)
    assert '<div class="big">+100</div>' in executives


def test_responses_filter_by_category(
    app: Flask, clock: FrozenClock, client: FlaskClient, admin_key: str
) -> None:
    _answers(app, clock)
    _sign_in(client, admin_key)
    html = client.get("/dashboard/responses?category=detractor").get_data(as_text=True)
    assert "Exports time out" in html and "Love the reports" not in html
    # Unknown filter values are ignored, not errors.
    assert client.get("/dashboard/responses?category=x&period=zz&role=ceo").status_code == 200


def test_a_revoked_key_ends_the_session(
    app: Flask, clock: FrozenClock, client: FlaskClient, admin_key: str
) -> None:
    _sign_in(client, admin_key)
    assert client.get("/dashboard/").status_code == 200
    with app.app_context():
        db.session.query(ApiKey).update({"revoked_at": clock.now()})
        db.session.commit()
    assert client.get("/dashboard/").status_code == 302
