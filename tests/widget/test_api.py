"""The widget endpoints over HTTP (the browser's view is in test_widget_e2e.py): identity,
the cadence decision, displays, dismissals, answers, events; bad input changes nothing."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from flask import Flask

from app.clock import FrozenClock
from app.db import db
from app.models import (
    Decision,
    DeferredAsk,
    Invitation,
    Person,
    PersonEvent,
    Response,
    WidgetDisplay,
)
from tests.support.api import Api, error_of
from tests.support.factories import new_survey, permissive_cadence
from tests.support.widget import USER, Key, Widget, make_key


@pytest.fixture
def key(api: Api) -> Key:
    return make_key(api)


@pytest.fixture
def widget(app: Flask, key: Key) -> Widget:
    return Widget(app.test_client(), key)


@pytest.fixture
def survey(api: Api) -> dict[str, Any]:
    return new_survey(
        api,
        follow_up_promoter="What do you like most?",
        follow_up_detractor="What disappointed you?",
    )


def shown(widget: Widget, user: dict[str, Any] | None = None) -> dict[str, Any] | None:
    response = widget.check(user)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["survey"]


def test_check_identifies_and_shows_the_survey_with_the_servers_words(
    app: Flask, widget: Widget, survey: dict[str, Any]
) -> None:
    response = widget.check()
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Origin" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "no-store"
    shown_ = response.get_json()["survey"]
    assert shown_ == {
        "display_id": shown_["display_id"],
        "survey_id": survey["id"],
        "question": "How likely are you to recommend Acme to a friend or colleague?",
        "follow_up": {
            "promoter": "What do you like most?",
            "passive": "What is the main reason for your score?",
            "detractor": "What disappointed you?",
        },
        "strings": {
            "low_label": "Not at all likely",
            "high_label": "Extremely likely",
            "comment_label": "Tell us more (optional)",
            "submit": "Send",
            "skip": "Skip",
            "thanks": "Thank you for your feedback!",
            "close": "Close",
            "score_label": "{n} out of 10",
        },
        "theme": {},
        "position": "bottom-right",
    }
    with app.app_context():
        person = db.session.query(Person).one()
        assert (person.external_id, person.email, person.name) == (
            "u-42",
            "ada@example.com",
            "Ada Lovelace",
        )
        assert person.role.value == "decision_maker"
        assert (person.account.external_id, person.account.name) == (
            "acc-7",
            "Analytical Engines Ltd",
        )
        assert person.properties == {"plan": "pro"}
        assert person.signed_up_at.isoformat() == "2024-03-01T09:00:00+00:00"
        display = db.session.query(WidgetDisplay).one()
        assert display.display_id == shown_["display_id"]
    # shown again on the next page while it is open: the same display, not a new contact
    assert shown(widget)["display_id"] == shown_["display_id"]
    with app.app_context():
        assert db.session.query(WidgetDisplay).count() == 1


def test_words_follow_the_persons_locale_then_the_browsers(
    api: Api, widget: Widget, survey: dict[str, Any]
) -> None:
    english = shown(widget, {"userId": "u-1"})
    assert english is not None  # no locale known, no Accept-Language: English
    assert english["strings"]["submit"] == "Send"
    german = widget.check({"userId": "u-2"}, **{"Accept-Language": "de-AT,de;q=0.9"})
    assert german.get_json()["survey"]["strings"]["submit"] == "Senden"
    assert (
        api.post("/api/v1/people", json={"external_id": "u-3", "locale": "fr"}).status_code == 201
    )
    mixed = widget.check({"userId": "u-3"}, **{"Accept-Language": "de"})
    assert mixed.get_json()["survey"]["strings"]["score_label"] == "{n} sur 10"


def test_what_qualifies_for_the_widget(api: Api, widget: Widget) -> None:
    no_widget = new_survey(api, name="Email only", channels=["email"])
    assert shown(widget) is None  # no survey with the widget channel
    paused = new_survey(api, name="Paused")
    api.patch(f"/api/v1/surveys/{paused['id']}", json={"status": "paused"})
    assert shown(widget) is None
    closed = new_survey(api, name="Closed", closes_at="2026-11-01T00:00:00Z")
    later = new_survey(api, name="Later", opens_at="2026-12-01T00:00:00Z")
    assert shown(widget) is None
    assert {no_widget["id"], paused["id"], closed["id"], later["id"]}  # all there, none shown
    look = api.put(
        f"/api/v1/surveys/{later['id']}/widget",
        json={"theme": {"accent": "#0f766e"}, "position": "top-left"},
    )
    assert look.status_code == 200
    api.patch(f"/api/v1/surveys/{later['id']}", json={"opens_at": "2026-11-01T00:00:00Z"})
    now_open = shown(widget)
    assert now_open["survey_id"] == later["id"]
    assert (now_open["theme"], now_open["position"]) == ({"accent": "#0f766e"}, "top-left")


def test_an_answer_is_upserted_by_response_id_and_ends_open_invitations(
    app: Flask, api: Api, widget: Widget, survey: dict[str, Any]
) -> None:
    person = api.post("/api/v1/people", json={"external_id": "u-42", "email": "ada@example.com"})
    emailed = api.post(
        "/api/v1/invitations",
        json={"survey_id": survey["id"], "person_id": person.get_json()["id"], "channel": "email"},
    )
    assert emailed.status_code == 201, emailed.get_json()
    permissive_cadence(api)  # the email was a contact: let the widget ask too
    display_id = shown(widget)["display_id"]
    rid = str(uuid.uuid4())
    first = widget.answer(display_id, 3, None, rid)
    assert first.status_code == 201, first.get_json()
    assert first.get_json() == {
        "response_id": rid,
        "score": 3,
        "category": "detractor",
        "comment": None,
    }
    for score, comment in ((3, None), (4, "Too slow"), (5, None), (5, None)):  # retries
        assert widget.answer(display_id, score, comment, rid).status_code == 201
    with app.app_context():
        response = db.session.query(Response).one()
        assert (response.score, response.comment, response.channel.value) == (
            5,
            "Too slow",
            "widget",
        )
        assert response.category.value == "detractor"
        assert response.role.value == "decision_maker"
        assert response.account.external_id == "acc-7"
        assert response.client_id == rid and response.invitation_id is None
        display = db.session.query(WidgetDisplay).one()
        assert (display.response_id, display.answered_at) == (response.id, response.answered_at)
        invitation = db.session.get(Invitation, emailed.get_json()["id"])
        assert invitation.status.value == "canceled"
        assert invitation.next_action_at is None
        assert invitation.end_reason == f"answered in the widget (response {response.id})"
    # another response id for the same display updates the one answer; "" clears the comment
    assert widget.answer(display_id, 9, "", str(uuid.uuid4())).status_code == 201
    with app.app_context():
        response = db.session.query(Response).one()
        assert (response.score, response.comment, response.category.value) == (9, None, "promoter")
    listed = api.get(f"/api/v1/responses?survey_id={survey['id']}&channel=widget").get_json()
    assert [r["score"] for r in listed["data"]] == [9]
    # answered: the next page shows nothing (the recurrence rule now applies)
    permissive_cadence(api, recurrence_days=90)
    assert shown(widget) is None


def test_dismissal_starts_the_backoff(
    app: Flask, clock: FrozenClock, widget: Widget, survey: dict[str, Any]
) -> None:
    display_id = shown(widget)["display_id"]
    dismissed = widget.dismiss(display_id)
    assert dismissed.status_code == 204 and dismissed.data == b""
    assert dismissed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert shown(widget) is None
    clock.advance(days=6, hours=23)
    assert shown(widget) is None
    with app.app_context():  # one stored refusal a day, not one per page view
        reasons = [d.reason for d in db.session.query(Decision).order_by(Decision.id)]
        assert reasons == ["dismissal_backoff", "dismissal_backoff"]
    clock.advance(hours=1)
    assert shown(widget)["display_id"] == display_id  # the open display comes back
    # a dismissal after an answer changes nothing
    assert widget.answer(display_id, 8).status_code == 201
    assert widget.dismiss(display_id).status_code == 204
    with app.app_context():
        assert db.session.query(WidgetDisplay).one().dismissed_at < clock.now()


def test_a_survey_shown_is_a_contact_for_every_channel(
    api: Api, widget: Widget, survey: dict[str, Any]
) -> None:
    shown(widget)
    person = api.get("/api/v1/people?external_id=u-42").get_json()["data"][0]
    refused = api.post(
        "/api/v1/invitations",
        json={"survey_id": survey["id"], "person_id": person["id"], "channel": "email"},
    )
    assert refused.status_code == 409
    assert error_of(refused)["rule"] == "recurrence"


def test_surveys_take_turns(api: Api, clock: FrozenClock, widget: Widget) -> None:
    permissive_cadence(api)
    first, second = new_survey(api, name="A"), new_survey(api, name="B")
    seen = []
    for _ in range(4):
        clock.advance(hours=1)
        survey = shown(widget)
        seen.append(survey["survey_id"])
        assert shown(widget)["display_id"] == survey["display_id"]  # open: the same again
        assert widget.answer(survey["display_id"], 7).status_code == 201
    assert seen == [first["id"], second["id"], first["id"], second["id"]]


def test_event_rules_show_their_survey_when_the_widget_reports_the_event(
    app: Flask, api: Api, widget: Widget, survey: dict[str, Any]
) -> None:
    onboarding = new_survey(api, name="After export")
    rule = api.post(
        f"/api/v1/surveys/{onboarding['id']}/triggers",
        json={"kind": "event", "event": "exported_report", "delay_days": 0, "channel": "widget"},
    )
    assert rule.status_code == 201, rule.get_json()
    emailed = new_survey(api, name="Emailed later")
    api.post(
        f"/api/v1/surveys/{emailed['id']}/triggers",
        json={"kind": "event", "event": "exported_report", "delay_days": 3, "channel": "email"},
    )
    permissive_cadence(api)
    assert shown(widget)["survey_id"] == survey["id"]  # page load: not the event's survey
    other = widget.event("opened_settings")
    assert (other.status_code, other.get_json()) == (202, {"survey": None})
    answer = widget.event("exported_report")
    assert answer.status_code == 202
    assert answer.get_json()["survey"]["survey_id"] == onboarding["id"]
    with app.app_context():
        assert [e.name for e in db.session.query(PersonEvent).order_by(PersonEvent.id)] == [
            "opened_settings",
            "exported_report",
        ]
        # the email rule planned its ask; the widget rule asked at once
        (planned,) = db.session.query(DeferredAsk).all()
        assert (planned.survey_id, planned.channel.value) == (emailed["id"], "email")
    # an event before any check makes the person
    assert widget.event("exported_report", user_id="u-new").status_code == 202


def test_widget_rules_are_event_rules_at_once(api: Api, survey: dict[str, Any]) -> None:
    path = f"/api/v1/surveys/{survey['id']}/triggers"
    late = api.post(
        path, json={"kind": "event", "event": "x", "delay_days": 2, "channel": "widget"}
    )
    assert late.status_code == 400 and error_of(late)["field"] == "delay_days"
    recurring = api.post(path, json={"kind": "recurring", "every_days": 30, "channel": "widget"})
    assert recurring.status_code == 400 and error_of(recurring)["field"] == "channel"


def test_two_tabs_at_once_make_one_person_and_one_display(
    app: Flask, key: Key, survey: dict[str, Any]
) -> None:
    barrier = threading.Barrier(8)
    results: list[Any] = []

    def check() -> None:
        client = Widget(app.test_client(), key)
        barrier.wait()
        response = client.check({**USER, "userId": "u-race", "email": "race@example.com"})
        results.append(
            (response.status_code, (response.get_json()["survey"] or {}).get("display_id"))
        )

    threads = [threading.Thread(target=check) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [s for s, _ in results] == [200] * 8, results
    assert len({d for _, d in results}) == 1, results
    with app.app_context():
        assert db.session.query(Person).count() == 1
        assert db.session.query(WidgetDisplay).count() == 1
