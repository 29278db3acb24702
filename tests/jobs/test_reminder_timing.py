"""When reminders go out: quiet hours in the person's own time zone, the survey's open
date, a skip (with its reason) when no send window is left before the deadline, and the
escalation of reminder 2 to SMS. Real database, jobs run in-process, the clock controlled."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask

from app.clock import FrozenClock
from app.db import db
from app.jobs.delivery import deliver_email
from app.services.cadence_rules import set_survey_overrides
from app.services.suppressions import suppress
from app.vocabulary import InvitationStatus, SuppressionKind, SuppressionReason
from channels.base import Outcome, SendResult, SmsMessage
from tests.support.api import Api, error_of
from tests.support.factories import invite, new_survey
from tests.support.lifecycle import invitation, messages, outbox, run_until

AFTER = datetime(2026, 12, 10, tzinfo=UTC)


def _rules(app: Flask, clock: FrozenClock, survey_id: int, **rules: object) -> None:
    with app.app_context():
        set_survey_overrides(survey_id, rules, clock.now())
        db.session.commit()


def test_reminders_wait_for_the_send_window_in_the_persons_zone(
    app: Flask, api: Api, clock: FrozenClock
) -> None:
    survey = new_survey(api)
    # Monday 10:00 UTC is 02:00 in Los Angeles: everything waits for 09:00 there (17:00 UTC).
    inv = invite(api, survey["id"], timezone="America/Los_Angeles")
    assert invitation(app, inv["id"]).status == InvitationStatus.SCHEDULED
    run_until(app, clock, AFTER)
    assert [(m.step, m.created_at) for m in outbox(app, inv["id"])] == [
        ("initial", datetime(2026, 11, 16, 17, 0, tzinfo=UTC)),
        ("reminder_1", datetime(2026, 11, 19, 17, 0, tzinfo=UTC)),  # planned Thu 02:00 local
        ("reminder_2", datetime(2026, 11, 23, 17, 0, tzinfo=UTC)),
    ]


def test_a_reminder_due_at_the_weekend_goes_on_monday(
    app: Flask, api: Api, clock: FrozenClock
) -> None:
    survey = new_survey(api)
    clock.set(datetime(2026, 11, 18, 10, 0, tzinfo=UTC))  # a Wednesday: reminder 1 on Saturday
    inv = invite(api, survey["id"], timezone="Europe/Berlin")
    run_until(app, clock, AFTER)
    assert [(m.step, m.created_at) for m in outbox(app, inv["id"])] == [
        ("initial", datetime(2026, 11, 18, 10, 0, tzinfo=UTC)),
        ("reminder_1", datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),  # Monday 09:00 in Berlin
        ("reminder_2", datetime(2026, 11, 25, 10, 0, tzinfo=UTC)),
    ]


def test_the_window_follows_the_surveys_cadence_rules(
    app: Flask, api: Api, clock: FrozenClock
) -> None:
    survey = new_survey(api)
    _rules(app, clock, survey["id"], send_window_start="13:00", send_window_end="15:00")
    inv = invite(api, survey["id"], timezone="Europe/London")
    run_until(app, clock, AFTER)
    assert [m.created_at.hour for m in outbox(app, inv["id"])] == [13, 13, 13]


def test_a_reminder_that_cannot_go_before_the_deadline_is_skipped_with_the_reason(
    app: Flask, api: Api, clock: FrozenClock
) -> None:
    survey = new_survey(api)
    _rules(app, clock, survey["id"], send_weekdays=["mon"])
    inv = invite(api, survey["id"], timezone="Europe/London")  # Monday 16th, 10:00: sent
    run_until(app, clock, AFTER)
    # Reminder 1 (Thursday) waits for Monday 23rd; reminder 2 must come 20 hours after it,
    # and the next Monday is after the deadline (Thursday 26th): skipped, the reason kept.
    assert [(m.step, m.created_at) for m in outbox(app, inv["id"])] == [
        ("initial", datetime(2026, 11, 16, 10, 0, tzinfo=UTC)),
        ("reminder_1", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
    ]
    ended = invitation(app, inv["id"])
    assert ended.status == InvitationStatus.EXPIRED  # it moved on, to its deadline
    body = api.get(f"/api/v1/invitations/{inv['id']}").get_json()
    skipped = body["messages"][-1]
    assert (skipped["step"], skipped["status"], skipped["sent_at"]) == (
        "reminder_2",
        "skipped",
        None,
    )
    assert skipped["reason_code"] == "no_send_window"
    assert skipped["reason"] == (
        "Reminder 2 was not sent: the send window (09:00-17:00, Mon, Europe/London) does not "
        "open between Tue Nov 24, 05:00 and the deadline, Thu Nov 26, 23:59."
    )


def test_a_first_message_that_cannot_go_before_the_close_ends_unsent(
    app: Flask, api: Api, clock: FrozenClock
) -> None:
    # The survey closes at 15:00 UTC today; in Los Angeles the window opens at 17:00 UTC.
    survey = new_survey(api, closes_at="2026-11-16T15:00:00Z")
    body = {
        "survey_id": survey["id"],
        "channel": "email",
        "person": {"email": "pat@globex.example", "timezone": "America/Los_Angeles"},
    }
    # Known at invite time: refused with the reason, nothing made.
    refused = api.post("/api/v1/invitations", json=body)
    assert refused.status_code == 409 and error_of(refused)["code"] == "survey_closed"
    # Invited while the send window was still ahead, then the close is pulled in before it:
    # at send time the first message has no window left, and ends unsent with the reason.
    api.patch(f"/api/v1/surveys/{survey['id']}", json={"closes_at": "2026-11-17T20:00:00Z"})
    inv = invite(api, survey["id"], timezone="America/Los_Angeles")
    assert (
        api.patch(
            f"/api/v1/surveys/{survey['id']}", json={"closes_at": "2026-11-16T15:00:00Z"}
        ).status_code
        == 200
    )
    clock.set(datetime(2026, 11, 16, 14, 0, tzinfo=UTC))
    from app.jobs.delivery import deliver_email

    with app.app_context():
        deliver_email([inv["id"]], "initial")
    ended = invitation(app, inv["id"])
    assert ended.status == InvitationStatus.EXPIRED
    assert ended.sent_at is None  # never asked: not a non-response
    assert ended.end_reason.startswith("The first message was not sent: it was due Mon Nov 16")
    assert messages(app, inv["id"])["initial"].status.value == "skipped"


def test_nothing_is_sent_before_the_survey_opens(app: Flask, api: Api, clock: FrozenClock) -> None:
    survey = new_survey(api, opens_at="2026-11-18T10:00:00Z")
    inv = invite(api, survey["id"], timezone="Europe/London")
    assert inv["send_at"] == "2026-11-18T10:00:00Z"
    with app.app_context():  # even a job run early (a stray or duplicated job) sends nothing
        assert deliver_email([inv["id"]], "initial")["claimed"] == 0
    run_until(app, clock, datetime(2026, 11, 18, 9, 59, tzinfo=UTC))
    assert outbox(app) == []
    run_until(app, clock, datetime(2026, 11, 18, 10, 0, tzinfo=UTC))
    assert [m.step for m in outbox(app)] == ["initial"]


def test_opening_later_holds_invitations_not_sent_yet(
    app: Flask, api: Api, clock: FrozenClock
) -> None:
    survey = new_survey(api)
    later = api.post(
        "/api/v1/invitations",
        json={
            "survey_id": survey["id"],
            "channel": "email",
            "send_at": "2026-11-16T12:00:00Z",
            "person": {"email": "kim@globex.example", "timezone": "Europe/London"},
        },
    ).get_json()
    patched = api.patch(f"/api/v1/surveys/{survey['id']}", json={"opens_at": "2026-11-17T10:00Z"})
    assert patched.status_code == 200, patched.get_json()
    assert invitation(app, later["id"]).next_action_at == datetime(2026, 11, 17, 10, tzinfo=UTC)
    run_until(app, clock, datetime(2026, 11, 17, 9, 0, tzinfo=UTC))
    assert outbox(app) == []
    run_until(app, clock, datetime(2026, 11, 17, 10, 0, tzinfo=UTC))
    assert [m.created_at for m in outbox(app)] == [datetime(2026, 11, 17, 10, 0, tzinfo=UTC)]


# --- Escalation: reminder 2 by SMS -----------------------------------------------------------


def test_reminder_2_escalates_to_sms(app: Flask, api: Api, clock: FrozenClock) -> None:
    survey = new_survey(api, channels=["email", "sms"], escalate_to_sms=True)
    assert survey["escalate_to_sms"] is True
    inv = invite(api, survey["id"], phone="+33612345678", timezone="Europe/Paris")
    run_until(app, clock, AFTER)
    sent = outbox(app, inv["id"])
    assert [(m.step, m.channel, m.recipient) for m in sent] == [
        ("initial", "email", "pat@globex.example"),
        ("reminder_1", "email", "pat@globex.example"),
        ("reminder_2", "sms", "+33612345678"),
    ]
    assert sent[2].text.startswith("Last reminder from Acme:")
    reminder_2 = messages(app, inv["id"])["reminder_2"]
    assert (reminder_2.channel.value, reminder_2.status.value) == ("sms", "accepted")
    ended = invitation(app, inv["id"])
    assert ended.channel.value == "email"  # the invitation is still the email one
    assert ended.status == InvitationStatus.EXPIRED
    assert ended.reminded_2_at == sent[2].created_at
    listed = api.get(f"/api/v1/surveys/{survey['id']}/non-responders").get_json()["data"]
    assert [r["channel"] for r in listed[0]["reminders"]] == ["email", "sms"]


def _channels_of_reminder_2(app: Flask, api: Api, clock: FrozenClock, **person: object) -> str:
    inv = invite(api, person.pop("survey_id"), timezone="Europe/Paris", **person)  # type: ignore[arg-type]
    run_until(app, clock, AFTER)
    return {m.step: m.channel for m in outbox(app, inv["id"])}["reminder_2"]


def test_no_escalation_by_default(app: Flask, api: Api, clock: FrozenClock) -> None:
    survey = new_survey(api, channels=["email", "sms"])
    assert survey["escalate_to_sms"] is False
    assert (
        _channels_of_reminder_2(app, api, clock, survey_id=survey["id"], phone="+33612345678")
        == "email"
    )


def test_no_escalation_without_a_mobile_number(app: Flask, api: Api, clock: FrozenClock) -> None:
    survey = new_survey(api, channels=["email", "sms"], escalate_to_sms=True)
    landline = "+442079460000"
    assert (
        _channels_of_reminder_2(app, api, clock, survey_id=survey["id"], phone=landline) == "email"
    )


def test_no_escalation_to_a_number_that_said_stop(app: Flask, api: Api, clock: FrozenClock) -> None:
    survey = new_survey(api, channels=["email", "sms"], escalate_to_sms=True)
    with app.app_context():
        suppress(SuppressionKind.PHONE, "+33612345678", SuppressionReason.SMS_STOP, clock.now())
        db.session.commit()
    assert (
        _channels_of_reminder_2(app, api, clock, survey_id=survey["id"], phone="+33612345678")
        == "email"
    )


def test_no_escalation_once_sms_is_no_longer_a_channel_of_the_survey(
    app: Flask, api: Api, clock: FrozenClock
) -> None:
    survey = new_survey(api, channels=["email", "sms"], escalate_to_sms=True)
    inv = invite(api, survey["id"], phone="+33612345678", timezone="Europe/Paris")
    patched = api.patch(
        f"/api/v1/surveys/{survey['id']}", json={"channels": ["email"], "escalate_to_sms": False}
    )
    assert patched.status_code == 200, patched.get_json()
    run_until(app, clock, AFTER)
    assert [m.channel for m in outbox(app, inv["id"])] == ["email", "email", "email"]


class RefusingSms:
    name = "refusing"
    max_batch = 100

    def send(self, batch: list[SmsMessage]) -> list[SendResult]:
        return [
            SendResult(m.message_id, Outcome.PERMANENT, error_code="21614", error="not a mobile")
            for m in batch
        ]


def test_a_refused_escalation_leaves_the_email_invitation_open(
    app: Flask, api: Api, clock: FrozenClock
) -> None:
    survey = new_survey(api, channels=["email", "sms"], escalate_to_sms=True)
    inv = invite(api, survey["id"], phone="+33612345678", timezone="Europe/Paris")
    app.extensions["sounding.transport"].sms = RefusingSms()
    run_until(app, clock, datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    waiting = invitation(app, inv["id"])
    assert waiting.status == InvitationStatus.REMINDED_1  # its email and link still work
    assert waiting.last_error == "reminder_2 by sms: 21614: not a mobile"
    assert messages(app, inv["id"])["reminder_2"].status.value == "failed"
    run_until(app, clock, AFTER)
    assert invitation(app, inv["id"]).status == InvitationStatus.EXPIRED
