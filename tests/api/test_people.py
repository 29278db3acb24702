"""POST /api/v1/people (upsert by external id, else email), GET one, find by email, and the
API's refusals: each names its field in the JSON error body and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import clock
from app.db import db
from app.models import ApiKey
from tests.support.api import Api, error_of, issue_test_key, row_counts

PEOPLE = "/api/v1/people"


def create(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.post(PEOPLE, json=fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- create and update ---------------------------------------------------------------------


def test_create_then_update_by_external_id(api: Api) -> None:
    first = create(api, external_id="u-1", email="ann@acme.example", name="Ann")
    assert first["external_id"] == "u-1"
    assert first["role"] is None and first["properties"] == {}

    again = api.post(PEOPLE, json={"external_id": "u-1", "name": "Ann Lee", "role": "executive"})
    assert again.status_code == 200, again.get_json()
    body = again.get_json()
    assert body["id"] == first["id"]
    assert body["name"] == "Ann Lee"
    assert body["role"] == "executive"
    # What was not sent is kept, not blanked.
    assert body["email"] == "ann@acme.example"
    assert api.get(f"{PEOPLE}/{first['id']}").get_json() == body


def test_create_then_update_by_email(api: Api, app: Flask) -> None:
    first = create(api, email="bob@acme.example", name="Bob")
    assert first["external_id"] is None
    again = api.post(PEOPLE, json={"email": "BOB@Acme.Example", "phone": "+1 415 555 0100"})
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["id"] == first["id"]
    assert again.get_json()["phone"] == "+14155550100"
    assert again.get_json()["name"] == "Bob"
    assert row_counts(app)["person"] == 1


def test_person_found_by_email_adopts_the_external_id(api: Api, app: Flask) -> None:
    first = create(api, email="cy@acme.example")
    adopted = api.post(PEOPLE, json={"external_id": "u-9", "email": "cy@acme.example"})
    assert adopted.status_code == 200, adopted.get_json()
    assert adopted.get_json()["id"] == first["id"]
    assert adopted.get_json()["external_id"] == "u-9"
    # From now on the external id finds them.
    by_id = api.post(PEOPLE, json={"external_id": "u-9", "name": "Cy"})
    assert by_id.status_code == 200 and by_id.get_json()["id"] == first["id"]
    assert row_counts(app)["person"] == 1


def test_email_owned_by_another_external_id_is_a_conflict(api: Api, app: Flask) -> None:
    create(api, external_id="u-1", email="dee@acme.example", name="Dee")
    create(api, external_id="u-2", email="eve@acme.example", name="Eve")
    before = row_counts(app)

    # A new external id claiming someone else's address: not a silent merge.
    taken = api.post(PEOPLE, json={"external_id": "u-3", "email": "dee@acme.example"})
    assert taken.status_code == 409
    assert error_of(taken)["field"] == "email"
    assert error_of(taken)["code"] == "conflict"

    # An existing person moving to an address another person has.
    moved = api.post(PEOPLE, json={"external_id": "u-2", "email": "DEE@acme.example"})
    assert moved.status_code == 409
    assert error_of(moved)["field"] == "email"

    assert row_counts(app) == before
    eve = api.get(PEOPLE, query_string={"email": "eve@acme.example"}).get_json()["data"]
    assert [p["external_id"] for p in eve] == ["u-2"]


def test_normalisation(api: Api) -> None:
    body = create(
        api,
        external_id="  u-1  ",
        email="  Dana.Scully@GLOBEX.Example ",
        phone="+33 6 12 34 56 78",
        timezone="Europe/Paris",
        locale="en-gb",
        name="  Dana Scully ",
    )
    assert body["external_id"] == "u-1"
    assert body["email"] == "dana.scully@globex.example"
    assert body["phone"] == "+33612345678"
    assert body["timezone"] == "Europe/Paris"
    assert body["locale"] == "en_GB"
    assert body["name"] == "Dana Scully"


def test_properties_are_merged(api: Api) -> None:
    create(api, external_id="u-1", properties={"plan": "pro", "seats": 5, "nested": {"a": 1}})
    merged = api.post(
        PEOPLE, json={"external_id": "u-1", "properties": {"seats": 10, "beta": True}}
    )
    assert merged.status_code == 200
    assert merged.get_json()["properties"] == {
        "plan": "pro",
        "seats": 10,
        "nested": {"a": 1},
        "beta": True,
    }
    untouched = api.post(PEOPLE, json={"external_id": "u-1", "name": "X"})
    assert untouched.get_json()["properties"]["plan"] == "pro"


def test_account_upsert_and_csm(api: Api, app: Flask) -> None:
    csm = api.post("/api/v1/staff", json={"email": "Carla@Acme.example", "name": "Carla"})
    assert csm.status_code == 201, csm.get_json()

    one = create(
        api,
        external_id="u-1",
        account={"external_id": "globex", "name": "Globex", "csm": "carla@acme.example"},
    )
    assert one["account"]["external_id"] == "globex"
    assert one["account"]["name"] == "Globex"
    assert one["account"]["csm"]["email"] == "carla@acme.example"

    # A second person at the same account shares it; a new name renames it.
    two = create(api, external_id="u-2", account={"external_id": "globex", "name": "Globex Inc"})
    assert two["account"]["id"] == one["account"]["id"]
    assert two["account"]["name"] == "Globex Inc"
    assert two["account"]["csm"]["email"] == "carla@acme.example"
    assert row_counts(app)["account"] == 1


def test_unknown_account_csm_is_refused_and_changes_nothing(api: Api, app: Flask) -> None:
    before = row_counts(app)
    response = api.post(
        PEOPLE,
        json={"external_id": "u-1", "account": {"external_id": "g", "csm": "nobody@acme.example"}},
    )
    assert response.status_code == 404
    assert error_of(response)["field"] == "account.csm"
    assert row_counts(app) == before


# --- bad input: 4xx naming the field, nothing changed ----------------------------------------

BAD_BODIES = [
    pytest.param({"external_id": "u-1", "email": "not-an-email"}, "email", id="malformed-email"),
    pytest.param({"external_id": "u-1", "email": "a@b@c.example"}, "email", id="two-at-signs"),
    pytest.param({"external_id": "u-1", "phone": "12345"}, "phone", id="invalid-phone"),
    pytest.param({"external_id": "u-1", "phone": "020 7946 0958"}, "phone", id="no-country"),
    pytest.param({"external_id": "u-1", "timezone": "Mars/Olympus"}, "timezone", id="bad-tz"),
    pytest.param({"external_id": "u-1", "timezone": "../etc/passwd"}, "timezone", id="tz-path"),
    pytest.param({"external_id": "u-1", "locale": "xx-YY"}, "locale", id="bad-locale"),
    pytest.param({"external_id": "u-1", "role": "ceo"}, "role", id="unknown-role"),
    pytest.param({"external_id": "u-1", "emial": "a@acme.example"}, "emial", id="typo-field"),
    pytest.param({"external_id": "u-1", "account": {"nmae": "G"}}, "account.nmae", id="typo-nest"),
    pytest.param({"name": "Nobody"}, "external_id", id="no-identity"),
    pytest.param({"external_id": "", "email": None}, "external_id", id="empty-identity"),
    pytest.param({"external_id": 42}, "external_id", id="int-external-id"),
    pytest.param({"external_id": "u-1", "email": ["a@acme.example"]}, "email", id="list-email"),
    pytest.param({"external_id": "u-1", "properties": ["a"]}, "properties", id="list-props"),
    pytest.param({"external_id": "u-1", "properties": "x"}, "properties", id="str-props"),
    pytest.param({"external_id": "u-1", "account": "globex"}, "account", id="str-account"),
    pytest.param({"external_id": "u-1", "name": {"first": "A"}}, "name", id="obj-name"),
    pytest.param(
        {"external_id": "u-1", "signed_up_at": "2026-01-01T10:00"},
        "signed_up_at",
        id="naive-signed-up",
    ),
    pytest.param({"external_id": "x" * 256}, "external_id", id="long-external-id"),
    pytest.param(
        {"external_id": "u-1", "properties": {"blob": "x" * (17 * 1024)}},
        "properties",
        id="oversize-properties",
    ),
    # PostgreSQL cannot store NUL characters in text or JSONB.
    pytest.param({"external_id": "u-\u0000"}, "external_id", id="nul-external-id"),
    pytest.param({"external_id": "u-1", "name": "A\u0000"}, "name", id="nul-name"),
    pytest.param(
        {"external_id": "u-1", "properties": {"k": ["\u0000"]}}, "properties.k.0", id="nul-property"
    ),
    pytest.param(
        {"external_id": "u-1", "properties": {"\u0000": 1}}, "properties", id="nul-property-key"
    ),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_bad_input_names_the_field_and_changes_nothing(
    api: Api, app: Flask, body: dict[str, Any], field: str
) -> None:
    existing = create(api, external_id="u-1", email="keep@acme.example", name="Keep")
    before = row_counts(app)
    response = api.post(PEOPLE, json=body)
    assert 400 <= response.status_code < 500, response.get_json()
    error = error_of(response)
    assert set(error) >= {"code", "message", "field"}
    assert error["field"] == field, error
    assert error["message"]
    assert row_counts(app) == before
    assert api.get(f"{PEOPLE}/{existing['id']}").get_json() == existing


def test_a_bad_field_in_an_update_changes_none_of_the_good_ones(api: Api) -> None:
    person = create(api, external_id="u-1", name="Old", timezone="UTC")
    response = api.post(
        PEOPLE, json={"external_id": "u-1", "name": "New", "timezone": "Nowhere/Land"}
    )
    assert response.status_code == 400
    assert error_of(response)["field"] == "timezone"
    assert api.get(f"{PEOPLE}/{person['id']}").get_json()["name"] == "Old"


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        pytest.param('{"external_id": "u-1"}', "text/plain", 415, id="text-plain"),
        pytest.param("external_id=u-1", "application/x-www-form-urlencoded", 415, id="form"),
        pytest.param("", None, 415, id="no-body"),
        pytest.param("{not json", "application/json", 400, id="broken-json"),
        pytest.param("", "application/json", 400, id="empty-json"),
        pytest.param('["u-1"]', "application/json", 400, id="array"),
        pytest.param('"u-1"', "application/json", 400, id="string"),
        pytest.param("null", "application/json", 400, id="null"),
        pytest.param("[" * 100_000 + "]" * 100_000, "application/json", 400, id="deep-nesting"),
    ],
)
def test_a_body_that_is_not_a_json_object(
    app: Flask, admin_key: str, data: str, content_type: str | None, status: int
) -> None:
    before = row_counts(app)
    headers = {"Authorization": f"Bearer {admin_key}"}
    if content_type:
        headers["Content-Type"] = content_type
    response = app.test_client().post(PEOPLE, data=data, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert error_of(response)["code"] in {"unsupported_media_type", "bad_request"}
    assert row_counts(app) == before


def test_oversized_request_is_413_json(app: Flask, admin_key: str) -> None:
    before = row_counts(app)
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = json.dumps({"external_id": "u-1", "properties": {"blob": "x" * limit}})
    response = app.test_client().post(
        PEOPLE,
        data=body,
        headers={"Authorization": f"Bearer {admin_key}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.is_json
    assert error_of(response)["code"] == "too_large"
    assert row_counts(app) == before


# --- authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="no-header"),
        pytest.param("", id="empty"),
        pytest.param("Bearer", id="no-key"),
        pytest.param("Bearer   ", id="blank-key"),
        pytest.param("Basic dXNlcjpwYXNz", id="basic"),
        pytest.param("Token snd_whatever", id="wrong-scheme"),
        pytest.param("Bearer snd_not-a-key-we-issued", id="unknown-key"),
    ],
)
def test_unauthenticated_requests_get_401_json(
    app: Flask, client: FlaskClient, header: str | None
) -> None:
    before = row_counts(app)
    headers = {} if header is None else {"Authorization": header}
    for response in (
        client.post(PEOPLE, json={"external_id": "u-1"}, headers=headers),
        client.get(f"{PEOPLE}?email=a@acme.example", headers=headers),
    ):
        assert response.status_code == 401
        assert response.is_json
        assert error_of(response)["code"] == "unauthorized"
    assert row_counts(app) == before


def test_revoked_key_gets_401(app: Flask, client: FlaskClient) -> None:
    key = issue_test_key(app, "admin")
    api = Api(client, key)
    assert api.get(f"{PEOPLE}?email=a@acme.example").status_code == 200
    with app.app_context():
        for api_key in db.session.query(ApiKey):
            api_key.revoked_at = clock.now()
        db.session.commit()
    before = row_counts(app)
    response = api.post(PEOPLE, json={"external_id": "u-1"})
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert row_counts(app) == before


def test_the_key_is_accepted_with_a_lower_case_scheme(app: Flask, client: FlaskClient) -> None:
    key = issue_test_key(app, "admin")
    response = client.get(
        f"{PEOPLE}?email=a@acme.example", headers={"Authorization": f"bearer {key}"}
    )
    assert response.status_code == 200


# --- reading --------------------------------------------------------------------------------


def test_get_unknown_person_is_404(api: Api) -> None:
    response = api.get(f"{PEOPLE}/999999")
    assert response.status_code == 404
    assert error_of(response) == {
        "code": "not_found",
        "message": "No person with id 999999.",
        "field": "person_id",
    }


def test_find_by_email_and_external_id(api: Api) -> None:
    ann = create(api, external_id="u-1", email="ann@acme.example")
    create(api, external_id="u-2", email="bob@acme.example")
    found = api.get(PEOPLE, query_string={"email": " ANN@acme.example "})
    assert found.status_code == 200
    assert [p["id"] for p in found.get_json()["data"]] == [ann["id"]]
    assert found.get_json()["next_cursor"] is None
    by_ext = api.get(PEOPLE, query_string={"external_id": "u-1"}).get_json()["data"]
    assert [p["id"] for p in by_ext] == [ann["id"]]
    assert api.get(PEOPLE, query_string={"email": "zed@acme.example"}).get_json()["data"] == []
    # Without a query: everyone, newest first (it used to be a 400).
    everyone = api.get(PEOPLE)
    assert everyone.status_code == 200
    assert [p["external_id"] for p in everyone.get_json()["data"]] == ["u-2", "u-1"]
    for query in ("email=a%00b@acme.example", "external_id=%00"):
        nul = api.get(f"{PEOPLE}?{query}")
        assert nul.status_code == 400, nul.get_data(as_text=True)
        assert error_of(nul)["field"] == query.split("=")[0]
