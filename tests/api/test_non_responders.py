"""GET /api/v1/surveys/<id>/non-responders: who was asked and never answered, with the
reminders they received; filters, cursor pagination, CSV, and bad input."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from app.clock import FrozenClock
from tests.support.api import Api, error_of, issue_test_key
from tests.support.factories import invite, new_survey
from tests.support.lifecycle import answer_by_link, outbox, run_until, survey_link

FRI_20 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def population(app: Flask, api: Api, clock: FrozenClock) -> dict:
    """Six people asked over an hour: two answer, one is canceled, three never answer."""
    survey = new_survey(api, channels=["email", "link"])
    people = [
        ("ann", "end_user", "globex"),
        ("bob", "executive", "globex"),
        ("cyd", "executive", "initech"),
        ("dee", None, "initech"),
        ("eve", "end_user", "globex"),
        ("fay", "executive", "globex"),
    ]
    made = {}
    for name, role, account in people:
        person = {
            "email": f"{name}@{account}.example",
            "name": name.title(),
            "timezone": "Europe/London",
            "account": {"external_id": account, "name": account.title()},
        }
        if role:
            person["role"] = role
        made[name] = api.post(
            "/api/v1/invitations",
            json={"survey_id": survey["id"], "channel": "email", "person": person},
        ).get_json()
        clock.advance(minutes=10)
    run_until(app, clock, datetime(2026, 11, 17, tzinfo=UTC))
    client = app.test_client()
    for name in ("eve", "fay"):
        assert answer_by_link(client, survey_link(outbox(app, made[name]["id"])[0].text)) == 303
    assert api.post(f"/api/v1/invitations/{made['dee']['id']}/cancel").status_code == 200
    run_until(app, clock, FRI_20)
    return {"survey": survey, "invitations": made}


def _names(body: dict) -> list[str]:
    return [row["person"]["name"] for row in body["data"]]


def test_lists_who_never_answered_with_their_reminders(api: Api, population: dict) -> None:
    survey = population["survey"]
    body = api.get(f"/api/v1/surveys/{survey['id']}/non-responders").get_json()
    assert _names(body) == ["Cyd", "Bob", "Ann"]  # newest first
    cyd = body["data"][0]
    assert cyd["status"] == "reminded_1"
    assert cyd["channel"] == "email"
    assert cyd["person"]["role"] == "executive"
    assert cyd["account"]["external_id"] == "initech"
    assert cyd["sent_at"] == "2026-11-16T10:20:00Z"
    assert cyd["reminders"] == [
        {
            "step": "reminder_1",
            "channel": "email",
            "status": "accepted",
            "sent_at": "2026-11-19T10:20:00Z",
            "reason": None,
        }
    ]
    assert body["next_cursor"] is None


def test_filters_by_role_and_account(api: Api, population: dict) -> None:
    url = f"/api/v1/surveys/{population['survey']['id']}/non-responders"
    assert _names(api.get(f"{url}?role=executive").get_json()) == ["Cyd", "Bob"]
    assert _names(api.get(f"{url}?account=globex").get_json()) == ["Bob", "Ann"]
    assert _names(api.get(f"{url}?role=executive&account=initech").get_json()) == ["Cyd"]
    assert _names(api.get(f"{url}?role=unknown").get_json()) == []
    assert _names(api.get(f"{url}?channel=link").get_json()) == []
    assert _names(api.get(f"{url}?since=2026-11-16T10:05:00Z").get_json()) == ["Cyd", "Bob"]


def test_cursor_pagination_walks_every_row_once(api: Api, population: dict) -> None:
    url = f"/api/v1/surveys/{population['survey']['id']}/non-responders"
    seen, cursor = [], None
    for _ in range(5):
        body = api.get(f"{url}?limit=2" + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += _names(body)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Cyd", "Bob", "Ann"]


def test_csv(api: Api, population: dict) -> None:
    url = f"/api/v1/surveys/{population['survey']['id']}/non-responders?format=csv"
    response = api.get(f"{url}&role=executive")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "non-responders.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["name"], r["account_external_id"]) for r in rows] == [
        ("Cyd", "initech"),
        ("Bob", "globex"),
    ]
    assert rows[0]["reminder_1_sent_at"] == "2026-11-19T10:20:00Z"
    assert rows[0]["reminder_1_channel"] == "email"
    assert rows[0]["reminder_2_sent_at"] == ""


def test_csv_cells_never_become_formulas(app: Flask, api: Api, clock: FrozenClock) -> None:
    survey = new_survey(api)
    invite(api, survey["id"], name="=HYPERLINK(1)")
    clock.advance(hours=1)
    rows = list(
        csv.DictReader(
            io.StringIO(
                api.get(f"/api/v1/surveys/{survey['id']}/non-responders?format=csv").get_data(
                    as_text=True
                )
            )
        )
    )
    assert rows[0]["name"] == "'=HYPERLINK(1)"


def test_csv_streams_long_lists_in_batches(
    app: Flask, api: Api, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.api import non_responders

    monkeypatch.setattr(non_responders, "CSV_BATCH", 2)
    survey = new_survey(api)
    for i in range(5):
        invite(api, survey["id"], email=f"p{i}@globex.example")
        clock.advance(timedelta(minutes=1))
    text = api.get(f"/api/v1/surveys/{survey['id']}/non-responders?format=csv").get_data(
        as_text=True
    )
    emails = [r["email"] for r in csv.DictReader(io.StringIO(text))]
    assert emails == [f"p{i}@globex.example" for i in reversed(range(5))]


def test_csm_keys_may_read_it(app: Flask, population: dict) -> None:
    csm = Api(app.test_client(), issue_test_key(app, "csm", "jane@acme.example"))
    url = f"/api/v1/surveys/{population['survey']['id']}/non-responders"
    assert csm.get(url).status_code == 200


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("format=xml", 400, "format"),
        ("role=boss", 400, "role"),
        ("account=nope", 404, "account"),
        ("channel=fax", 400, "channel"),
        ("limit=0", 400, "limit"),
        ("cursor=garbage", 400, "cursor"),
        ("since=yesterday", 400, "since"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(
    api: Api, population: dict, query: str, status: int, field: str
) -> None:
    url = f"/api/v1/surveys/{population['survey']['id']}/non-responders?{query}"
    response = api.get(url)
    assert response.status_code == status, response.get_json()
    assert error_of(response)["field"] == field


def test_unknown_survey_and_no_key(app: Flask, api: Api) -> None:
    missing = api.get("/api/v1/surveys/999/non-responders")
    assert missing.status_code == 404 and error_of(missing)["field"] == "survey_id"
    assert app.test_client().get("/api/v1/surveys/999/non-responders").status_code == 401
