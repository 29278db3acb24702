"""Workspace surveys: list, create, edit, archive; bad input is shown beside its field and
changes nothing; the plan preview."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.clock import FrozenClock
from app.db import db
from app.models import Survey
from app.vocabulary import SurveyStatus
from tests.support.workspace import field_error, make_survey, post_form, signed_in

GOOD = {
    "name": "Quarterly NPS",
    "question": "Would you recommend Acme?",
    "follow_up_question": "Why?",
    "follow_up_detractor": "What should we fix?",
    "channels": ["email", "sms"],
    "reminder_1_days": "3",
    "reminder_2_days": "7",
    "deadline_days": "10",
    "action": "save",
}


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Survey)) or 0


def test_pages_need_sign_in(client: FlaskClient) -> None:
    for path in ("/dashboard/surveys", "/dashboard/surveys/new", "/dashboard/cadence"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/dashboard/sign-in")


def test_root_goes_to_the_dashboard(app: Flask, client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/"
    onward = client.get("/dashboard/")  # which asks whoever is not signed in to sign in
    assert onward.status_code == 302 and onward.headers["Location"].startswith("/dashboard/sign-in")
    signed_in(app, client)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard/"


def test_create_a_survey_then_see_its_plan_preview(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client)
    response = post_form(client, "/dashboard/surveys/new", GOOD)
    assert response.status_code == 302
    with app.app_context():
        survey = db.session.scalars(select(Survey)).one()
        assert survey.name == "Quarterly NPS"
        assert survey.enabled_channels == ["email", "sms"]
        assert survey.follow_up_detractor == "What should we fix?"
        assert survey.follow_up_promoter is None
        survey_id = survey.id
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Survey “Quarterly NPS” created" in html
    assert "Plan preview" in html and "Reminder 2" in html and "Deadline" in html
    listing = client.get("/dashboard/surveys").get_data(as_text=True)
    assert f"/dashboard/surveys/{survey_id}" in listing


def test_signed_in_page_shows_who_and_the_navigation(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client)
    html = client.get("/dashboard/surveys").get_data(as_text=True)
    assert "Signed in as" in html and "admin@acme.example" in html
    for label in ("Overview", "Surveys", "Cadence", "People", "Accounts", "Widget keys"):
        assert f">{label}</a>" in html
    assert 'aria-current="page">Surveys' in html


def test_bad_survey_input_is_shown_and_nothing_is_created(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client)
    cases = [
        ({"name": ""}, "name", "required"),
        ({"reminder_1_days": "abc"}, "reminder_1_days", "integer"),
        ({"reminder_2_days": "2", "reminder_1_days": "3"}, "reminder_2_days", "must be after"),
        ({"deadline_days": "200"}, "deadline_days", "less than or equal to 90"),
        ({"channels": []}, "channels", "at least 1"),
        ({"channels": ["email"], "escalate_to_sms": "y"}, "escalate_to_sms", "sms"),
        ({"channels": ["fax"]}, "channels", "Not a valid choice"),
        (
            {"opens_at": "2026-12-10T10:00", "closes_at": "2026-12-01T10:00"},
            "closes_at",
            "after opens_at",
        ),
    ]
    for change, field, words in cases:
        response = post_form(client, "/dashboard/surveys/new", {**GOOD, **change})
        html = response.get_data(as_text=True)
        assert response.status_code == 400, change
        shown = field_error(html, field) if field else html
        assert shown is not None and words.lower() in shown.lower(), (change, shown)
        with app.app_context():
            assert _count() == 0


def test_edit_changes_the_survey_and_bad_edits_change_nothing(
    app: Flask, clock: FrozenClock, client: FlaskClient
) -> None:
    with app.app_context():
        survey_id = make_survey(clock.now()).id
        db.session.commit()
    signed_in(app, client)
    path = f"/dashboard/surveys/{survey_id}"
    good = {**GOOD, "name": "Renamed", "reminder_1_days": "2", "escalate_to_sms": "y"}
    assert post_form(client, path, good).status_code == 302
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        assert survey is not None
        assert (survey.name, survey.reminder_1_days, survey.escalate_to_sms) == ("Renamed", 2, True)
    # reminder 1 on day 7 = reminder 2: the API's plan check, beside reminder 2.
    bad = post_form(client, path, {**good, "name": "Not saved", "reminder_1_days": "7"})
    assert bad.status_code == 400
    error = field_error(bad.get_data(as_text=True), "reminder_2_days")
    assert error is not None and "must be after reminder_1_days" in error.lower()
    empty_name = post_form(client, path, {**good, "name": ""})
    assert empty_name.status_code == 400
    assert field_error(empty_name.get_data(as_text=True), "name") is not None
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        assert survey is not None
        assert (survey.name, survey.reminder_1_days) == ("Renamed", 2)


def test_archive(app: Flask, clock: FrozenClock, client: FlaskClient) -> None:
    with app.app_context():
        survey_id = make_survey(clock.now()).id
        db.session.commit()
    signed_in(app, client)
    path = f"/dashboard/surveys/{survey_id}/status"
    response = post_form(
        client, path, {"status": "archived"}, page=f"/dashboard/surveys/{survey_id}"
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Survey, survey_id).status == SurveyStatus.ARCHIVED  # type: ignore[union-attr]
    bad = post_form(client, path, {"status": "gone"}, page=f"/dashboard/surveys/{survey_id}")
    assert bad.status_code == 400
    with app.app_context():
        assert db.session.get(Survey, survey_id).status == SurveyStatus.ARCHIVED  # type: ignore[union-attr]


def test_preview_before_creating_saves_nothing(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client)
    data = {
        **GOOD,
        "action": "preview",
        "sample-timezone": "Asia/Tokyo",
        "sample-day": "2026-11-20",
        "sample-time": "16:30",
        "sample-channel": "email",
    }
    response = post_form(client, "/dashboard/surveys/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Asia/Tokyo" in html
    # Asked Friday 16:30 in Tokyo: inside 09:00-17:00 Mon-Fri, the first message goes then.
    assert "Fri 20 Nov 2026, 16:30" in html
    with app.app_context():
        assert _count() == 0


def test_a_tampered_csrf_token_is_a_friendly_400(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client)
    response = client.post("/dashboard/surveys/new", data={**GOOD, "csrf_token": "forged"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This form has expired" in html and "nothing was saved" in html.lower()
    with app.app_context():
        assert _count() == 0


def test_email_template_preview_errors_and_save(
    app: Flask, clock: FrozenClock, client: FlaskClient
) -> None:
    from app.messages import email_templates

    with app.app_context():
        survey_id = make_survey(clock.now()).id
        db.session.commit()
    signed_in(app, client)
    path = f"/dashboard/surveys/{survey_id}/email"
    defaults = email_templates.defaults()
    page = client.get(path).get_data(as_text=True)
    assert "Quick question from Jane Doe at Acme" in page  # the default, previewed
    base = {
        "email_subject": "Your opinion, {{ first_name }}?",
        "email_html": defaults.html,
        "email_text": defaults.text,
        "step": "initial",
    }
    preview = post_form(client, path, {**base, "action": "preview"})
    assert preview.status_code == 200 and "Your opinion, Dana?" in preview.get_data(as_text=True)
    broken = post_form(
        client, path, {**base, "email_text": "Hi\n{% if %}\n" + defaults.text, "action": "save"}
    )
    assert broken.status_code == 400
    error = field_error(broken.get_data(as_text=True), "email_text")
    assert error is not None and error.startswith("Line 2:")
    no_links = post_form(client, path, {**base, "email_html": "<p>Hello</p>", "action": "save"})
    assert no_links.status_code == 400
    assert field_error(no_links.get_data(as_text=True), "email_html") is not None
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        assert survey is not None and survey.email_subject is None and survey.email_text is None
    assert post_form(client, path, {**base, "action": "save"}).status_code == 302
    with app.app_context():
        survey = db.session.get(Survey, survey_id)
        assert survey is not None
        assert survey.email_subject == "Your opinion, {{ first_name }}?"
        assert survey.email_html is None  # the default, kept as the default
