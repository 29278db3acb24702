"""Claims, provider outcomes and the sweep: a step is never sent twice.

The provider here is a scripted channel behind the channel interface (a stand-in for
SendGrid); the database and the job runner are real.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from app.clock import FrozenClock
from app.db import db
from app.jobs.delivery import deliver_email
from app.jobs.sweep import sweep
from app.models import Invitation, Message, Survey
from app.services.invitations import InvitationRequest, create_invitation
from app.services.suppressions import suppress
from app.vocabulary import (
    Channel,
    InvitationStatus,
    SuppressionKind,
    SuppressionReason,
    Trigger,
)
from channels.base import EmailMessage, Outcome, SendResult
from tests.support.factories import person_row, survey_row


class ScriptedEmail:
    """Answers each message with the outcome scripted for its recipient (default ACCEPTED)."""

    name = "scripted"
    max_batch = 2

    def __init__(self) -> None:
        self.outcomes: dict[str, SendResult] = {}
        self.sent: list[EmailMessage] = []
        self.calls = 0

    def send(self, messages: Sequence[EmailMessage]) -> list[SendResult]:
        self.calls += 1
        results = []
        for m in messages:
            scripted = self.outcomes.get(m.to.email)
            if scripted is None or scripted.outcome == Outcome.ACCEPTED:
                self.sent.append(m)
                results.append(SendResult(m.message_id, Outcome.ACCEPTED, provider_id="p-1"))
            else:
                results.append(
                    SendResult(
                        m.message_id,
                        scripted.outcome,
                        error_code=scripted.error_code,
                        error=scripted.error,
                        retry_after=scripted.retry_after,
                        suppress=scripted.suppress,
                    )
                )
        return results


@pytest.fixture
def channel(app: Flask) -> ScriptedEmail:
    scripted = ScriptedEmail()
    app.extensions["sounding.transport"].email = scripted
    return scripted


def _setup(app: Flask, clock: FrozenClock, emails: list[str], send_at=None) -> list[int]:
    with app.app_context():
        survey = survey_row(clock.now(), question="How likely?", channels={"enabled": ["email"]})
        ids = []
        for email in emails:
            person = person_row(clock.now(), email=email, name="Pat Doe")
            db.session.flush()
            inv = create_invitation(
                InvitationRequest(
                    survey=survey,
                    person=person,
                    channel=Channel.EMAIL,
                    trigger=Trigger.API,
                    send_at=send_at,
                ),
                clock.now(),
            )
            ids.append(inv.id)
        db.session.commit()  # inline jobs run here
        return ids


def _status(app: Flask, inv_id: int) -> InvitationStatus:
    with app.app_context():
        return db.session.get(Invitation, inv_id).status


def test_sent_once_even_when_the_job_runs_again(
    app: Flask, clock: FrozenClock, channel: ScriptedEmail
) -> None:
    ids = _setup(
        app,
        clock,
        ["a@x.example", "b@x.example", "c@x.example"],
        send_at=clock.now() + timedelta(hours=1),
    )
    assert channel.sent == []
    clock.advance(hours=1)
    with app.app_context():
        assert sweep()["enqueued"] == 3  # one job for the three...
    assert len(channel.sent) == 3
    assert channel.calls == 2  # ...sent in provider batches of max_batch=2
    # The same job again (a retried or duplicated RQ job) claims nothing and sends nothing.
    with app.app_context():
        stats = deliver_email(ids, "initial")
    assert stats["claimed"] == 0
    assert len(channel.sent) == 3
    with app.app_context():
        assert db.session.scalar(select(Message.id).where(Message.step == "initial").limit(1))
        assert db.session.query(Message).count() == 3
        for inv_id in ids:
            inv = db.session.get(Invitation, inv_id)
            assert inv.status == InvitationStatus.SENT
            assert inv.sent_at == clock.now()
            assert inv.next_action_at == inv.reminder_1_at


def test_transient_error_releases_the_claim_and_retries_later(
    app: Flask, clock: FrozenClock, channel: ScriptedEmail
) -> None:
    channel.outcomes["slow@x.example"] = SendResult(
        0, Outcome.TRANSIENT, error="429 rate limited", retry_after=300
    )
    [inv_id] = _setup(app, clock, ["slow@x.example"])
    with app.app_context():
        inv = db.session.get(Invitation, inv_id)
        assert inv.status == InvitationStatus.SCHEDULED
        assert inv.attempts == 1
        assert inv.last_error == "429 rate limited"
        assert inv.next_action_at == clock.now() + timedelta(seconds=300)
        assert db.session.query(Message).count() == 0  # nothing went out, no message kept
    clock.advance(seconds=60)
    with app.app_context():
        assert sweep()["enqueued"] == 0  # not due yet
    del channel.outcomes["slow@x.example"]
    clock.advance(seconds=300)
    with app.app_context():
        assert sweep()["enqueued"] == 1
    assert _status(app, inv_id) == InvitationStatus.SENT
    assert len(channel.sent) == 1


def test_transient_errors_give_up_after_max_attempts(
    app: Flask, clock: FrozenClock, channel: ScriptedEmail
) -> None:
    channel.outcomes["down@x.example"] = SendResult(0, Outcome.TRANSIENT, error="503")
    [inv_id] = _setup(app, clock, ["down@x.example"])
    for _ in range(30):  # retries wait for the send window at night
        clock.advance(hours=2)
        with app.app_context():
            sweep()
    with app.app_context():
        inv = db.session.get(Invitation, inv_id)
        assert inv.status == InvitationStatus.FAILED
        assert inv.attempts == 6
        assert "gave up after 6 attempts" in inv.end_reason
    assert channel.sent == []


def test_permanent_error_fails_the_invitation_with_the_reason(
    app: Flask, clock: FrozenClock, channel: ScriptedEmail
) -> None:
    channel.outcomes["bad@x.example"] = SendResult(
        0, Outcome.PERMANENT, error_code="http_400", error="does not contain a valid address"
    )
    [inv_id] = _setup(app, clock, ["bad@x.example"])
    with app.app_context():
        inv = db.session.get(Invitation, inv_id)
        assert inv.status == InvitationStatus.FAILED
        assert inv.end_reason == "http_400: does not contain a valid address"
        assert inv.next_action_at is None
        message = db.session.query(Message).one()
        assert message.status.value == "failed"
        assert message.error == "does not contain a valid address"


def test_permanent_error_can_suppress_the_recipient(
    app: Flask, clock: FrozenClock, channel: ScriptedEmail
) -> None:
    channel.outcomes["gone@x.example"] = SendResult(
        0, Outcome.PERMANENT, error="bounced", suppress="bounced"
    )
    _setup(app, clock, ["gone@x.example"])
    with app.app_context():
        from app.services.suppressions import is_suppressed

        assert is_suppressed(SuppressionKind.EMAIL, "gone@x.example").reason.value == "bounced"


def test_unknown_outcome_goes_to_review_and_is_never_resent(
    app: Flask, clock: FrozenClock, channel: ScriptedEmail
) -> None:
    channel.outcomes["maybe@x.example"] = SendResult(0, Outcome.UNKNOWN, error="read timeout")
    [inv_id] = _setup(app, clock, ["maybe@x.example"])
    assert _status(app, inv_id) == InvitationStatus.NEEDS_REVIEW
    clock.advance(days=1)
    with app.app_context():
        assert sweep()["enqueued"] == 0
        assert db.session.query(Message).one().status.value == "unknown"


def test_a_claim_whose_worker_died_is_marked_for_review_not_resent(
    app: Flask, clock: FrozenClock, channel: ScriptedEmail
) -> None:
    [inv_id] = _setup(app, clock, ["late@x.example"], send_at=clock.now() + timedelta(hours=1))
    clock.advance(hours=1)
    with app.app_context():
        # A worker claims the step, hands it to the provider and dies before it answers.
        from app.jobs.delivery import claim
        from app.jobs.handover import hand_over
        from channels.base import Step

        assert claim(Channel.EMAIL, [inv_id], Step.INITIAL, clock.now()) == [inv_id]
        db.session.commit()
        message_id = db.session.scalar(select(Message.id))
        assert hand_over([message_id], clock.now()) == {message_id}
    clock.advance(minutes=5)
    with app.app_context():
        assert sweep()["needs_review"] == 0  # still within the claim timeout
    clock.advance(minutes=10)
    with app.app_context():
        stats = sweep()
        assert stats["needs_review"] == 1
        inv = db.session.get(Invitation, inv_id)
        assert inv.status == InvitationStatus.NEEDS_REVIEW
        assert "may or may not have been sent" in inv.end_reason
        assert db.session.query(Message).one().status.value == "unknown"
    assert channel.sent == []


def test_a_claim_whose_worker_died_before_the_provider_call_is_sent_once(
    app: Flask, clock: FrozenClock, channel: ScriptedEmail
) -> None:
    [inv_id] = _setup(app, clock, ["early@x.example"], send_at=clock.now() + timedelta(hours=1))
    clock.advance(hours=1)
    with app.app_context():
        # A worker claims the step and dies before handing it to the provider.
        from app.jobs.delivery import claim
        from app.jobs.handover import hand_over
        from channels.base import Step

        assert claim(Channel.EMAIL, [inv_id], Step.INITIAL, clock.now()) == [inv_id]
        db.session.commit()
    clock.advance(minutes=11)
    with app.app_context():
        stats = sweep()  # certainly not sent: released, and sent again at once
        assert (stats["released"], stats["needs_review"]) == (1, 0)
        inv = db.session.get(Invitation, inv_id)
        assert inv.status == InvitationStatus.SENT
        assert inv.attempts == 0
        message = db.session.query(Message).one()
        assert message.status.value == "accepted"
        # The dead worker's message id is gone: if it came back to life it would hand
        # nothing over, so send nothing.
        assert hand_over([message.id - 1], clock.now()) == set()
    assert [m.to.email for m in channel.sent] == ["early@x.example"]


def test_suppression_wins_over_a_step_already_due(
    app: Flask, clock: FrozenClock, channel: ScriptedEmail
) -> None:
    [inv_id] = _setup(app, clock, ["stop@x.example"], send_at=clock.now() + timedelta(hours=1))
    with app.app_context():
        # Suppressed after the invitation was made: the invitation ends at once...
        suppress(
            SuppressionKind.EMAIL, "stop@x.example", SuppressionReason.UNSUBSCRIBED, clock.now()
        )
        db.session.commit()
        assert db.session.get(Invitation, inv_id).status == InvitationStatus.SUPPRESSED
    clock.advance(hours=2)
    with app.app_context():
        assert sweep()["enqueued"] == 0
    assert channel.sent == []


def test_sweep_expires_unanswered_invitations_at_the_deadline(
    app: Flask, clock: FrozenClock, channel: ScriptedEmail
) -> None:
    [inv_id] = _setup(app, clock, ["quiet@x.example"])
    with app.app_context():
        deadline = db.session.get(Invitation, inv_id).deadline_at
    clock.set(deadline)
    with app.app_context():
        stats = sweep()
    assert stats["expired"] == 1
    assert _status(app, inv_id) == InvitationStatus.EXPIRED


def test_paused_survey_holds_its_invitations(
    app: Flask, clock: FrozenClock, channel: ScriptedEmail
) -> None:
    [inv_id] = _setup(app, clock, ["held@x.example"], send_at=clock.now() + timedelta(hours=1))
    with app.app_context():
        from app.vocabulary import SurveyStatus

        db.session.query(Survey).update({"status": SurveyStatus.PAUSED})
        db.session.commit()
    clock.advance(hours=2)
    with app.app_context():
        assert sweep()["enqueued"] == 0
    assert _status(app, inv_id) == InvitationStatus.SCHEDULED
    assert channel.sent == []
