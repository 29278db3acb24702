"""Invitations in review (a step claimed, the provider's answer never heard): the sweep puts
them there instead of sending again; a person settles them; a late answer settles them too;
and a step is not sent to someone who answered between its claim and its send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.clock import FrozenClock
from app.db import db
from app.jobs.delivery import claim
from app.jobs.handover import drop_ended, hand_over
from app.jobs.outcomes import record
from app.jobs.sweep import sweep
from app.models import Invitation, Message
from app.services.responses import lock_invitation, record_response
from app.vocabulary import Channel, InvitationStatus
from channels.base import Outcome, SendResult, Step
from tests.support.api import Api, error_of, issue_test_key
from tests.support.factories import invite, new_survey
from tests.support.lifecycle import invitation, outbox, run_until

REMINDER_1 = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)


def _stuck_at_reminder_1(app: Flask, api: Api, clock: FrozenClock) -> int:
    """An invitation whose reminder 1 was claimed by a worker that then died."""
    survey = new_survey(api)
    inv = invite(api, survey["id"], timezone="Europe/London")
    run_until(app, clock, REMINDER_1 - timedelta(minutes=1))
    clock.set(REMINDER_1)
    with app.app_context():
        assert claim(Channel.EMAIL, [inv["id"]], Step.REMINDER_1, clock.now()) == [inv["id"]]
        db.session.commit()
        message_id = db.session.scalar(select(Message.id).where(Message.step == "reminder_1"))
        assert hand_over([message_id], clock.now()) == {message_id}
    clock.advance(minutes=11)  # past CLAIM_TIMEOUT_SECONDS (600)
    with app.app_context():
        assert sweep()["needs_review"] == 1
    assert invitation(app, inv["id"]).status == InvitationStatus.NEEDS_REVIEW
    return inv["id"]


def test_it_went_out_the_invitation_carries_on(app: Flask, api: Api, clock: FrozenClock) -> None:
    inv_id = _stuck_at_reminder_1(app, api, clock)
    response = api.post(f"/api/v1/invitations/{inv_id}/review", json={"sent": True})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "reminded_1"
    assert body["reminded_1_at"] == "2026-11-19T10:00:00Z"  # when it was claimed
    assert [(m["step"], m["status"]) for m in body["messages"]] == [
        ("initial", "accepted"),
        ("reminder_1", "accepted"),
    ]
    run_until(app, clock, datetime(2026, 12, 10, tzinfo=UTC))
    assert [m.step for m in outbox(app, inv_id)] == ["initial", "reminder_2"]
    assert invitation(app, inv_id).status == InvitationStatus.EXPIRED


def test_it_did_not_go_out_the_step_is_sent_once(app: Flask, api: Api, clock: FrozenClock) -> None:
    inv_id = _stuck_at_reminder_1(app, api, clock)
    response = api.post(f"/api/v1/invitations/{inv_id}/review", json={"sent": False})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "sent"
    run_until(app, clock, datetime(2026, 12, 10, tzinfo=UTC))
    assert [m.step for m in outbox(app, inv_id)] == ["initial", "reminder_1", "reminder_2"]


def test_an_invitation_in_review_can_be_canceled(app: Flask, api: Api, clock: FrozenClock) -> None:
    inv_id = _stuck_at_reminder_1(app, api, clock)
    response = api.post(f"/api/v1/invitations/{inv_id}/cancel")
    assert response.status_code == 200 and response.get_json()["status"] == "canceled"


def test_review_input_is_checked(app: Flask, api: Api, clock: FrozenClock) -> None:
    inv_id = _stuck_at_reminder_1(app, api, clock)
    url = f"/api/v1/invitations/{inv_id}/review"
    for body, field in (({}, "sent"), ({"sent": "maybe"}, "sent"), ({"sent": 1, "x": 2}, "x")):
        response = api.post(url, json=body)
        assert response.status_code == 400 and error_of(response)["field"] == field
    csm = Api(app.test_client(), issue_test_key(app, "csm", "jane@acme.example"))
    assert csm.post(url, json={"sent": True}).status_code == 403
    assert api.post("/api/v1/invitations/999/review", json={"sent": True}).status_code == 404
    assert invitation(app, inv_id).status == InvitationStatus.NEEDS_REVIEW  # nothing changed
    assert api.post(url, json={"sent": True}).status_code == 200
    again = api.post(url, json={"sent": True})
    assert again.status_code == 409 and error_of(again)["code"] == "not_in_review"


def test_a_late_answer_from_the_provider_settles_the_review(
    app: Flask, api: Api, clock: FrozenClock
) -> None:
    inv_id = _stuck_at_reminder_1(app, api, clock)
    with app.app_context():  # the slow worker hears back after the sweep gave up on it
        inv = db.session.get(Invitation, inv_id)
        message = db.session.scalar(select(Message).where(Message.step == "reminder_1"))
        record(
            [SendResult(message.id, Outcome.ACCEPTED, provider_id="p-9")],
            [inv],
            {message.id: inv_id},
            Step.REMINDER_1,
            clock.now(),
            Channel.EMAIL,
        )
        db.session.commit()
    settled = invitation(app, inv_id)
    assert settled.status == InvitationStatus.REMINDED_1
    assert settled.next_action_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("how", ["responded", "canceled"])
def test_a_step_claimed_just_before_an_answer_is_not_sent(
    app: Flask, api: Api, clock: FrozenClock, how: str
) -> None:
    survey = new_survey(api)
    inv = invite(api, survey["id"], timezone="Europe/London")
    run_until(app, clock, REMINDER_1 - timedelta(minutes=1))
    clock.set(REMINDER_1)
    with app.app_context():
        claim(Channel.EMAIL, [inv["id"]], Step.REMINDER_1, clock.now())
        db.session.commit()
        # Between the claim and the send, the person answers (or a CSM cancels).
        locked = lock_invitation(inv["id"])
        if how == "responded":
            record_response(locked, score=7, comment=None, role=None, now=clock.now())
        else:
            locked.status = InvitationStatus.CANCELED
        db.session.commit()
        loaded = list(db.session.scalars(select(Invitation).where(Invitation.id == inv["id"])))
        message = db.session.scalar(select(Message).where(Message.step == "reminder_1"))
        keep, ids = drop_ended(loaded, {inv["id"]: message.id}, Step.REMINDER_1, clock.now())
        db.session.commit()
        assert keep == [] and ids == {}
        db.session.refresh(message)
        assert message.status.value == "skipped"
        assert message.error == f"not sent: the invitation ended ({how}) before it went out"
