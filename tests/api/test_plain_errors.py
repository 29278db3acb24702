"""The API's plain answers: the root page, malformed JSON (not JSON, and where), a broken
reminder plan (its field named once), unknown paths and methods (not Werkzeug's words)."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.support.api import Api, error_of, row_counts


def test_the_root_sends_people_to_the_dashboard(app: Flask) -> None:
    answer = app.test_client().get("/")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/dashboard/")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ('{"name": "NPS",}', "line 1, column 16"),
        ('{"name":\n  "NPS"', "line 2, column 8"),
    ],
)
def test_malformed_json_says_it_is_not_json_and_where(
    app: Flask, api: Api, body: str, where: str
) -> None:
    before = row_counts(app)
    for method, path in (("post", "/api/v1/surveys"), ("put", "/api/v1/cadence")):
        answer = getattr(api, method)(path, data=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400
        error = error_of(answer)
        assert error["code"] == "bad_request"
        assert error["message"].startswith("The request body is not valid JSON: "), error
        assert where in error["message"]
    assert row_counts(app) == before
    array = api.post("/api/v1/surveys", json=["NPS"])
    assert error_of(array)["message"] == "The request body must be a JSON object."


def test_a_broken_reminder_plan_names_its_field_once(app: Flask, api: Api) -> None:
    before = row_counts(app)
    answer = api.post(
        "/api/v1/surveys", json={"name": "NPS", "reminder_1_days": 3, "reminder_2_days": 2}
    )
    error = error_of(answer)
    assert (answer.status_code, error["field"]) == (400, "reminder_2_days")
    assert error["message"] == "reminder_2_days: must be after reminder_1_days"
    assert row_counts(app) == before


def test_unknown_api_paths_answer_in_json_without_werkzeug_s_words(api: Api) -> None:
    missing = api.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert error_of(missing) == {
        "code": "not_found",
        "message": "There is nothing at /api/v1/nothing-here.",
        "field": None,
    }
    wrong = api.delete("/api/v1/surveys")
    assert wrong.status_code == 405
    message = error_of(wrong)["message"]
    assert message.startswith("/api/v1/surveys does not take DELETE; it takes ")
    assert "GET" in message and "POST" in message
    assert "manually" not in missing.get_data(as_text=True)
