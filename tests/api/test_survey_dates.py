"""A survey's reminder plan, open and close dates and escalation setting through the API:
checked on input (a 4xx naming the field, nothing changed), and applied to the invitations
that already exist (a close pulls their deadlines in and closes their links)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from app.clock import FrozenClock
from app.db import db
from app.models import Response
from tests.support.api import Api, error_of, issue_test_key
from tests.support.factories import invite, new_survey
from tests.support.lifecycle import (
    answer_by_link,
    invitation,
    outbox,
    run_until,
    steps_sent,
    survey_link,
)

CLOSE = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
AFTER = datetime(2026, 12, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reminder_1_days": 0}, "reminder_1_days"),
        ({"reminder_1_days": 7, "reminder_2_days": 7}, "reminder_2_days"),
        ({"reminder_1_days": 5, "reminder_2_days": 4, "deadline_days": 10}, "reminder_2_days"),
        ({"reminder_2_days": 10, "deadline_days": 10}, "deadline_days"),
        ({"reminder_1_days": 3, "reminder_2_days": 7, "deadline_days": 91}, "deadline_days"),
        ({"reminder_1_days": "three"}, "reminder_1_days"),
        ({"opens_at": "2026-12-01T00:00:00Z", "closes_at": "2026-11-30T00:00:00Z"}, "closes_at"),
        ({"closes_at": "2026-11-30T00:00:00"}, "closes_at"),  # no time zone
        ({"escalate_to_sms": True, "channels": ["email"]}, "escalate_to_sms"),
        ({"escalate_to_sms": "yes please"}, "escalate_to_sms"),
    ],
)
def test_create_refuses_a_bad_plan_naming_the_field(api: Api, body: dict, field: str) -> None:
    response = api.post("/api/v1/surveys", json={"name": "NPS", **body})
    assert response.status_code == 400, response.get_json()
    assert error_of(response)["field"] == field
    assert api.get("/api/v1/surveys").get_json()["data"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reminder_1_days": 7}, "reminder_1_days"),  # 7 < 7: the field that was sent
        ({"reminder_2_days": 2}, "reminder_2_days"),  # 3 < 2
        ({"deadline_days": 7}, "deadline_days"),  # 7 < 7
        ({"reminder_2_days": 12}, "reminder_2_days"),  # 12 < 10
        ({"reminder_2_days": 12, "deadline_days": 12}, "deadline_days"),
        ({"reminder_1_days": None}, "reminder_1_days"),
        ({"escalate_to_sms": None}, "escalate_to_sms"),
        ({"escalate_to_sms": True, "channels": ["email", "link"]}, "escalate_to_sms"),
        ({"opens_at": "2026-12-20T00:00:00Z"}, "closes_at"),  # after the close
        ({"deadline": 12}, "deadline"),
    ],
)
def test_patch_refuses_a_bad_plan_naming_the_field_and_changes_nothing(
    api: Api, body: dict, field: str
) -> None:
    survey = new_survey(api, closes_at="2026-12-15T00:00:00Z")
    response = api.patch(f"/api/v1/surveys/{survey['id']}", json=body)
    assert response.status_code == 400, response.get_json()
    assert error_of(response)["field"] == field
    assert api.get(f"/api/v1/surveys/{survey['id']}").get_json() == survey


def test_patch_plan_error_says_what_the_plan_would_be(api: Api) -> None:
    survey = new_survey(api)
    response = api.patch(f"/api/v1/surveys/{survey['id']}", json={"reminder_1_days": 8})
    assert error_of(response) == {
        "code": "invalid",
        "field": "reminder_1_days",
        "message": "reminder_2_days must be after reminder_1_days (the plan would be "
        "reminder_1_days=8, reminder_2_days=7, deadline_days=10)",
    }


def test_patch_removing_sms_from_an_escalating_survey_names_channels(api: Api) -> None:
    survey = new_survey(api, channels=["email", "sms"], escalate_to_sms=True)
    response = api.patch(f"/api/v1/surveys/{survey['id']}", json={"channels": ["email"]})
    assert response.status_code == 400 and error_of(response)["field"] == "channels"


def test_patch_changes_the_plan_for_new_invitations(api: Api) -> None:
    survey = new_survey(api)
    before = invite(api, survey["id"])
    patched = api.patch(
        f"/api/v1/surveys/{survey['id']}",
        json={"reminder_1_days": 2, "reminder_2_days": 4, "deadline_days": 6},
    )
    assert patched.status_code == 200, patched.get_json()
    after = invite(api, survey["id"], email="kim@globex.example")
    assert before["reminder_1_at"] == "2026-11-19T10:00:00Z"  # planned when it was made
    assert after["reminder_1_at"] == "2026-11-18T10:00:00Z"
    assert after["deadline_at"] == "2026-11-22T23:59:59Z"


def test_only_admins_change_surveys(app: Flask, api: Api) -> None:
    survey = new_survey(api)
    csm = Api(app.test_client(), issue_test_key(app, "csm", "jane@acme.example"))
    response = csm.patch(f"/api/v1/surveys/{survey['id']}", json={"closes_at": None})
    assert response.status_code == 403


def test_no_new_invitations_once_the_survey_has_closed(
    app: Flask, api: Api, clock: FrozenClock
) -> None:
    survey = new_survey(api, closes_at="2026-11-16T09:00:00Z")
    response = api.post(
        "/api/v1/invitations",
        json={"survey_id": survey["id"], "channel": "email", "person": {"email": "a@b.example"}},
    )
    assert response.status_code == 409 and error_of(response)["code"] == "survey_closed"
    assert api.get("/api/v1/invitations").get_json()["data"] == []


def test_a_close_pulls_open_deadlines_in_and_closes_the_links(
    app: Flask, api: Api, clock: FrozenClock
) -> None:
    survey = new_survey(api)
    inv = invite(api, survey["id"], timezone="Europe/London")
    answered = invite(api, survey["id"], email="kim@globex.example", timezone="Europe/London")
    run_until(app, clock, datetime(2026, 11, 17, tzinfo=UTC))
    client = app.test_client()
    answered_link = survey_link(outbox(app, answered["id"])[0].text)
    assert answer_by_link(client, answered_link, score=9) == 303

    patched = api.patch(
        f"/api/v1/surveys/{survey['id']}", json={"closes_at": "2026-11-20T12:00:00Z"}
    )
    assert patched.status_code == 200 and patched.get_json()["closes_at"] == "2026-11-20T12:00:00Z"
    pulled = api.get(f"/api/v1/invitations/{inv['id']}").get_json()
    assert pulled["deadline_at"] == "2026-11-20T12:00:00Z"
    link = survey_link(outbox(app, inv["id"])[0].text)  # its token still says the 26th

    run_until(app, clock, datetime(2026, 11, 20, 11, 59, tzinfo=UTC))
    assert client.get(link).status_code == 200  # open until the close
    run_until(app, clock, AFTER)
    assert steps_sent(app, inv["id"]) == ["initial", "reminder_1"]  # no reminder 2 after it
    closed = invitation(app, inv["id"])
    assert closed.status.value == "expired"
    assert closed.ended_at == CLOSE
    page = client.get(link)
    assert page.status_code == 410 and "This survey has closed" in page.get_data(as_text=True)
    # An answer given before the close cannot be changed after it either.
    again = client.get(answered_link)
    assert again.status_code == 410
    assert "your answer was recorded before it closed" in again.get_data(as_text=True)
    with app.app_context():
        assert [r.score for r in db.session.query(Response)] == [9]


def test_closing_now_expires_everything_open(app: Flask, api: Api, clock: FrozenClock) -> None:
    survey = new_survey(api)
    invs = [invite(api, survey["id"], email=f"p{i}@globex.example") for i in range(3)]
    api.patch(f"/api/v1/surveys/{survey['id']}", json={"closes_at": "2026-11-16T10:00:00Z"})
    run_until(app, clock, clock.now())
    assert {invitation(app, i["id"]).status.value for i in invs} == {"expired"}


def test_a_later_close_does_not_push_deadlines_out(
    app: Flask, api: Api, clock: FrozenClock
) -> None:
    survey = new_survey(api)
    inv = invite(api, survey["id"])
    api.patch(f"/api/v1/surveys/{survey['id']}", json={"closes_at": "2026-11-20T12:00:00Z"})
    api.patch(f"/api/v1/surveys/{survey['id']}", json={"closes_at": "2026-12-20T12:00:00Z"})
    assert invitation(app, inv["id"]).deadline_at == CLOSE
