"""``Idempotency-Key`` on the POSTs that create things: a retry gets the first answer and
creates nothing new, per API key; an error is not remembered; and concurrent duplicates on
PostgreSQL create exactly one row."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

from app.clock import FrozenClock
from app.db import db
from app.models import IdempotencyRecord, OutboxMessage
from tests.support.api import Api, error_of, issue_test_key, row_counts
from tests.support.factories import new_person, new_survey, permissive_cadence

PEOPLE = "/api/v1/people"
INVITATIONS = "/api/v1/invitations"


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


def test_a_retry_gets_the_first_answer_and_creates_nothing(api: Api, app: Flask) -> None:
    survey = new_survey(api)
    body = {"survey_id": survey["id"], "channel": "email", "person": {"external_id": "u-1",
            "email": "ann@globex.example"}}  # fmt: skip
    first = api.post(INVITATIONS, json=body, headers=key("create-ann-1"))
    assert first.status_code == 201, first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    after_first = row_counts(app)
    assert after_first["invitation"] == 1 and after_first["person"] == 1

    for _ in range(2):
        again = api.post(INVITATIONS, json=body, headers=key("create-ann-1"))
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.get_json() == first.get_json()
    assert row_counts(app) == after_first
    with app.app_context():
        assert db.session.query(OutboxMessage).count() == 1  # sent once


def test_people_and_surveys_replay_too(api: Api, app: Flask) -> None:
    person = {"external_id": "u-1", "email": "ann@globex.example"}
    first = api.post(PEOPLE, json=person, headers=key("p-1"))
    again = api.post(PEOPLE, json=person, headers=key("p-1"))
    # The replay is the first answer, 201 "created", not a 200 "updated".
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"

    survey = api.post("/api/v1/surveys", json={"name": "NPS"}, headers=key("s-1"))
    replay = api.post("/api/v1/surveys", json={"name": "NPS"}, headers=key("s-1"))
    assert replay.get_json() == survey.get_json()
    assert row_counts(app)["survey"] == 1 and row_counts(app)["person"] == 1


def test_the_same_key_with_another_body_is_422(api: Api, app: Flask) -> None:
    api.post(PEOPLE, json={"external_id": "u-1"}, headers=key("k"))
    before = row_counts(app)
    for path, body in [
        (PEOPLE, {"external_id": "u-2"}),  # another body
        (PEOPLE, {"external_id": "u-1", "name": "Ann"}),  # the same person, changed
        ("/api/v1/surveys", {"name": "NPS"}),  # another endpoint
    ]:
        response = api.post(path, json=body, headers=key("k"))
        assert response.status_code == 422, response.get_json()
        error = error_of(response)
        assert error["code"] == "idempotency_key_reused"
        assert error["field"] == "Idempotency-Key"
    assert row_counts(app) == before


def test_keys_belong_to_one_api_key(api: Api, app: Flask) -> None:
    other = Api(app.test_client(), issue_test_key(app, "admin"))
    body = {"external_id": "u-1", "name": "Ann"}
    mine = api.post(PEOPLE, json=body, headers=key("shared"))
    theirs = other.post(PEOPLE, json=body, headers=key("shared"))
    assert mine.status_code == 201
    # Not a replay of someone else's answer: the request ran (and found the person).
    assert theirs.status_code == 200
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["id"] == mine.get_json()["id"]
    with app.app_context():
        assert db.session.query(IdempotencyRecord).count() == 2


def test_an_error_is_not_remembered(api: Api, app: Flask) -> None:
    bad = {"external_id": "u-1", "email": "not-an-email"}
    for _ in range(2):
        response = api.post(PEOPLE, json=bad, headers=key("retry-me"))
        assert response.status_code == 400
        assert "Idempotent-Replayed" not in response.headers
    with app.app_context():
        assert db.session.query(IdempotencyRecord).count() == 0

    fixed = {"external_id": "u-1", "email": "ann@globex.example"}
    response = api.post(PEOPLE, json=fixed, headers=key("retry-me"))
    assert response.status_code == 201, response.get_json()
    replay = api.post(PEOPLE, json=fixed, headers=key("retry-me"))
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_a_refusal_by_the_service_is_not_remembered(api: Api) -> None:
    permissive_cadence(api)
    survey = new_survey(api)
    person = new_person(api)
    body = {"survey_id": survey["id"], "person_id": person["id"], "channel": "link"}
    first = api.post(INVITATIONS, json=body, headers=key("a"))
    assert first.status_code == 201
    refused = api.post(INVITATIONS, json=body, headers=key("b"))
    assert refused.status_code == 409 and error_of(refused)["code"] == "already_invited"
    assert api.post(f"{INVITATIONS}/{first.get_json()['id']}/cancel").status_code == 200
    retried = api.post(INVITATIONS, json=body, headers=key("b"))
    assert retried.status_code == 201, retried.get_json()
    assert retried.get_json()["id"] != first.get_json()["id"]


def test_a_malformed_key_is_refused(api: Api, app: Flask) -> None:
    before = row_counts(app)
    for value in ("   ", "x" * 256, "tab\there"):
        response = api.post(PEOPLE, json={"external_id": "u-1"}, headers=key(value))
        assert response.status_code == 400, value
        assert error_of(response)["field"] == "Idempotency-Key"
    assert row_counts(app) == before


def test_a_key_is_forgotten_after_a_day(api: Api, clock: FrozenClock) -> None:
    body = {"external_id": "u-1", "name": "Ann"}
    assert api.post(PEOPLE, json=body, headers=key("daily")).status_code == 201
    clock.advance(hours=23)
    assert api.post(PEOPLE, json=body, headers=key("daily")).headers["Idempotent-Replayed"]
    clock.advance(hours=2)
    later = api.post(PEOPLE, json=body, headers=key("daily"))
    assert later.status_code == 200  # ran again: the person exists, so it is an update
    assert "Idempotent-Replayed" not in later.headers


# --- concurrency on PostgreSQL --------------------------------------------------------------

THREADS = 10


def all_at_once(app: Flask, api_key: str, send: Callable[[Api], TestResponse]) -> list[Any]:
    """Run ``send`` from THREADS threads released together, each with its own client."""
    barrier = threading.Barrier(THREADS)

    def one(_: int) -> tuple[int, dict[str, Any], bool]:
        client = Api(app.test_client(), api_key)
        barrier.wait()
        response = send(client)
        return response.status_code, response.get_json(), "Idempotent-Replayed" in response.headers

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


def test_concurrent_duplicates_with_one_key_create_one_invitation(
    app: Flask, api: Api, admin_key: str
) -> None:
    survey = new_survey(api)
    body = {"survey_id": survey["id"], "channel": "email", "person": {"external_id": "u-1",
            "email": "ann@globex.example", "role": "executive"}}  # fmt: skip
    results = all_at_once(app, admin_key, lambda c: c.post(INVITATIONS, json=body,
                                                            headers=key("once")))  # fmt: skip
    statuses = [status for status, _, _ in results]
    assert statuses == [201] * THREADS, results
    assert len({body["id"] for _, body, _ in results}) == 1
    assert sum(replayed for _, _, replayed in results) == THREADS - 1
    counts = row_counts(app)
    assert counts["invitation"] == 1 and counts["person"] == 1
    assert counts["outbox_message"] == 1 and counts["idempotency_record"] == 1


def test_concurrent_duplicates_with_one_key_create_one_person(app: Flask, admin_key: str) -> None:
    body = {"external_id": "u-1", "email": "ann@globex.example"}
    results = all_at_once(app, admin_key, lambda c: c.post(PEOPLE, json=body, headers=key("p")))
    assert [status for status, _, _ in results] == [201] * THREADS, results
    assert len({body["id"] for _, body, _ in results}) == 1
    assert row_counts(app)["person"] == 1


def test_concurrent_invitations_without_a_key_create_one(
    app: Flask, api: Api, admin_key: str
) -> None:
    survey = new_survey(api)
    person = new_person(api)
    body = {"survey_id": survey["id"], "person_id": person["id"], "channel": "email"}
    results = all_at_once(app, admin_key, lambda c: c.post(INVITATIONS, json=body))
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] + [409] * (THREADS - 1), results
    assert {b["error"]["code"] for s, b, _ in results if s == 409} == {"already_invited"}
    assert row_counts(app)["invitation"] == 1


def test_concurrent_upserts_of_a_new_person_without_a_key(app: Flask, admin_key: str) -> None:
    body = {"external_id": "u-1", "email": "ann@globex.example", "name": "Ann"}
    results = all_at_once(app, admin_key, lambda c: c.post(PEOPLE, json=body))
    statuses = sorted(status for status, _, _ in results)
    # One creates, the others find the person and update it; nobody sees a 500.
    assert statuses == [200] * (THREADS - 1) + [201], results
    assert row_counts(app)["person"] == 1
