"""Widget keys through the admin API and the CLI, a survey's widget look, and the
development page that shows the widget on a sample product page."""

from __future__ import annotations

import hashlib
import hmac
import re

from flask import Flask
from flask.testing import FlaskCliRunner

from app.clock import FrozenClock
from app.db import db
from app.models import Survey, WidgetKey
from tests.support.api import Api, csrf_token, error_of, issue_test_key, row_counts
from tests.support.factories import new_survey
from tests.support.widget import ORIGIN, USER, Key, Widget, make_key


def test_keys_are_made_listed_and_their_secret_shown_once(api: Api) -> None:
    made = api.post(
        "/api/v1/widget/keys",
        json={"name": "Web app", "allowed_origins": ["HTTPS://App.Example.com:443/", ORIGIN]},
    )
    assert made.status_code == 201
    body = made.get_json()
    assert body["public_key"].startswith("pk_") and body["secret"].startswith("wsk_")
    assert body["allowed_origins"] == [ORIGIN]
    assert body["name"] == "Web app" and body["revoked_at"] is None
    assert f'data-key="{body["public_key"]}"' in body["snippet"]
    assert 'src="http://sounding.test/widget/v1/sounding.js"' in body["snippet"]
    listed = api.get("/api/v1/widget/keys").get_json()["data"]
    assert [k["public_key"] for k in listed] == [body["public_key"]]
    assert "secret" not in listed[0]
    one = api.get(f"/api/v1/widget/keys/{body['id']}").get_json()
    assert "secret" not in one and one["public_key"] == body["public_key"]
    assert api.get("/api/v1/widget/keys/999").status_code == 404


def test_key_bad_input_changes_nothing(app: Flask, api: Api) -> None:
    key = make_key(api)
    before = row_counts(app)
    path = "/api/v1/widget/keys"
    for body, field in [
        ({}, "allowed_origins"),
        ({"allowed_origins": []}, "allowed_origins"),
        ({"allowed_origins": "https://app.example.com"}, "allowed_origins"),
        ({"allowed_origins": ["https://app.example.com/app"]}, "allowed_origins"),
        ({"allowed_origins": ["*"]}, "allowed_origins"),
        ({"allowed_origins": ["ftp://x.example"]}, "allowed_origins"),
        ({"allowed_origins": [ORIGIN], "name": "x" * 300}, "name"),
        ({"allowed_origins": [ORIGIN], "secret": "mine"}, "secret"),
    ]:
        response = api.post(path, json=body)
        assert response.status_code == 400, (body, response.get_json())
        assert error_of(response)["field"] == field, body
    origins = f"{path}/{key.id}/origins"
    for body, field in [
        ({}, "allowed_origins"),
        ({"allowed_origins": ["https://x.example:0x50"]}, "allowed_origins"),
    ]:
        assert error_of(api.put(origins, json=body))["field"] == field
    assert api.put(f"{path}/999/origins", json={"allowed_origins": [ORIGIN]}).status_code == 404
    rotate = f"{path}/{key.id}/rotate"
    assert error_of(api.post(rotate, json={"grace_hours": 721}))["field"] == "grace_hours"
    assert error_of(api.post(rotate, json={"grace_hours": -1}))["field"] == "grace_hours"
    assert api.post(f"{path}/999/rotate").status_code == 404
    assert api.post(f"{path}/999/revoke").status_code == 404
    csm = Api(app.test_client(), issue_test_key(app, "csm", "jane@acme.example"))
    after_csm = row_counts(app)
    assert csm.post(path, json={"allowed_origins": [ORIGIN]}).status_code == 403
    assert csm.get(path).status_code == 403
    assert csm.post(rotate).status_code == 403
    assert row_counts(app) == after_csm
    assert {k: v for k, v in before.items() if k not in ("staff_user", "api_key")} == {
        k: v for k, v in after_csm.items() if k not in ("staff_user", "api_key")
    }
    with app.app_context():
        stored = db.session.get(WidgetKey, key.id)
        assert (stored.secret, stored.allowed_origins) == (key.secret, [ORIGIN])


def test_origins_rotation_and_revocation(app: Flask, api: Api, clock: FrozenClock) -> None:
    key = make_key(api)
    new_survey(api)
    old = Widget(app.test_client(), key)
    assert old.check().status_code == 200
    moved = api.put(
        f"/api/v1/widget/keys/{key.id}/origins",
        json={"allowed_origins": ["https://new.example.com"]},
    )
    assert moved.get_json()["allowed_origins"] == ["https://new.example.com"]
    assert old.check().status_code == 403
    new = Widget(app.test_client(), key, origin="https://new.example.com")
    assert new.check().status_code == 200

    rotated = api.post(f"/api/v1/widget/keys/{key.id}/rotate", json={"grace_hours": 2})
    assert rotated.status_code == 200
    fresh = Key(key.id, key.public, rotated.get_json()["secret"])
    assert fresh.secret != key.secret
    assert rotated.get_json()["public_key"] == key.public  # the snippet stays the same
    assert new.check().status_code == 200  # the old secret during the grace period
    assert Widget(app.test_client(), fresh, origin=new.origin).check().status_code == 200
    clock.advance(hours=2)
    assert new.check().status_code == 403
    assert Widget(app.test_client(), fresh, origin=new.origin).check().status_code == 200
    # rotating without a body: 24 hours of grace; with 0 the old secret stops at once
    again = api.post(f"/api/v1/widget/keys/{key.id}/rotate")
    assert again.get_json()["previous_secret_valid_until"] == "2026-11-17T12:00:00Z"
    api.post(f"/api/v1/widget/keys/{key.id}/rotate", json={"grace_hours": 0})
    assert Widget(app.test_client(), fresh, origin=new.origin).check().status_code == 403

    revoked = api.post(f"/api/v1/widget/keys/{key.id}/revoke")
    assert revoked.get_json()["revoked_at"] == "2026-11-16T12:00:00Z"
    assert error_of(api.post(f"/api/v1/widget/keys/{key.id}/rotate"))["field"] == "key_id"
    latest = Key(key.id, key.public, "unused")
    refused = Widget(app.test_client(), latest, origin=None).check()
    assert (refused.status_code, error_of(refused)["field"]) == (401, "key")


