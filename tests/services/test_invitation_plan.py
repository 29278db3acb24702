"""One planner for every new invitation (:func:`app.policy.planner.plan`): a single
invitation and a fan-out plan the same times, and the first lease of a new invitation is
``SWEEP_LEASE_SECONDS``, like every lease the sweep takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask

from app.clock import FrozenClock
from app.db import db
from app.models import Invitation
from app.policy.lifecycle import ReminderPlan
from app.policy.planner import plan
from app.policy.rules import CadenceRules
from app.services.fanout import FanOutSpec, fan_out_chunk
from app.vocabulary import Channel, InvitationStatus, Trigger
from tests.support.api import Api, issue_test_key
from tests.support.jobs import run_worker

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


def test_a_link_due_now_is_out_and_a_message_is_leased() -> None:
    rules, reminders = CadenceRules(), ReminderPlan()
    link = plan(
        reminders,
        rules,
        Channel.LINK,
        NOW,
        timezone=None,
        closes_at=None,
        now=NOW,
        lease=timedelta(1),
    )
    assert link is not None
    assert (link.status, link.sent_at, link.next_action_at) == (
        InvitationStatus.SENT,
        NOW,
        link.deadline_at,
    )
    assert link.reminder_1_at is None and link.reminder_2_at is None
    email = plan(
        reminders,
        rules,
        Channel.EMAIL,
        NOW,
        timezone="Europe/Berlin",
        closes_at=None,
        now=NOW,
        lease=timedelta(seconds=42),
    )
    assert email is not None
    assert (email.status, email.sent_at) == (InvitationStatus.SCHEDULED, None)
    assert email.next_action_at == NOW + timedelta(seconds=42)
    assert email.deadline_at == datetime(2026, 11, 26, 22, 59, 59, tzinfo=UTC)  # Berlin
    closed = plan(
        reminders,
        rules,
        Channel.EMAIL,
        NOW,
        timezone=None,
        closes_at=NOW,
        now=NOW,
        lease=timedelta(1),
    )
    assert closed is None


def test_single_and_fan_out_invitations_take_the_configured_lease(
    rq_app: Flask, clock: FrozenClock
) -> None:
    leased_app = rq_app
    leased_app.config["SWEEP_LEASE_SECONDS"] = 42
    api = Api(leased_app.test_client(), issue_test_key(leased_app, "admin"))
    single = api.post("/api/v1/surveys", json={"name": "One"}).get_json()["id"]
    wide = api.post("/api/v1/surveys", json={"name": "All"}).get_json()["id"]
    api.put("/api/v1/cadence", json={"recontact_days": 0})
    ids = []
    for n in range(2):
        body = {"email": f"l{n}@globex.example", "timezone": "Europe/Berlin"}
        ids.append(api.post("/api/v1/people", json=body).get_json()["id"])
    invited = api.post(
        "/api/v1/invitations", json={"survey_id": single, "person_id": ids[0], "channel": "email"}
    )
    assert invited.status_code == 201, invited.get_json()
    with leased_app.app_context():
        # The fan-out's first step is enqueued to Redis and waits there: the lease holds.
        spec = FanOutSpec(survey_id=wide, channel=Channel.EMAIL, trigger=Trigger.CAMPAIGN)
        assert fan_out_chunk(spec, clock.now()).counts == {"ok": 2}
        db.session.commit()
        rows = db.session.scalars(db.select(Invitation).order_by(Invitation.id)).all()
        assert len(rows) == 3
        by_survey = {(r.survey_id, r.person_id): r for r in rows}
        lease_ends = clock.now() + timedelta(seconds=42)
        assert all(r.next_action_at == lease_ends for r in rows)
        # The same person, planned alone and in a fan-out, gets the same times.
        alone, in_fan_out = by_survey[(single, ids[0])], by_survey[(wide, ids[0])]
        for field in ("status", "scheduled_at", "reminder_1_at", "reminder_2_at", "deadline_at"):
            assert getattr(alone, field) == getattr(in_fan_out, field), field
    assert run_worker(leased_app) >= 2
