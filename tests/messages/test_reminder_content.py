"""What people read: every message states the deadline in the person's own time zone and
language, and reminders say they are reminders."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from app.clock import FrozenClock
from app.db import db
from app.messages.i18n import translate
from app.models import OutboxMessage
from app.policy.deadlines import closes_on, end_of_local_day
from tests.support.api import Api
from tests.support.factories import invite, new_survey
from tests.support.lifecycle import outbox, run_until, survey_link

AFTER = datetime(2026, 12, 10, tzinfo=UTC)


def test_english_by_default_and_reminders_say_so(app: Flask, api: Api, clock: FrozenClock) -> None:
    survey = new_survey(api)
    inv = invite(api, survey["id"], timezone="Europe/London")
    run_until(app, clock, AFTER)
    first, reminder_1, reminder_2 = outbox(app, inv["id"])
    deadline = "This survey closes on Thursday, November 26, 2026."
    for message in (first, reminder_1, reminder_2):
        assert deadline in message.text
    assert first.subject == "Quick question from Acme at Acme"
    assert "reminder" not in first.text.lower()
    question = "How likely are you to recommend Acme to a friend or colleague?"
    assert reminder_1.subject == f"Reminder: {question}"
    assert "A quick reminder: we would still love to hear from you." in reminder_1.text
    assert reminder_2.subject == f"Last reminder: {question}"
    assert "A last reminder: we would still love to hear from you." in reminder_2.text


def test_german_in_honolulu_reads_the_local_day(app: Flask, api: Api, clock: FrozenClock) -> None:
    """The deadline is the end of Thursday 26 November in Honolulu, which is already Friday
    in UTC: the person reads their own Thursday, in German."""
    survey = new_survey(api)
    inv = invite(api, survey["id"], timezone="Pacific/Honolulu", locale="de-DE")
    assert inv["deadline_at"] == "2026-11-27T09:59:59Z"
    deadline = "Diese Umfrage endet am Donnerstag, 26. November 2026."
    run_until(app, clock, datetime(2026, 11, 17, tzinfo=UTC))
    # The survey page says it the same way.
    page = app.test_client().get(survey_link(outbox(app, inv["id"])[0].text))
    assert deadline in page.get_data(as_text=True)
    run_until(app, clock, AFTER)
    first, reminder_1, reminder_2 = outbox(app, inv["id"])
    for message in (first, reminder_1, reminder_2):
        assert deadline in message.text
        assert "Freitag" not in message.text
    question = "How likely are you to recommend Acme to a friend or colleague?"
    assert reminder_1.subject == f"Erinnerung: {question}"
    assert "Eine kurze Erinnerung:" in reminder_1.text
    assert "Eine letzte Erinnerung:" in reminder_2.text


def test_french_in_auckland_with_the_html_part(app: Flask, api: Api, clock: FrozenClock) -> None:
    survey = new_survey(api)
    # Monday 10:00 UTC is 23:00 in Auckland: the first email waits for Tuesday 09:00 there,
    # and the deadline is ten days after that, at the end of the local day.
    inv = invite(api, survey["id"], timezone="Pacific/Auckland", locale="fr")
    run_until(app, clock, AFTER)
    sent = outbox(app, inv["id"])
    assert "Ce questionnaire se termine le vendredi 27 novembre 2026." in sent[0].text
    assert sent[1].subject.startswith("Rappel : ")
    assert "Petit rappel : nous aimerions toujours avoir votre avis." in sent[1].text
    assert "Dernier rappel : nous aimerions toujours avoir votre avis." in sent[2].text
    with app.app_context():
        html = db.session.query(OutboxMessage).order_by(OutboxMessage.id.desc()).first().html
    assert "Dernier rappel : nous aimerions toujours avoir votre avis." in html
    assert "vendredi 27 novembre 2026" in html


def test_spanish_text_message_reminder(app: Flask, api: Api, clock: FrozenClock) -> None:
    survey = new_survey(api, channels=["sms"])
    inv = invite(
        api,
        survey["id"],
        channel="sms",
        phone="+33612345678",
        timezone="America/Mexico_City",
        locale="es_MX",
    )
    run_until(app, clock, AFTER)
    first, reminder_1, _ = outbox(app, inv["id"])
    # Texts are short: the deadline is the short local day, in the person's language.
    assert "antes del jue 26 de nov." in first.text
    assert first.text.startswith("Hola de parte de Acme.")
    assert first.text.endswith("Responda STOP para darse de baja.")
    assert reminder_1.text.startswith("Recordatorio de Acme:")
    assert "antes del jue 26 de nov." in reminder_1.text


def test_a_deadline_pulled_in_by_the_close_says_its_time(
    app: Flask, api: Api, clock: FrozenClock
) -> None:
    survey = new_survey(api)
    inv = invite(api, survey["id"], timezone="Europe/London", locale="en_GB")
    patched = api.patch(
        f"/api/v1/surveys/{survey['id']}", json={"closes_at": "2026-11-20T12:00:00Z"}
    )
    assert patched.status_code == 200
    run_until(app, clock, AFTER)
    first, reminder_1 = outbox(app, inv["id"])
    assert "This survey closes on Thursday, 26 November 2026." in first.text  # as it was then
    assert "This survey closes on Friday, 20 November 2026 at 12:00." in reminder_1.text


@pytest.mark.parametrize(
    ("locale", "zone", "expected"),
    [
        (None, None, "This survey closes on Tuesday, December 1, 2026."),
        ("en_GB", "Europe/London", "This survey closes on Tuesday, 1 December 2026."),
        ("fr_CA", "America/Toronto", "Ce questionnaire se termine le mardi 1 décembre 2026."),
        ("de_AT", "Europe/Vienna", "Diese Umfrage endet am Dienstag, 1. Dezember 2026."),
        ("ja", "Asia/Tokyo", "This survey closes on 2026年12月1日火曜日."),  # no catalog yet
        ("xx-nope", "Not/AZone", "This survey closes on Tuesday, December 1, 2026."),
    ],
)
def test_closes_on_uses_the_language_and_zone(
    locale: str | None, zone: str | None, expected: str
) -> None:
    deadline = end_of_local_day(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), zone)
    assert closes_on(deadline, zone, locale) == expected


def test_closes_on_with_a_time_when_it_is_not_the_end_of_the_day() -> None:
    noon = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert closes_on(noon, "Asia/Kolkata", "en") == (
        "This survey closes on Tuesday, December 1, 2026 at 5:30\u202fPM."
    )
    assert closes_on(noon, "Europe/Paris", "fr") == (
        "Ce questionnaire se termine le mardi 1 décembre 2026 à 13:00."
    )


def test_translate_falls_back_to_english() -> None:
    assert translate("Reminder: {text}", "de_CH") == "Erinnerung: {text}"
    assert translate("Reminder: {text}", "it") == "Reminder: {text}"
    assert translate("Something new", "fr") == "Something new"
    assert translate("Reminder: {text}", "../../etc") == "Reminder: {text}"


def test_the_last_reminder_says_so_in_the_subject(app: Flask, api: Api, clock: FrozenClock) -> None:
    survey = new_survey(api)
    inv = invite(api, survey["id"], timezone="Europe/Paris", locale="fr")
    run_until(app, clock, AFTER)
    sent = outbox(app, inv["id"])
    assert sent[1].subject.startswith("Rappel : ")
    assert sent[2].subject.startswith("Dernier rappel : ")
