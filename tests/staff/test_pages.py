"""The staff pages: who is signed in, what a CSM sees, inline errors that change nothing,
keys shown once, deactivation, the audit-log page."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from app.db import db
from app.models import ApiKey, AuditEntry, StaffSession, StaffUser
from tests.support.api import Api, csrf_token, issue_test_key, row_counts
from tests.support.staff import make_staff, sign_in

ADA, CARLA = "ada@acme.example", "carla@acme.example"


def _form(client: FlaskClient, page: str, action: str, **data: str) -> Any:
    html = client.get(page).get_data(as_text=True)
    return client.post(action, data={**data, "csrf_token": csrf_token(html)})


def test_a_csm_never_sees_an_admin_only_action(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "csm", CARLA)
    sign_in(client, CARLA)
    for page in ("/dashboard/", "/dashboard/api-keys", "/dashboard/account"):
        html = client.get(page).get_data(as_text=True)
        assert "Signed in as Carla (csm)" in html, page
        assert "/dashboard/staff" not in html and "/dashboard/audit-log" not in html, page
    for page in ("/dashboard/staff", "/dashboard/staff/1", "/dashboard/audit-log"):
        response = client.get(page)
        assert response.status_code == 403
        assert "Your role does not allow this page" in response.get_data(as_text=True)


def test_an_admin_sees_the_workspace_links(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "admin", ADA)
    sign_in(client, ADA)
    html = client.get("/dashboard/api-keys").get_data(as_text=True)
    assert 'href="/dashboard/staff"' in html and 'href="/dashboard/audit-log"' in html


def test_a_key_made_on_the_page_is_shown_once_and_works(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "csm", CARLA)
    sign_in(client, CARLA)
    made = _form(client, "/dashboard/api-keys", "/dashboard/api-keys", name="Zapier")
    assert made.status_code == 201
    key = re.search(r'id="new-key">(snd_[^<]+)<', made.get_data(as_text=True)).group(1)
    assert Api(app.test_client(), key).get("/api/v1/surveys").status_code == 200
    again = client.get("/dashboard/api-keys").get_data(as_text=True)
    assert key not in again and "Zapier" in again
    with app.app_context():
        key_id = db.session.query(ApiKey).one().id
    revoked = _form(
        client,
        "/dashboard/api-keys",
        f"/dashboard/api-keys/{key_id}/revoke",
        back="/dashboard/api-keys",
    )
    assert revoked.status_code == 302
    assert Api(app.test_client(), key).get("/api/v1/surveys").status_code == 401


def test_an_empty_key_name_is_shown_inline_and_makes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    make_staff(app, "csm", CARLA)
    sign_in(client, CARLA)
    before = row_counts(app)
    bad = _form(client, "/dashboard/api-keys", "/dashboard/api-keys", name="  ")
    assert bad.status_code == 400
    assert 'id="name-error"' in bad.get_data(as_text=True)
    assert row_counts(app) == before


def test_a_csm_cannot_revoke_another_staff_members_key(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "csm", CARLA)
    other = Api(app.test_client(), issue_test_key(app, "csm", "dave@acme.example"))
    sign_in(client, CARLA)
    with app.app_context():
        key_id = db.session.query(ApiKey).one().id
    refused = _form(client, "/dashboard/api-keys", f"/dashboard/api-keys/{key_id}/revoke")
    assert refused.status_code == 404
    assert other.get("/api/v1/surveys").status_code == 200


def test_change_password_errors_change_nothing(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "csm", CARLA)
    sign_in(client, CARLA)
    wrong = _form(
        client,
        "/dashboard/account",
        "/dashboard/account/password",
        current="not my password",
        password="a new long password",
    )
    assert wrong.status_code == 400
    assert "That is not your current password." in wrong.get_data(as_text=True)
    short = _form(
        client,
        "/dashboard/account",
        "/dashboard/account/password",
        current="correct horse battery staple",
        password="short",
    )
    assert short.status_code == 400 and 'id="password-error"' in short.get_data(as_text=True)
    sign_in(app.test_client(), CARLA)  # the old password still works
    other = app.test_client()
    sign_in(other, CARLA)
    done = _form(
        client,
        "/dashboard/account",
        "/dashboard/account/password",
        current="correct horse battery staple",
        password="a new long password",
    )
    assert done.status_code == 302
    assert client.get("/dashboard/").status_code == 200  # this session stays
    assert other.get("/dashboard/").status_code == 302  # the others end


def test_sign_out_everywhere_from_the_account_page(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "analyst", "ann@acme.example")
    sign_in(client, "ann@acme.example")
    phone = app.test_client()
    sign_in(phone, "ann@acme.example")
    done = _form(client, "/dashboard/account", "/dashboard/account/sign-out-everywhere")
    assert done.status_code == 302
    assert client.get("/dashboard/").status_code == 302
    assert phone.get("/dashboard/").status_code == 302
    with app.app_context():
        assert {s.ended_reason for s in db.session.query(StaffSession)} == {"signed_out_everywhere"}


def test_an_admin_changes_a_role_and_deactivates(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "admin", ADA)
    carla_id = make_staff(app, "csm", CARLA)
    carla = app.test_client()
    sign_in(carla, CARLA)
    carla_key = Api(app.test_client(), issue_test_key(app, "csm", CARLA))
    sign_in(client, ADA)
    page = f"/dashboard/staff/{carla_id}"
    bad = _form(client, page, f"{page}/role", role="boss")
    assert bad.status_code == 400 and 'id="role-error"' in bad.get_data(as_text=True)
    assert _form(client, page, f"{page}/role", role="analyst").status_code == 302
    assert carla.get("/dashboard/audit-log").status_code == 403
    done = _form(client, page, f"{page}/deactivate")
    assert done.status_code == 302
    assert "1 session(s) ended, 1 API key(s) revoked" in client.get(page).get_data(as_text=True)
    assert carla.get("/dashboard/").status_code == 302
    assert carla_key.get("/api/v1/surveys").status_code == 401
    with app.app_context():
        actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
        assert {"staff.role_changed", "staff.deactivated"} <= set(actions)
        changed = db.session.query(AuditEntry).filter_by(action="staff.role_changed").one()
        assert (changed.before["role"], changed.after["role"]) == ("csm", "analyst")
        assert changed.actor == ADA and changed.via == "session"


def test_an_admin_cannot_demote_or_deactivate_themselves(app: Flask, client: FlaskClient) -> None:
    ada_id = make_staff(app, "admin", ADA)
    sign_in(client, ADA)
    page = f"/dashboard/staff/{ada_id}"
    before = row_counts(app)
    demote = _form(client, page, f"{page}/role", role="csm")
    assert demote.status_code == 400
    assert "cannot take away your own admin role" in demote.get_data(as_text=True)
    leave = _form(client, page, f"{page}/deactivate")
    assert leave.status_code == 400
    assert row_counts(app) == before
    with app.app_context():
        assert db.session.get(StaffUser, ada_id).is_active


def test_the_audit_log_page(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "admin", ADA)
    sign_in(client, ADA)
    html = client.get("/dashboard/audit-log").get_data(as_text=True)
    assert "staff.signed_in" in html and ADA in html
    filtered = client.get("/dashboard/audit-log?action=survey.").get_data(as_text=True)
    assert "Nothing recorded for this filter" in filtered
    bad = client.get("/dashboard/audit-log?cursor=zz")
    assert bad.status_code == 200 and "cursor is not valid" in bad.get_data(as_text=True)
