"""The plan preview says what the invitations will do: the same scenario previewed, then
invited and walked through to its deadline, sends at the previewed times and skips the
previewed step with the same reason."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient

from app.clock import FrozenClock
from app.db import db
from app.models import Survey
from app.policy.rules import CadenceRules
from app.services.cadence_rules import rules_for, set_survey_overrides
from app.services.plan_preview import preview
from app.vocabulary import Channel
from tests.support.api import Api
from tests.support.factories import invite, new_survey
from tests.support.lifecycle import messages, outbox, run_until
from tests.support.workspace import signed_in

AFTER = datetime(2026, 12, 10, tzinfo=UTC)


def test_the_preview_agrees_with_what_the_invitation_does(
    app: Flask, api: Api, clock: FrozenClock
) -> None:
    survey_json = new_survey(api)
    with app.app_context():
        set_survey_overrides(survey_json["id"], {"send_weekdays": ["mon"]}, clock.now())
        db.session.commit()
        survey = db.session.get(Survey, survey_json["id"])
        assert survey is not None
        plan = preview(survey, rules_for(survey.id), Channel.EMAIL, "Europe/London", clock.now())
    inv = invite(api, survey_json["id"], timezone="Europe/London")  # Monday 16th, 10:00
    run_until(app, clock, AFTER)

    sent = [(m.step, m.created_at) for m in outbox(app, inv["id"])]
    previewed = [(s.label, s.at) for s in plan.steps if s.at is not None]
    assert [at for _, at in previewed] == [at for _, at in sent]
    assert [label for label, _ in previewed] == ["The first message", "Reminder 1"]
    # Reminder 1 (Thursday) moved to Monday 23rd; reminder 2 has no Monday before the deadline.
    assert plan.steps[1].moved
    (skipped,) = plan.skipped
    assert skipped.label == "Reminder 2"
    assert skipped.skipped_reason == messages(app, inv["id"])["reminder_2"].error
    assert plan.deadline_at == invitation_deadline(app, inv["id"])


def invitation_deadline(app: Flask, invitation_id: int) -> datetime:
    from app.models import Invitation

    with app.app_context():
        found = db.session.get(Invitation, invitation_id)
        assert found is not None
        return found.deadline_at


def test_a_wide_window_sends_everything_and_a_closed_survey_nothing(clock: FrozenClock) -> None:
    now = clock.now()
    survey = Survey(reminder_1_days=3, reminder_2_days=7, deadline_days=10, channels={})
    plan = preview(survey, CadenceRules(), Channel.EMAIL, "America/New_York", now)
    assert not plan.skipped and len(plan.steps) == 3
    # 10:00 UTC is 05:00 in New York: the first message waits for 09:00 there.
    assert plan.steps[0].moved and plan.steps[0].at == datetime(2026, 11, 16, 14, 0, tzinfo=UTC)
    closed = Survey(
        reminder_1_days=3, reminder_2_days=7, deadline_days=10, channels={}, closes_at=now
    )
    ended = preview(closed, CadenceRules(), Channel.EMAIL, "America/New_York", now)
    assert ended.closed_reason and not ended.steps


def test_the_edit_page_warns_of_a_skipped_reminder(
    app: Flask, api: Api, clock: FrozenClock, client: FlaskClient
) -> None:
    survey_json = new_survey(api)
    with app.app_context():
        set_survey_overrides(survey_json["id"], {"send_weekdays": ["mon"]}, clock.now())
        db.session.commit()
    signed_in(app, client)
    html = client.get(
        f"/dashboard/surveys/{survey_json['id']}?sample-timezone=Europe/London"
        "&sample-day=2026-11-16&sample-time=10:00&sample-channel=email"
    ).get_data(as_text=True)
    assert "1 step would be skipped" in html
    assert "Reminder 2 was not sent: the send window (09:00-17:00, Mon, Europe/London)" in html
    assert "Mon 23 Nov 2026, 09:00" in html  # reminder 1, moved to Monday
