"""Helpers for walking invitations through their lifecycle with the controllable clock.

The sweep runs at every moment something is due (``next_action_at``), as the worker's
periodic sweep would, with jobs run in-process after each commit (the ``app`` fixture).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.clock import FrozenClock
from app.db import db
from app.jobs.sweep import sweep
from app.models import Invitation, Message, OutboxMessage

BASE = "http://sounding.test"


def run_until(app: Flask, clock: FrozenClock, moment: datetime) -> int:
    """Sweep at every due moment up to ``moment``, then leave the clock there. Returns how
    many sweeps ran."""
    sweeps = 0
    with app.app_context():
        while True:
            sweep()
            sweeps += 1
            db.session.commit()
            due = db.session.scalar(select(func.min(Invitation.next_action_at)))
            if due is None or due > moment:
                break
            clock.set(max(due, clock.now() + timedelta(seconds=1)))
            assert sweeps < 1000, "the sweep does not settle"
    clock.set(max(moment, clock.now()))
    with app.app_context():
        sweep()
    return sweeps + 1


@dataclass(frozen=True)
class Sent:
    invitation_id: int | None
    step: str
    channel: str
    recipient: str
    subject: str | None
    text: str
    created_at: datetime
    headers: dict[str, Any]


def outbox(app: Flask, invitation_id: int | None = None) -> list[Sent]:
    with app.app_context():
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if invitation_id is not None:
            query = query.where(OutboxMessage.invitation_id == invitation_id)
        return [
            Sent(
                m.invitation_id,
                m.step,
                m.channel,
                m.recipient,
                m.subject,
                m.text,
                m.created_at,
                dict(m.headers or {}),
            )
            for m in db.session.scalars(query)
        ]


def steps_sent(app: Flask, invitation_id: int) -> list[str]:
    return [m.step for m in outbox(app, invitation_id)]


def invitation(app: Flask, invitation_id: int) -> Invitation:
    with app.app_context():
        found = db.session.get(Invitation, invitation_id)
        assert found is not None
        db.session.expunge(found)
        return found


def messages(app: Flask, invitation_id: int) -> dict[str, Message]:
    with app.app_context():
        rows = db.session.scalars(select(Message).where(Message.invitation_id == invitation_id))
        found = {m.step: m for m in rows}
        db.session.expunge_all()
        return found


def survey_link(text: str) -> str:
    match = re.search(rf"{re.escape(BASE)}(/s/[A-Za-z0-9_.\-]+)", text)
    assert match, text
    return match.group(1)


def answer_by_link(client: FlaskClient, path: str, score: int = 8) -> int:
    """Open the signed survey page and answer it; returns the status of the POST."""
    page = client.get(path)
    if page.status_code != 200:
        return page.status_code
    # The survey page takes no CSRF token: the signed link is the credential.
    return client.post(path, data={"score": str(score)}).status_code
