"""Every route x every role gets the expected answer (DESIGN.md decision 9).

``EXPECTED`` names each endpoint's permission (``public`` or an ``app.access.Permission``
value) and, where the view's own answer differs from 200 for a GET, the status per role. A
route added to the app without an entry here fails ``test_every_route_is_in_the_table``; a
route without a declaration is refused by the guard and fails the table.

Anonymous callers get 401 under /api/ and a redirect to the sign-in page elsewhere; a role
without the permission gets 403; a role with it gets the view's answer (200 for a GET on the
fixture's rows, anything but 401/403/500 for a write with an empty body). The fixture's person
belongs to another CSM's account, so the CSM's GETs of that person and of their invitation
are a 404.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from app.access.guard import declared
from app.access.roles import ROLE_PERMISSIONS, Permission
from app.vocabulary import StaffRole
from tests.support.api import Api, issue_test_key
from tests.support.factories import new_person, new_survey
from tests.support.staff import make_staff, sign_in

R, E, ED, S, OK, M = "read", "export_personal", "edit_people", "send", "own_keys", "manage"
SI = "signed_in"
P = "public"
NOT_FOUND_FOR_CSM = {"csm": 404}

#: endpoint → (permission, {role: expected status of a GET when not 200})
EXPECTED: dict[str, tuple[str, dict[str, int]]] = {
    "healthz": (P, {}),
    "home": (P, {"*": 302}),  # to the dashboard
    "static": (P, {}),
    # API
    "api.get_cadence": (R, {}),
    "api.put_cadence": (M, {}),
    "api.get_campaign": (R, {"*": 404}),
    "api.create_event": (S, {}),
    "api.create_invitation_view": (S, {}),
    "api.list_invitations": (R, {}),
    "api.get_invitation": (R, NOT_FOUND_FOR_CSM),
    "api.cancel_invitation_view": (S, {}),
    "api.review_invitation": (M, {}),
    "api.upsert_person_view": (ED, {}),
    "api.find_people": (R, {}),
    "api.get_person": (R, NOT_FOUND_FOR_CSM),
    "api.person_eligibility": (R, NOT_FOUND_FOR_CSM),
    "api.nps": (R, {}),
    "api.list_responses": (R, {}),
    "api.create_staff": (M, {}),
    "api.list_staff": (R, {}),
    "api.create_survey": (M, {}),
    "api.list_surveys": (R, {}),
    "api.change_survey": (M, {}),
    "api.get_survey": (R, {}),
    "api.get_survey_cadence": (R, {}),
    "api.put_survey_cadence": (M, {}),
    "api.create_campaign_view": (M, {}),
    "api.preview_email": (M, {}),
    "api.non_responders": (R, {}),
    "api.list_triggers": (R, {}),
    "api.create_trigger": (M, {}),
    "api.delete_trigger": (M, {}),
    "api.get_survey_widget": (R, {}),
    "api.set_survey_widget": (M, {}),
    "api.create_widget_key": (M, {}),
    "api.list_widget_keys": (M, {}),
    "api.get_widget_key": (M, {}),
    "api.set_widget_key_origins": (M, {}),
    "api.revoke_widget_key": (M, {}),
    "api.rotate_widget_key": (M, {}),
    "api.create_api_key": (OK, {}),
    "api.list_api_keys": (OK, {}),
    "api.revoke_api_key": (OK, {}),
    "api.audit_log_api": (M, {}),
    # Dashboard and staff pages
    "dashboard.overview": (R, {}),
    "dashboard.responses": (R, {}),
    "staff.sign_in": (P, {"admin": 302, "csm": 302, "analyst": 302}),
    "staff.sign_out": (SI, {}),
    "staff.request_link": (P, {}),
    "staff.use_link": (P, {"*": 410}),
    "staff.forgot_password": (P, {}),
    "staff.reset_password": (P, {"*": 410}),
    "staff.accept_invitation": (P, {"*": 410}),
    "staff.sso_start": (P, {"*": 302}),  # SSO is not configured here: back to sign-in
    "staff.sso_callback": (P, {"*": 302}),
    "staff.account": (SI, {}),
    "staff.change_password": (SI, {}),
    "staff.sign_out_everywhere": (SI, {}),
    "staff.staff_list": (M, {}),
    "staff.invite": (M, {}),
    "staff.staff_member": (M, {}),
    "staff.change_role": (M, {}),
    "staff.deactivate": (M, {}),
    "staff.create_member_key": (M, {}),
    "staff.api_keys_page": (OK, {}),
    "staff.create_own_key": (OK, {}),
    "staff.revoke_key": (OK, {}),
    "staff.audit_log_page": (M, {}),
    # The admin's workspace (the fixture's person and account belong to another CSM)
    "workspace_surveys.index": (R, {}),
    "workspace_surveys.new": (M, {}),
    "workspace_surveys.edit": (M, {}),
    "workspace_surveys.set_status": (M, {}),
    "workspace_surveys.email": (M, {}),
    "workspace_cadence.workspace": (M, {}),
    "workspace_cadence.survey": (M, {}),
    "workspace_people.index": (R, {}),
    "workspace_people.person": (R, NOT_FOUND_FOR_CSM),
    "workspace_people.add_suppression": (ED, {}),
    "workspace_people.remove_suppression": (ED, {}),
    "workspace_accounts.index": (R, {}),
    "workspace_accounts.account": (R, NOT_FOUND_FOR_CSM),
    "workspace_accounts.set_owner": (M, {}),
    "workspace_widget_keys.index": (M, {}),
    "workspace_widget_keys.create": (M, {}),
    "workspace_widget_keys.origins": (M, {}),
    "workspace_widget_keys.rotate": (M, {}),
    "workspace_widget_keys.revoke": (M, {}),
    # Public: survey pages, unsubscribe, widget, provider webhooks, development pages
    "survey.show": (P, {"*": 404}),
    "survey.answer": (P, {}),
    "survey.thanks": (P, {"*": 404}),
    "unsubscribe.confirm": (P, {"*": 404}),
    "unsubscribe.unsubscribe": (P, {}),
    "widget.script": (P, {}),
    "widget.check": (P, {}),
    "widget.event": (P, {}),
    "widget.dismissal": (P, {}),
    "widget.response": (P, {}),
    "sendgrid_hooks.events": (P, {}),
    "twilio_hooks.incoming_text": (P, {}),
    "twilio_hooks.delivery_status": (P, {}),
    "dev.outbox": (P, {}),
    "dev.outbox_message": (P, {"*": 404}),
    "widget_dev.page": (P, {}),
    "widget_dev.create_survey": (P, {}),
}

ROLES = ("anonymous", "analyst", "csm", "admin")
ARGUMENTS = {"token": "not-a-token", "filename": "staff.css"}


def _url(rule: Rule) -> str:
    values: dict[str, Any] = {}
    for name in rule.arguments:
        values[name] = ARGUMENTS.get(name, 1)
    return rule.build(values, append_unknown=False)[1]  # type: ignore[index]


def _rules(app: Flask) -> list[Rule]:
    rules = list(app.url_map.iter_rules())
    # Signing out ends the session the rest of the walk uses: last.
    return sorted(rules, key=lambda r: (r.endpoint == "staff.sign_out", r.rule))


def test_every_route_is_in_the_table(app: Flask) -> None:
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    missing = sorted(endpoints - EXPECTED.keys())
    assert not missing, f"routes without an entry in EXPECTED (declare and list them): {missing}"
    stale = sorted(EXPECTED.keys() - endpoints)
    assert not stale, f"EXPECTED lists routes the app no longer has: {stale}"


def test_every_route_declares_what_the_table_says(app: Flask) -> None:
    for endpoint, (permission, _) in EXPECTED.items():
        assert declared(app, endpoint) == permission, endpoint


@pytest.fixture
def callers(app: Flask) -> dict[str, tuple[FlaskClient, Api]]:
    # Key 1 is a spare (the walk revokes key 1), not one the callers use.
    issue_test_key(app, "csm", "dave@acme.example")
    admin = Api(app.test_client(), issue_test_key(app, "admin", "ada@acme.example"))
    survey = new_survey(admin)
    person = new_person(admin, account={"external_id": "initech", "csm": "dave@acme.example"})
    made = admin.post(
        "/api/v1/invitations",
        json={"survey_id": survey["id"], "person_id": person["id"], "channel": "link"},
    )
    assert made.status_code == 201, made.get_json()
    admin.post("/api/v1/widget/keys", json={"name": "site", "allowed_origins": []})
    out: dict[str, tuple[FlaskClient, Api]] = {}
    out["anonymous"] = (app.test_client(), Api(app.test_client(), ""))
    for role, email in (
        ("admin", "ada@acme.example"),
        ("csm", "carla@acme.example"),
        ("analyst", "ann@acme.example"),
    ):
        if role != "admin":
            make_staff(app, role, email)
        from app.access.passwords import hash_password
        from app.db import db
        from app.models import StaffUser

        with app.app_context():
            staff = db.session.query(StaffUser).filter_by(email=email).one()
            staff.password_hash = staff.password_hash or hash_password(
                "correct horse battery staple"
            )
            db.session.commit()
        client = app.test_client()
        sign_in(client, email)
        out[role] = (client, Api(app.test_client(), issue_test_key(app, role, email)))
    return out


#: Where a 302 leads when it is not to the sign-in page.
REDIRECTS = {"home": "/dashboard/"}


def _expected(endpoint: str, role: str, method: str, is_api: bool) -> int | None:
    """The status a caller must get; None for "the view's own answer to a write" (not
    refused by the guard), 0 for a public write (any answer but an error of ours)."""
    permission, overrides = EXPECTED[endpoint]
    if permission == P:  # the view's own answer (a webhook refuses a missing signature)
        return overrides.get(role, overrides.get("*", 200)) if method == "GET" else 0
    if role == "anonymous":
        return 401 if is_api else 302
    if Permission(permission) not in ROLE_PERMISSIONS[StaffRole(role)]:
        return 403
    if method != "GET":
        return None
    return overrides.get(role, overrides.get("*", 200))


def test_every_route_for_every_role(app: Flask, callers: dict[str, Any]) -> None:
    problems = []
    for role in ROLES:
        client, api = callers[role]
        for rule in _rules(app):
            url = _url(rule)
            is_api = url.startswith("/api/")
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                caller = api if is_api else client
                if is_api and role == "anonymous":
                    response = caller.client.open(url, method=method)
                else:
                    response = (
                        caller.open(url, method=method)
                        if not is_api
                        else getattr(api, method.lower())(url)
                    )
                expected = _expected(rule.endpoint, role, method, is_api)
                got = response.status_code
                location = response.headers.get("Location", "")
                response.close()
                if expected == 0:
                    ok = got != 500 and "/sign-in" not in location
                elif expected is None:
                    ok = got not in (401, 403, 500) and "/sign-in" not in location
                elif expected == 302 and role == "anonymous":
                    where = REDIRECTS.get(rule.endpoint, "/dashboard/sign-in")
                    ok = got == 302 and location.startswith(where)
                else:
                    ok = got == expected
                if not ok:
                    problems.append(
                        f"{role} {method} {url} ({rule.endpoint}): {got}, want {expected}"
                    )
    assert not problems, "\n".join(problems)