def test_survey_widget_look(app: Flask, api: Api) -> None:
    survey = new_survey(api)
    path = f"/api/v1/surveys/{survey['id']}/widget"
    assert api.get(path).get_json() == {
        "survey_id": survey["id"],
        "theme": {},
        "position": "bottom-right",
    }
    before = row_counts(app)
    for body, field in [
        ({"theme": {"accent": "url(x)"}}, "theme.accent"),
        ({"theme": {"shadow": "#000"}}, "theme.shadow"),
        ({"theme": "teal"}, "theme"),
        ({"position": "center"}, "position"),
        ({"size": 3}, "size"),
    ]:
        assert error_of(api.put(path, json=body))["field"] == field, body
    assert row_counts(app) == before
    assert api.put("/api/v1/surveys/99/widget", json={}).status_code == 404
    set_ = api.put(path, json={"theme": {"accent": "teal", "accent_text": "#fff"}})
    assert set_.get_json()["theme"] == {"accent": "teal", "accent_text": "#fff"}


def test_cli_makes_rotates_lists_and_revokes_keys(app: Flask, runner: FlaskCliRunner) -> None:
    made = runner.invoke(
        args=["widget-key", "create", "--origin", "https://app.example.com", "--name", "web"]
    )
    assert made.exit_code == 0, made.output
    public = re.search(r"public key: (pk_\S+)", made.output).group(1)
    secret = re.search(r"secret:\s+(wsk_\S+)", made.output).group(1)
    assert f'data-key="{public}"' in made.output
    assert "http://sounding.test/widget/v1/sounding.js" in made.output
    assert "Sounding.identify" in made.output
    bad = runner.invoke(args=["widget-key", "create", "--origin", "https://x.example/path"])
    assert bad.exit_code == 2 and "without a path" in bad.output
    assert runner.invoke(args=["widget-key", "create"]).exit_code == 2
    listed = runner.invoke(args=["widget-key", "list"])
    assert public in listed.output and secret not in listed.output
    rotated = runner.invoke(args=["widget-key", "rotate", public, "--grace-hours", "1"])
    assert rotated.exit_code == 0, rotated.output
    assert "The old secret works until 2026-11-16 11:00 UTC." in rotated.output
    origins = runner.invoke(
        args=["widget-key", "origins", public, "--origin", "http://localhost:3000"]
    )
    assert "allowed origins: http://localhost:3000" in origins.output
    assert runner.invoke(args=["widget-key", "rotate", "pk_nope"]).exit_code == 2
    assert runner.invoke(args=["widget-key", "revoke", public]).exit_code == 0
    assert "revoked" in runner.invoke(args=["widget-key", "list"]).output
    with app.app_context():
        key = db.session.query(WidgetKey).one()
        assert key.revoked_at is not None and key.allowed_origins == ["http://localhost:3000"]


def test_dev_page_shows_the_widget_on_a_sample_product_page(app: Flask, api: Api) -> None:
    client = app.test_client()
    page = client.get("/dev/widget")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Create a widget survey" in html  # nothing to show yet
    with app.app_context():
        key = db.session.query(WidgetKey).one()
        assert (key.name, key.allowed_origins) == ("development", ["http://localhost"])
    assert f'data-key="{key.public_key}"' in html
    signature = hmac.new(key.secret.encode(), b"user-1001", hashlib.sha256).hexdigest()
    assert f'signature: "{signature}"' in html
    assert 'src="/widget/v1/sounding.js"' in html
    created = client.post("/dev/widget/survey", data={"csrf_token": csrf_token(html)})
    assert created.status_code == 303
    with app.app_context():
        survey = db.session.query(Survey).one()
        assert "widget" in survey.enabled_channels
    html = client.get("/dev/widget?user=dev-abc").get_data(as_text=True)
    assert "Create a widget survey" not in html
    assert 'userId: "dev-abc"' in html and "dev-abc@example.com" in html
    assert client.get("/dev/widget?user=<script>").status_code == 400
    # the page's own origin may call the widget with the development key
    dev = Widget(client, Key(key.id, key.public_key, key.secret), origin="http://localhost")
    assert dev.check({**USER, "userId": "user-1001"}).get_json()["survey"] is not None
    with app.app_context():  # visiting again reuses the key
        assert db.session.query(WidgetKey).count() == 1
