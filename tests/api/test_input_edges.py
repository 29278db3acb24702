"""Edge cases of input found in review: strict ids and times, real zone names, JSON compared
by meaning for idempotency, a known role that a form cannot change, archived surveys."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from app.db import db
from app.models import Response, Survey
from app.vocabulary import SurveyStatus
from tests.support.api import Api, error_of, row_counts
from tests.support.factories import new_person, new_survey


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"survey_id": True}, "survey_id"),
        ({"survey_id": "1"}, "survey_id"),
        ({"person_id": 1.0}, "person_id"),
        ({"send_at": 5}, "send_at"),
        ({"sender": False}, "sender"),
    ],
)
def test_ids_and_times_are_strict(app: Flask, api: Api, body: dict, field: str) -> None:
    survey = new_survey(api)
    person = new_person(api)
    before = row_counts(app)
    request = {"survey_id": survey["id"], "person_id": person["id"], "channel": "link", **body}
    response = api.post("/api/v1/invitations", json=request)
    assert response.status_code == 400
    assert error_of(response)["field"].startswith(field)
    assert row_counts(app) == before


def test_signed_up_at_must_be_a_time_not_a_number(api: Api) -> None:
    response = api.post("/api/v1/people", json={"external_id": "x", "signed_up_at": 5})
    assert response.status_code == 400 and error_of(response)["field"] == "signed_up_at"


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "Mars/Olympus", ""])
def test_time_zones_are_iana_names(api: Api, zone: str) -> None:
    response = api.post("/api/v1/people", json={"external_id": "x", "timezone": zone})
    assert response.status_code == 400 and error_of(response)["field"] == "timezone"


def test_idempotency_compares_json_by_meaning(api: Api) -> None:
    headers = {"Idempotency-Key": "k-1", "Content-Type": "application/json"}
    first = api.client.post(
        "/api/v1/people",
        data=json.dumps({"external_id": "a", "name": "A"}),
        headers={**api._headers(None), **headers},
    )
    again = api.client.post(
        "/api/v1/people",
        data='{ "name" : "A",\n "external_id": "a" }',
        headers={**api._headers(None), **headers},
    )
    assert first.status_code == 201
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()


def test_find_people_by_email_uses_the_same_normalisation(api: Api) -> None:
    new_person(api, "u-9", email="Kim.Lee@Globex.example")
    found = api.get("/api/v1/people?email=%20KIM.LEE@globex.EXAMPLE").get_json()["data"]
    assert [p["external_id"] for p in found] == ["u-9"]
    bad = api.get("/api/v1/people?email=not-an-address")
    assert bad.status_code == 400 and error_of(bad)["field"] == "email"


def _answer(client, link: str, **form: str):
    path = link.removeprefix("http://sounding.test")
    html = client.get(path).get_data(as_text=True)
    from tests.support.api import CSRF_RE

    token = CSRF_RE.search(html)
    data = {"csrf_token": token.group(1)} if token else {}
    return client.post(path, data={**data, **form})


def test_a_posted_role_does_not_override_a_known_one(app: Flask, api: Api) -> None:
    survey = new_survey(api)
    person = new_person(api, role="executive")
    link = api.post(
        "/api/v1/invitations",
        json={"survey_id": survey["id"], "person_id": person["id"], "channel": "link"},
    ).get_json()["link"]
    assert _answer(api.client, link, score="9", role="end_user").status_code == 303
    with app.app_context():
        assert db.session.query(Response).one().role.value == "executive"


def test_an_archived_survey_takes_no_answers(app: Flask, api: Api) -> None:
    survey = new_survey(api)
    person = new_person(api)
    link = api.post(
        "/api/v1/invitations",
        json={"survey_id": survey["id"], "person_id": person["id"], "channel": "link"},
    ).get_json()["link"]
    with app.app_context():
        db.session.get(Survey, survey["id"]).status = SurveyStatus.ARCHIVED
        db.session.commit()
    path = link.removeprefix("http://sounding.test")
    page = api.client.get(path)
    assert page.status_code == 410 and "closed" in page.get_data(as_text=True)
    assert api.client.post(path, data={"score": "9"}).status_code in (400, 410)
    with app.app_context():
        assert db.session.query(Response).count() == 0


def test_too_large_a_page_request_gets_a_friendly_page(api: Api) -> None:
    response = api.client.post("/s/whatever", data={"comment": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "Please shorten it" in response.get_data(as_text=True)
