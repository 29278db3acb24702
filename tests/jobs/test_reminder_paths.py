"""Invitations walked through every path with the controllable clock: two reminders, the
deadline, and everything that ends the reminders at once (an answer on any channel, an
unsubscribe, a bounce, a STOP, a spam report, a cancel by a CSM).

Timeline for a person in London asked on Monday 16 November 2026 at 10:00 (UTC = London
time in November), with the default plan (3, 7 and 10 days): the first email at once,
reminder 1 on Thursday 19th at 10:00, reminder 2 on Monday 23rd at 10:00, the link closes at
the end of Thursday 26th.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from app.clock import FrozenClock
from app.db import db
from app.models import Invitation, Response, Suppression
from app.services.responses import lock_invitation, record_response
from app.services.suppressions import suppress
from app.vocabulary import Channel, InvitationStatus, SuppressionKind, SuppressionReason
from channels.base import EmailMessage, Outcome, SendResult
from tests.support.api import Api, error_of, issue_test_key
from tests.support.factories import invite, new_survey, permissive_cadence
from tests.support.lifecycle import (
    answer_by_link,
    invitation,
    messages,
    outbox,
    run_until,
    steps_sent,
    survey_link,
)

WED_18 = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
FRI_20 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TUE_24 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
REMINDER_1 = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
REMINDER_2 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 11, 26, 23, 59, 59, tzinfo=UTC)
AFTER = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LONDON = {"timezone": "Europe/London", "locale": "en_GB"}


@pytest.fixture
def survey(api: Api) -> dict:
    return new_survey(api, channels=["email", "sms", "link"])


def _status(app: Flask, inv_id: int) -> InvitationStatus:
    return invitation(app, inv_id).status


def test_the_plan_sends_two_reminders_at_their_times(
    app: Flask, api: Api, clock: FrozenClock, survey: dict
) -> None:
    inv = invite(api, survey["id"], **LONDON)
    assert inv["reminder_1_at"] == "2026-11-19T10:00:00Z"
    assert inv["reminder_2_at"] == "2026-11-23T10:00:00Z"
    assert inv["deadline_at"] == "2026-11-26T23:59:59Z"
    run_until(app, clock, AFTER)
    sent = outbox(app, inv["id"])
    assert [(m.step, m.created_at) for m in sent] == [
        ("initial", datetime(2026, 11, 16, 10, 0, tzinfo=UTC)),
        ("reminder_1", REMINDER_1),
        ("reminder_2", REMINDER_2),
    ]


def test_answered_before_reminder_1(app: Flask, api: Api, clock: FrozenClock, survey: dict) -> None:
    inv = invite(api, survey["id"], **LONDON)
    run_until(app, clock, WED_18)
    link = survey_link(outbox(app, inv["id"])[0].text)
    assert answer_by_link(app.test_client(), link) == 303
    run_until(app, clock, AFTER)
    assert steps_sent(app, inv["id"]) == ["initial"]
    assert _status(app, inv["id"]) == InvitationStatus.RESPONDED


def test_answered_between_the_reminders(
    app: Flask, api: Api, clock: FrozenClock, survey: dict
) -> None:
    inv = invite(api, survey["id"], **LONDON)
    run_until(app, clock, FRI_20)
    assert steps_sent(app, inv["id"]) == ["initial", "reminder_1"]
    assert _status(app, inv["id"]) == InvitationStatus.REMINDED_1
    link = survey_link(outbox(app, inv["id"])[-1].text)  # the reminder's own link
    assert answer_by_link(app.test_client(), link) == 303
    run_until(app, clock, AFTER)
    assert steps_sent(app, inv["id"]) == ["initial", "reminder_1"]
    assert _status(app, inv["id"]) == InvitationStatus.RESPONDED


def test_answered_after_reminder_2(app: Flask, api: Api, clock: FrozenClock, survey: dict) -> None:
    inv = invite(api, survey["id"], **LONDON)
    run_until(app, clock, TUE_24)
    assert steps_sent(app, inv["id"]) == ["initial", "reminder_1", "reminder_2"]
    assert _status(app, inv["id"]) == InvitationStatus.REMINDED_2
    link = survey_link(outbox(app, inv["id"])[0].text)  # the first email's link still works
    assert answer_by_link(app.test_client(), link) == 303
    run_until(app, clock, AFTER)
    assert _status(app, inv["id"]) == InvitationStatus.RESPONDED
    assert len(outbox(app, inv["id"])) == 3


def test_never_answered_expires_and_counts_as_a_non_response(
    app: Flask, api: Api, clock: FrozenClock, survey: dict
) -> None:
    inv = invite(api, survey["id"], **LONDON)
    run_until(app, clock, datetime(2026, 11, 26, 23, 0, tzinfo=UTC))
    assert _status(app, inv["id"]) == InvitationStatus.REMINDED_2  # open until the deadline
    run_until(app, clock, DEADLINE)
    expired = invitation(app, inv["id"])
    assert expired.status == InvitationStatus.EXPIRED
    assert expired.end_reason == "deadline passed without an answer"
    # The link closes: the page says so and records nothing.
    client = app.test_client()
    link = survey_link(outbox(app, inv["id"])[0].text)
    assert client.get(link).status_code == 410
    assert "This survey has closed" in client.get(link).get_data(as_text=True)
    app.config["WTF_CSRF_ENABLED"] = False  # the closed page has no form to take a token from
    assert client.post(link, data={"score": "9"}).status_code == 410
    with app.app_context():
        assert db.session.query(Response).count() == 0
    report = api.get(f"/api/v1/reports/nps?survey_id={survey['id']}").get_json()
    assert (report["invited"], report["responded"], report["responses"]) == (1, 0, 0)
    listed = api.get(f"/api/v1/surveys/{survey['id']}/non-responders").get_json()["data"]
    assert [(r["invitation_id"], r["status"]) for r in listed] == [(inv["id"], "expired")]
    assert [(r["step"], r["channel"], r["sent_at"]) for r in listed[0]["reminders"]] == [
        ("reminder_1", "email", "2026-11-19T10:00:00Z"),
        ("reminder_2", "email", "2026-11-23T10:00:00Z"),
    ]


def test_unsubscribed_mid_way(app: Flask, api: Api, clock: FrozenClock, survey: dict) -> None:
    inv = invite(api, survey["id"], **LONDON)
    run_until(app, clock, FRI_20)
    reminder = outbox(app, inv["id"])[-1]
    unsubscribe = (
        reminder.headers["List-Unsubscribe"].strip("<>").removeprefix("http://sounding.test")
    )
    # RFC 8058 one-click, as a mail provider sends it.
    response = app.test_client().post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    ended = invitation(app, inv["id"])
    assert ended.status == InvitationStatus.SUPPRESSED
    assert ended.next_action_at is None
    run_until(app, clock, AFTER)
    assert steps_sent(app, inv["id"]) == ["initial", "reminder_1"]


class BouncingEmail:
    """The outbox, except that the provider refuses the listed addresses for good."""

    name = "bouncing"
    max_batch = 1000

    def __init__(self, real, refused: dict[str, SendResult]) -> None:
        self.real = real
        self.refused = refused

    def send(self, batch: Sequence[EmailMessage]) -> list[SendResult]:
        ok = [m for m in batch if m.to.email not in self.refused]
        results = self.real.send(ok) if ok else []
        for m in batch:
            if m.to.email in self.refused:
                r = self.refused[m.to.email]
                results.append(
                    SendResult(m.message_id, r.outcome, error=r.error, suppress=r.suppress)
                )
        return results


def test_bounced_reminder_fails_the_invitation_and_suppresses_the_address(
    app: Flask, api: Api, clock: FrozenClock, survey: dict
) -> None:
    inv = invite(api, survey["id"], **LONDON)
    run_until(app, clock, WED_18)
    transport = app.extensions["sounding.transport"]
    transport.email = BouncingEmail(
        transport.email,
        {
            "pat@globex.example": SendResult(
                0, Outcome.PERMANENT, error="550 mailbox unavailable", suppress="bounced"
            )
        },
    )
    run_until(app, clock, AFTER)
    failed = invitation(app, inv["id"])
    assert failed.status == InvitationStatus.FAILED
    assert "550 mailbox unavailable" in failed.end_reason
    assert messages(app, inv["id"])["reminder_1"].status.value == "failed"
    assert steps_sent(app, inv["id"]) == ["initial"]
    with app.app_context():
        suppression = db.session.query(Suppression).one()
        assert (suppression.value, suppression.reason) == (
            "pat@globex.example",
            SuppressionReason.BOUNCED,
        )
    # A new invitation to a bounced address is refused.
    again = api.post(
        "/api/v1/invitations",
        json={"survey_id": survey["id"], "channel": "email", "person_id": inv["person_id"]},
    )
    assert again.status_code == 409
    assert (error_of(again)["code"], error_of(again)["rule"]) == ("throttled", "suppressed")


@pytest.mark.parametrize(
    "reason", [SuppressionReason.BOUNCED, SuppressionReason.SPAM_REPORT], ids=lambda r: r.value
)
def test_a_bounce_or_spam_report_event_ends_the_reminders(
    app: Flask, api: Api, clock: FrozenClock, survey: dict, reason: SuppressionReason
) -> None:
    inv = invite(api, survey["id"], **LONDON)
    run_until(app, clock, FRI_20)
    with app.app_context():  # what the provider's event webhook records
        assert suppress(SuppressionKind.EMAIL, "pat@globex.example", reason, clock.now()) == 1
        db.session.commit()
    run_until(app, clock, AFTER)
    assert steps_sent(app, inv["id"]) == ["initial", "reminder_1"]
    ended = invitation(app, inv["id"])
    assert ended.status == InvitationStatus.SUPPRESSED
    assert ended.end_reason == f"email suppressed: {reason.value}"


def test_stop_mid_way_ends_an_sms_invitation(
    app: Flask, api: Api, clock: FrozenClock, survey: dict
) -> None:
    inv = invite(api, survey["id"], channel="sms", phone="+33612345678", **LONDON)
    run_until(app, clock, FRI_20)
    sent = outbox(app, inv["id"])
    assert [(m.step, m.channel, m.recipient) for m in sent] == [
        ("initial", "sms", "+33612345678"),
        ("reminder_1", "sms", "+33612345678"),
    ]
    assert sent[1].text.startswith("Reminder from Acme:")
    with app.app_context():  # the person replied STOP (the inbound SMS webhook records it)
        suppress(SuppressionKind.PHONE, "+33612345678", SuppressionReason.SMS_STOP, clock.now())
        db.session.commit()
    assert _status(app, inv["id"]) == InvitationStatus.SUPPRESSED
    run_until(app, clock, AFTER)
    assert len(outbox(app, inv["id"])) == 2


def test_cancel_by_a_csm_ends_the_reminders(
    app: Flask, api: Api, clock: FrozenClock, survey: dict
) -> None:
    csm = Api(app.test_client(), issue_test_key(app, "csm", "jane@acme.example"))
    # Jane's customer: a CSM cancels only the invitations of the accounts she owns.
    inv = invite(
        api, survey["id"], **LONDON, account={"external_id": "globex", "csm": "jane@acme.example"}
    )
    run_until(app, clock, WED_18)
    response = csm.post(f"/api/v1/invitations/{inv['id']}/cancel", json={"reason": "churned"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "canceled"
    assert response.get_json()["end_reason"] == "churned"
    run_until(app, clock, AFTER)
    assert steps_sent(app, inv["id"]) == ["initial"]
    again = csm.post(f"/api/v1/invitations/{inv['id']}/cancel")
    assert again.status_code == 409 and error_of(again)["code"] == "not_open"
    missing = csm.post("/api/v1/invitations/999999/cancel")
    assert missing.status_code == 404 and error_of(missing)["field"] == "invitation_id"
    bad = csm.post(f"/api/v1/invitations/{inv['id']}/cancel", json={"reason": "x" * 501})
    assert bad.status_code == 400 and error_of(bad)["field"] == "reason"


def test_an_answer_by_link_ends_the_email_invitation_at_once(
    app: Flask, api: Api, clock: FrozenClock, survey: dict
) -> None:
    permissive_cadence(
        api, send_window_start="09:00", send_window_end="17:00", send_weekdays=[0, 1, 2, 3, 4]
    )  # two asks at once; quiet hours kept
    by_email = invite(api, survey["id"], **LONDON)
    by_link = invite(api, survey["id"], channel="link", **LONDON)
    run_until(app, clock, WED_18)
    path = by_link["link"].removeprefix("http://sounding.test")
    assert answer_by_link(app.test_client(), path) == 303
    ended = invitation(app, by_email["id"])
    assert ended.status == InvitationStatus.CANCELED
    assert ended.end_reason == f"answered through invitation {by_link['id']} (link)"
    run_until(app, clock, AFTER)
    assert steps_sent(app, by_email["id"]) == ["initial"]


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.WIDGET], ids=lambda c: c.value)
def test_an_answer_on_another_channel_ends_the_email_reminders(
    app: Flask, api: Api, clock: FrozenClock, survey: dict, channel: Channel
) -> None:
    permissive_cadence(
        api, send_window_start="09:00", send_window_end="17:00", send_weekdays=[0, 1, 2, 3, 4]
    )  # two asks at once; quiet hours kept
    by_email = invite(api, survey["id"], **LONDON)
    by_sms = invite(api, survey["id"], channel="sms", phone="+33612345678", **LONDON)
    run_until(app, clock, FRI_20)
    with app.app_context():  # an SMS reply with a number, or the in-app widget
        locked = lock_invitation(by_sms["id"])
        record_response(locked, score=6, comment=None, role=None, now=clock.now(), channel=channel)
        db.session.commit()
    assert _status(app, by_email["id"]) == InvitationStatus.CANCELED
    run_until(app, clock, AFTER)
    assert steps_sent(app, by_email["id"]) == ["initial", "reminder_1"]
    assert steps_sent(app, by_sms["id"]) == ["initial", "reminder_1"]
    with app.app_context():
        assert db.session.get(Invitation, by_sms["id"]).status == InvitationStatus.RESPONDED


def test_the_whole_walk_on_sqlite_as_sounding_dev_runs_it(
    tmp_path: Path, clock: FrozenClock
) -> None:
    """The embedded default (SQLite, jobs in-process): the same SQL (skips written with ON
    CONFLICT, released claims with DELETE ... RETURNING) works there too."""
    from flask_migrate import upgrade

    from app import create_app
    from app.clock import install
    from app.jobs.delivery import claim
    from app.jobs.sweep import sweep
    from app.services.cadence_rules import set_survey_overrides
    from channels.base import Step
    from tests.support.settings import TEST_SETTINGS

    app = create_app({**TEST_SETTINGS, "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}"})
    install(app, clock)
    with app.app_context():
        upgrade()
    api = Api(app.test_client(), issue_test_key(app, "admin"))
    survey = new_survey(api, channels=["email", "sms"], escalate_to_sms=True)
    with app.app_context():
        set_survey_overrides(survey["id"], {"send_weekdays": ["mon"]}, clock.now())
        db.session.commit()
    walked = invite(api, survey["id"], phone="+33612345678", **LONDON)
    stuck = invite(api, survey["id"], email="kim@globex.example", **LONDON)
    with app.app_context():  # kim's reminder 1 is claimed by a worker that dies at once
        db.session.get(Invitation, stuck["id"]).next_action_at = None
        db.session.commit()
        clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
        assert claim(Channel.EMAIL, [stuck["id"]], Step.REMINDER_1, clock.now())
        db.session.commit()
        clock.set(datetime(2026, 11, 23, 9, 11, tzinfo=UTC))  # past the claim timeout
        assert sweep()["released"] == 1
    run_until(app, clock, AFTER)
    assert [(m.step, m.channel) for m in outbox(app, walked["id"])] == [
        ("initial", "email"),
        ("reminder_1", "email"),
    ]
    assert messages(app, walked["id"])["reminder_2"].status.value == "skipped"
    assert _status(app, walked["id"]) == InvitationStatus.EXPIRED
    assert steps_sent(app, stuck["id"]) == ["initial", "reminder_1"]  # released, sent once
    with app.app_context():
        db.engine.dispose()
