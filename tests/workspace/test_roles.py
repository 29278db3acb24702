"""The workspace by role: a CSM sees their own accounts' people only and no admin-only
action; an analyst reads but changes nothing; every change made on a page is in the audit
log with who made it, before and after."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.clock import FrozenClock
from app.db import db
from app.models import Account, AuditEntry
from tests.support.staff import make_staff, sign_in
from tests.support.workspace import make_person, make_survey, post_form, signed_in


def _two_accounts(app: Flask, clock: FrozenClock) -> dict[str, int]:
    now = clock.now()
    carla = make_staff(app, "csm", "csm@acme.example")  # with a password: she signs in
    dave = make_staff(app, "csm", "dave@acme.example")
    with app.app_context():
        mine = Account(external_id="globex", name="Globex", csm_id=carla, created_at=now)
        theirs = Account(external_id="initech", name="Initech", csm_id=dave, created_at=now)
        db.session.add_all([mine, theirs])
        mine_person = make_person(now, "pat@globex.example", mine)
        their_person = make_person(now, "sam@initech.example", theirs)
        survey = make_survey(now)
        db.session.commit()
        return {
            "mine": mine.id,
            "theirs": theirs.id,
            "mine_person": mine_person.id,
            "their_person": their_person.id,
            "survey": survey.id,
            "dave": dave,
        }


def test_a_csm_sees_their_accounts_only_and_no_admin_action(
    app: Flask, clock: FrozenClock, client: FlaskClient
) -> None:
    ids = _two_accounts(app, clock)
    sign_in(client, "csm@acme.example")
    people = client.get("/dashboard/people").get_data(as_text=True)
    assert "pat@globex.example" in people and "sam@initech.example" not in people
    assert client.get(f"/dashboard/people/{ids['their_person']}").status_code == 404
    assert client.get(f"/dashboard/accounts/{ids['theirs']}").status_code == 404
    accounts = client.get("/dashboard/accounts").get_data(as_text=True)
    assert "Globex" in accounts and "Initech" not in accounts
    account = client.get(f"/dashboard/accounts/{ids['mine']}").get_data(as_text=True)
    assert "Save owner" not in account and "An admin sets it." in account
    surveys = client.get("/dashboard/surveys").get_data(as_text=True)
    assert "New survey" not in surveys and f"/dashboard/surveys/{ids['survey']}" not in surveys
    for hidden in (">Cadence</a>", ">Widget keys</a>", ">Staff</a>", ">Audit log</a>"):
        assert hidden not in surveys
    assert client.get("/dashboard/cadence").status_code == 403
    refused = post_form(
        client, f"/dashboard/accounts/{ids['mine']}/owner", {"csm": ""}, page="/dashboard/people"
    )
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.get(Account, ids["mine"]).csm_id is not None  # type: ignore[union-attr]


def test_an_analyst_reads_and_changes_nothing(
    app: Flask, clock: FrozenClock, client: FlaskClient
) -> None:
    ids = _two_accounts(app, clock)
    signed_in(app, client, "analyst")
    page = client.get(f"/dashboard/people/{ids['their_person']}").get_data(as_text=True)
    assert "sam@initech.example" in page and "Suppress an address" not in page
    refused = post_form(
        client,
        f"/dashboard/people/{ids['their_person']}/suppressions",
        {"kind": "email"},
        page=f"/dashboard/people/{ids['their_person']}",
    )
    assert refused.status_code == 403


def test_changes_on_pages_are_in_the_audit_log(
    app: Flask, clock: FrozenClock, client: FlaskClient
) -> None:
    ids = _two_accounts(app, clock)
    signed_in(app, client)
    person = f"/dashboard/people/{ids['mine_person']}"
    added = post_form(client, f"{person}/suppressions", {"kind": "email"}, page=person)
    assert added.status_code == 302
    account = f"/dashboard/accounts/{ids['mine']}"
    owner = post_form(client, f"{account}/owner", {"csm": str(ids["dave"])}, page=account)
    assert owner.status_code == 302
    edit = f"/dashboard/surveys/{ids['survey']}"
    paused = post_form(client, f"{edit}/status", {"status": "paused"}, page=edit)
    assert paused.status_code == 302
    cadence = {"recontact_days": "12", "action": "save"}
    assert post_form(client, "/dashboard/cadence", cadence).status_code == 302
    with app.app_context():
        entries = {
            e.action: e
            for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            if not e.action.startswith("staff.")
        }
        assert set(entries) >= {
            "suppression.added",
            "account.csm_changed",
            "survey.updated",
            "cadence.changed",
        }, set(entries)
        assert all(e.actor == "admin@acme.example" and e.via == "session" for e in entries.values())
        assert entries["account.csm_changed"].before == {"csm": "csm@acme.example"}
        assert entries["account.csm_changed"].after == {"csm": "dave@acme.example"}
        assert entries["survey.updated"].before["status"] == "active"  # type: ignore[index]
        assert entries["survey.updated"].after["status"] == "paused"  # type: ignore[index]
