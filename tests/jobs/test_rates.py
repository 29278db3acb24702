"""Sending rates: a delivery job sends what the shared window allows and hands the rest back
to the sweep, unclaimed and due when capacity returns; nothing sleeps, nothing is dropped,
nothing goes twice. The window is shared through Redis by every worker."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from app import create_app
from app.clock import FrozenClock
from app.db import db
from app.jobs.rates import acquire
from app.jobs.sweep import sweep
from app.models import Invitation, Message, OutboxMessage
from app.ratelimit import limiter
from app.services.invitations import InvitationRequest, create_invitation
from app.vocabulary import Channel, InvitationStatus, Trigger
from tests.support.factories import person_row, survey_row
from tests.support.jobs import run_worker
from tests.support.settings import TEST_SETTINGS


def _invite(app: Flask, clock: FrozenClock, channel: Channel, count: int) -> list[int]:
    with app.app_context():
        now = clock.now()
        survey = survey_row(now)
        ids = []
        for i in range(count):
            person = person_row(
                now, email=f"p{i}@x.example", phone=f"+4915112345{i:03d}", timezone="Europe/Berlin"
            )
            db.session.flush()
            request = InvitationRequest(survey, person, channel, Trigger.API)
            ids.append(create_invitation(request, now).id)
        db.session.commit()  # in-process backend: the send jobs run here
        return ids


def _sent(app: Flask) -> int:
    with app.app_context():
        return db.session.query(OutboxMessage).count()


def test_sms_over_the_sender_rate_waits_for_the_sweep(app: Flask, clock: FrozenClock) -> None:
    app.config["SMS_SENDER_RATE"] = "2/minute"
    ids = _invite(app, clock, Channel.SMS, 5)
    assert _sent(app) == 2
    with app.app_context():
        waiting = db.session.scalars(
            select(Invitation).where(Invitation.status == InvitationStatus.SCHEDULED)
        ).all()
        assert len(waiting) == 3
        assert all(inv.next_action_at > clock.now() for inv in waiting)
        assert db.session.query(Message).count() == 2  # nothing claimed for the others
    for expected in (4, 5, 5):
        with app.app_context():
            limiter().storage.reset()  # the minute has passed
        clock.advance(minutes=2)
        with app.app_context():
            sweep()
        assert _sent(app) == expected
    with app.app_context():
        statuses = {db.session.get(Invitation, i).status for i in ids}
        assert statuses == {InvitationStatus.SENT}
        assert db.session.query(Message).count() == 5  # each sent once


def test_email_rate_is_shared_by_workers_through_redis(
    rq_app: Flask, clock: FrozenClock, redis_url: str, database_url: str
) -> None:
    rq_app.config["EMAIL_SEND_RATE"] = "3/minute"
    _invite(rq_app, clock, Channel.EMAIL, 5)
    assert run_worker(rq_app) == 5
    assert _sent(rq_app) == 3
    # Another worker process (another app, same Redis) finds the window full.
    other = create_app(
        {
            **TEST_SETTINGS,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "EMAIL_SEND_RATE": "3/minute",
        }
    )
    with other.app_context():
        granted, reset_at = acquire(Channel.EMAIL, 2)
        assert granted == 0 and reset_at is not None
        db.engine.dispose()
    with rq_app.app_context():
        assert (
            db.session.query(Invitation).filter_by(status=InvitationStatus.SCHEDULED).count() == 2
        )
