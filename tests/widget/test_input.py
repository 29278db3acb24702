"""Every widget endpoint's bad input: a clear 4xx naming the field, and nothing changed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask

from app.clock import FrozenClock
from tests.support.api import Api, error_of, row_counts
from tests.support.factories import new_survey
from tests.support.widget import ORIGIN, USER, Key, Widget, make_key


@pytest.fixture
def setup(app: Flask, api: Api) -> tuple[Widget, str]:
    """A key, a survey and a display of it to u-42 (and a person u-7 without one)."""
    key = make_key(api)
    new_survey(api)
    widget = Widget(app.test_client(), key)
    display_id = widget.check().get_json()["survey"]["display_id"]
    assert widget.check({"userId": "u-7", "email": "u7@example.com"}).status_code == 200
    return widget, display_id


def refused(app: Flask, response: Any, status: int, field: str | None, code: str | None = None):
    assert response.status_code == status, response.get_json()
    error = error_of(response)
    assert error["field"] == field, error
    if code:
        assert error["code"] == code, error
    assert error["message"]


def signed_check(key: Key, user: dict[str, Any]) -> dict[str, Any]:
    return {"key": key.public, "user": user, "signature": key.sign(str(user.get("userId")))}


def test_check_bad_input(app: Flask, api: Api, setup: tuple[Widget, str]) -> None:
    widget, _ = setup
    key = widget.key
    revoked = make_key(api, name="old")
    api.post(f"/api/v1/widget/keys/{revoked.id}/revoke")
    before = row_counts(app)
    ok = signed_check(key, USER)
    cases: list[tuple[Any, int, str | None, str | None]] = [
        ([], 400, None, "bad_request"),
        ({}, 400, "key", None),
        ({**ok, "key": "pk_nope"}, 401, "key", "unauthorized"),
        ({**ok, "key": revoked.public}, 401, "key", "unauthorized"),
        ({"key": key.public, "signature": ok["signature"]}, 400, "user.userId", "required"),
        (signed_check(key, {"userId": 42}), 400, "user.userId", None),
        (signed_check(key, {"userId": " u-42"}), 400, "user.userId", None),
        (signed_check(key, {"userId": "x" * 256}), 400, "user.userId", None),
        ({**ok, "signature": None}, 401, "signature", "signature_required"),
        ({**ok, "signature": ""}, 401, "signature", "signature_required"),
        ({**ok, "signature": "ab" * 32}, 403, "signature", "bad_signature"),
        ({**ok, "signature": key.sign("u-43")}, 403, "signature", "bad_signature"),
        ({**ok, "signature": ["x"]}, 403, "signature", "bad_signature"),
        (signed_check(key, {**USER, "email": "not-an-email"}), 400, "user.email", None),
        (signed_check(key, {**USER, "role": "ceo"}), 400, "user.role", None),
        (signed_check(key, {**USER, "account": {}}), 400, "user.account", None),
        (
            signed_check(key, {**USER, "account": {"id": "a", "csm": "x"}}),
            400,
            "user.account.csm",
            None,
        ),
        (signed_check(key, {**USER, "signedUpAt": 1700000000}), 400, "user.signedUpAt", None),
        (signed_check(key, {**USER, "signedUpAt": "2024-03-01"}), 400, "user.signedUpAt", None),
        (signed_check(key, {**USER, "plan": "pro"}), 400, "user.plan", "unknown_field"),
        (signed_check(key, {**USER, "name": "Ada\x00"}), 400, "user.name", None),
        (
            signed_check(key, {**USER, "properties": {"x": "y" * 20000}}),
            400,
            "user.properties",
            None,
        ),
        (signed_check(key, {**USER, "properties": [1]}), 400, "user.properties", None),
        ({**ok, "extra": 1}, 400, "extra", "unknown_field"),
        # the email belongs to another person: not merged
        (signed_check(key, {"userId": "u-99", "email": "u7@example.com"}), 409, "user.email", None),
    ]
    for body, status, field, code in cases:
        response = widget.post("check", body)
        refused(app, response, status, field, code)
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN  # the page sees why
    not_json = widget.client.post(
        "/widget/v1/check", data="key=x", headers={"Origin": ORIGIN, "Content-Type": "text/plain"}
    )
    assert not_json.status_code == 415
    broken = widget.client.post(
        "/widget/v1/check", data="{", headers={"Origin": ORIGIN, "Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    deep = widget.client.post(
        "/widget/v1/check",
        data="[" * 100_000 + "]" * 100_000,
        headers={"Origin": ORIGIN, "Content-Type": "application/json"},
    )
    assert deep.status_code == 400
    assert widget.client.get("/widget/v1/check").status_code == 405
    assert row_counts(app) == before


def test_responses_bad_input(
    app: Flask, api: Api, clock: FrozenClock, setup: tuple[Widget, str]
) -> None:
    widget, display_id = setup
    other = widget.check({"userId": "u-7"}).get_json()["survey"]
    before = row_counts(app)
    rid = str(uuid.uuid4())

    def body(**fields: Any) -> dict[str, Any]:
        base = {"display_id": display_id, "response_id": rid, "score": 8, "comment": None}
        return widget.signed("u-42", **{**base, **fields})

    cases: list[tuple[Any, int, str | None]] = [
        ({**body(), "signature": "00" * 32}, 403, "signature"),
        ({**body(), "userId": None}, 400, "userId"),
        ({k: v for k, v in body().items() if k != "signature"}, 401, "signature"),
        (body(display_id="nope"), 404, "display_id"),
        (body(display_id=other["display_id"]), 404, "display_id"),  # another person's
        (
            widget.signed("u-nobody", display_id=display_id, response_id=rid, score=8),
            404,
            "display_id",
        ),
        ({k: v for k, v in body().items() if k != "display_id"}, 400, "display_id"),
        (body(display_id=""), 400, "display_id"),
        ({k: v for k, v in body().items() if k != "score"}, 400, "score"),
        (body(score=11), 400, "score"),
        (body(score=-1), 400, "score"),
        (body(score="7"), 400, "score"),
        (body(score=7.5), 400, "score"),
        (body(score=True), 400, "score"),
        (body(score=None), 400, "score"),
        (body(response_id="not-a-uuid"), 400, "response_id"),
        (body(response_id=None), 400, "response_id"),
        (body(comment="x" * 5001), 400, "comment"),
        (body(comment=5), 400, "comment"),
        (body(comment="a\x00b"), 400, "comment"),
        ({**body(), "extra": 1}, 400, "extra"),
    ]
    for request_body, status, field in cases:
        refused(app, widget.post("responses", request_body), status, field)
    assert row_counts(app) == before
    # a response id used for another person's answer is not theirs to change
    assert widget.answer(other["display_id"], 3, response_id=rid, user_id="u-7").status_code == 201
    after_other = row_counts(app)
    refused(app, widget.post("responses", body()), 409, "response_id", "conflict")
    assert row_counts(app) == after_other
    # archived survey, then a display shown too long ago: closed, nothing recorded
    survey_id = other["survey_id"]
    api.patch(f"/api/v1/surveys/{survey_id}", json={"status": "archived"})
    refused(app, widget.answer(display_id, 9), 409, "display_id", "survey_closed")
    api.patch(f"/api/v1/surveys/{survey_id}", json={"status": "active"})
    clock.advance(days=10)
    refused(app, widget.answer(display_id, 9), 409, "display_id", "survey_closed")
    # Nothing recorded but the audit log's two entries for the admin's two changes.
    assert row_counts(app) == {**after_other, "audit_entry": after_other["audit_entry"] + 2}


def test_dismissals_and_events_bad_input(app: Flask, setup: tuple[Widget, str]) -> None:
    widget, display_id = setup
    other = widget.check({"userId": "u-7"}).get_json()["survey"]
    before = row_counts(app)
    dismissals: list[tuple[Any, int, str | None]] = [
        (widget.signed(display_id="nope"), 404, "display_id"),
        (widget.signed(display_id=other["display_id"]), 404, "display_id"),
        (widget.signed("u-nobody", display_id=display_id), 404, "display_id"),
        (widget.signed(), 400, "display_id"),
        (widget.signed(display_id=7), 400, "display_id"),
        ({**widget.signed(display_id=display_id), "signature": "1" * 64}, 403, "signature"),
        ({**widget.signed(display_id=display_id), "key": None}, 400, "key"),
    ]
    for body, status, field in dismissals:
        refused(app, widget.post("dismissals", body), status, field)
    events: list[tuple[Any, int, str | None]] = [
        (widget.signed(), 400, "name"),
        (widget.signed(name=""), 400, "name"),
        (widget.signed(name="has spaces"), 400, "name"),
        (widget.signed(name="x" * 101), 400, "name"),
        (widget.signed(name=["a"]), 400, "name"),
        ({**widget.signed(name="ok"), "signature": "1" * 64}, 403, "signature"),
        ({**widget.signed(name="ok"), "userId": ""}, 400, "userId"),
        ({**widget.signed(name="ok"), "properties": {}}, 400, "properties"),
    ]
    for body, status, field in events:
        refused(app, widget.post("events", body), status, field)
    assert row_counts(app) == before
