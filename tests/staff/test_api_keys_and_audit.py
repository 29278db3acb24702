"""API keys through the API (made, listed, revoked; refused at once) and the audit log
(recorded on writes, append-only, listed with a cursor)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from app.db import db
from app.models import ApiKey, AuditEntry
from tests.support.api import Api, issue_test_key, row_counts
from tests.support.factories import new_survey

KEYS = "/api/v1/api-keys"


def test_a_key_is_shown_once_listed_and_revoked_at_once(app: Flask) -> None:
    carla = Api(app.test_client(), issue_test_key(app, "csm", "carla@acme.example"))
    made = carla.post(KEYS, json={"name": "CRM sync"})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["key"].startswith("snd_") and body["role"] == "csm"
    assert body["owner"]["email"] == "carla@acme.example"
    new = Api(app.test_client(), body["key"])
    assert new.get("/api/v1/surveys").status_code == 200
    listed = carla.get(KEYS).get_json()
    assert [k["name"] for k in listed["data"]] == ["CRM sync", "test csm"]
    assert all("key" not in k for k in listed["data"])
    assert listed["data"][0]["last_used_at"] is not None
    revoked = carla.post(f"{KEYS}/{body['id']}/revoke")
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    refused = new.get("/api/v1/surveys")
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "unauthorized"


def test_staff_see_only_their_keys_admins_see_all(app: Flask, api: Api) -> None:
    carla = Api(app.test_client(), issue_test_key(app, "csm", "carla@acme.example"))
    dave_key = issue_test_key(app, "csm", "dave@acme.example")
    with app.app_context():
        dave_id = db.session.query(ApiKey).filter(ApiKey.name == "test csm").all()[-1].id
    assert {k["owner"]["email"] for k in carla.get(KEYS).get_json()["data"]} == {
        "carla@acme.example"
    }
    before = row_counts(app)
    assert carla.post(f"{KEYS}/{dave_id}/revoke").status_code == 404
    assert row_counts(app) == before
    assert Api(app.test_client(), dave_key).get("/api/v1/surveys").status_code == 200
    assert len(api.get(KEYS).get_json()["data"]) == 3
    assert api.post(f"{KEYS}/{dave_id}/revoke").status_code == 200


def test_only_an_admin_makes_keys_for_someone_else(app: Flask, api: Api) -> None:
    carla = Api(app.test_client(), issue_test_key(app, "csm", "carla@acme.example"))
    with app.app_context():
        from app.models import StaffUser

        carla_id = db.session.query(StaffUser).filter_by(email="carla@acme.example").one().id
    before = row_counts(app)
    refused = carla.post(KEYS, json={"name": "x", "staff_id": 999})
    assert refused.status_code == 403 and refused.get_json()["error"]["field"] == "staff_id"
    assert api.post(KEYS, json={"name": "x", "staff_id": 999}).status_code == 404
    assert api.post(KEYS, json={"name": ""}).status_code == 400
    assert api.post(KEYS, json={"name": "x", "extra": 1}).status_code == 400
    assert row_counts(app) == before
    made = api.post(KEYS, json={"name": "for Carla", "staff_id": carla_id})
    assert made.status_code == 201 and made.get_json()["role"] == "csm"


def test_a_key_follows_its_owners_role(app: Flask, api: Api) -> None:
    key = issue_test_key(app, "csm", "carla@acme.example")
    carla = Api(app.test_client(), key)
    assert carla.get("/api/v1/audit-log").status_code == 403
    with app.app_context():
        from app.models import StaffUser
        from app.staff.services import change_role
        from app.vocabulary import StaffRole

        change_role(
            db.session.query(StaffUser).filter_by(email="carla@acme.example").one(), StaffRole.ADMIN
        )
        db.session.commit()
    assert carla.get("/api/v1/audit-log").status_code == 200


def test_writes_are_audited_with_before_and_after(app: Flask, api: Api) -> None:
    survey = new_survey(api)
    assert api.patch(f"/api/v1/surveys/{survey['id']}", json={"name": "Renamed"}).status_code == 200
    assert api.put("/api/v1/cadence", json={"recontact_days": 45}).status_code == 200
    key = api.post(
        "/api/v1/widget/keys",
        json={"name": "site", "allowed_origins": ["https://app.acme.example"]},
    ).get_json()
    api.post(f"/api/v1/widget/keys/{key['id']}/revoke")
    log = api.get("/api/v1/audit-log").get_json()["data"]
    actions = [e["action"] for e in log]
    assert actions[:5] == [
        "widget_key.revoked",
        "widget_key.created",
        "cadence.changed",
        "survey.updated",
        "survey.created",
    ]
    renamed = log[3]
    assert renamed["before"]["name"] == "Product NPS" and renamed["after"]["name"] == "Renamed"
    assert renamed["target"] == {"type": "survey", "id": str(survey["id"])}
    assert renamed["via"] == "api_key" and renamed["actor"].startswith("api key snd_")
    assert "secret" not in str(log[1]["after"])
    assert log[2]["after"]["recontact_days"] == 45


def test_a_refused_write_records_nothing(app: Flask, api: Api) -> None:
    before = row_counts(app)
    assert api.post("/api/v1/surveys", json={"name": ""}).status_code == 400
    assert row_counts(app) == before


def test_the_audit_log_pages_and_filters(app: Flask, api: Api) -> None:
    for n in range(5):
        new_survey(api, name=f"S{n}")
    api.put("/api/v1/cadence", json={})
    first = api.get("/api/v1/audit-log?limit=2&action=survey.").get_json()
    assert [e["after"]["name"] for e in first["data"]] == ["S4", "S3"]
    second = api.get(f"/api/v1/audit-log?limit=2&action=survey.&cursor={first['next_cursor']}")
    assert [e["after"]["name"] for e in second.get_json()["data"]] == ["S2", "S1"]
    exact = api.get("/api/v1/audit-log?action=cadence.changed").get_json()["data"]
    assert len(exact) == 1
    bad = api.get("/api/v1/audit-log?cursor=nonsense")
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "cursor"
    assert api.get("/api/v1/audit-log?staff_id=x").get_json()["error"]["field"] == "staff_id"


def test_the_audit_log_is_append_only(app: Flask, api: Api) -> None:
    new_survey(api)
    with app.app_context():
        assert db.session.query(AuditEntry).count() == 1
        for statement in (
            "UPDATE audit_entry SET actor = 'someone else'",
            "DELETE FROM audit_entry",
        ):
            with pytest.raises(ProgrammingError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.query(AuditEntry).one().actor.startswith("api key snd_")
