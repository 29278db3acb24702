"""Workspace people, accounts and widget keys: lists a page at a time, a person's history
and "may we ask now?", manual suppressions, an account's owner CSM, widget keys; bad input
shown and nothing changed. And GET /api/v1/people without a query lists everyone."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.clock import FrozenClock
from app.db import db
from app.models import Account, Decision, Person, StaffUser, Suppression, WidgetKey
from app.vocabulary import Channel, StaffRole, SuppressionReason, Trigger
from tests.support.api import Api
from tests.support.workspace import field_error, make_person, post_form, signed_in


def _people(app: Flask, clock: FrozenClock, n: int = 60) -> tuple[int, int]:
    now = clock.now()
    with app.app_context():
        globex = Account(external_id="globex", name="Globex", created_at=now)
        db.session.add(globex)
        first = None
        for i in range(n):
            person = make_person(
                now + timedelta(seconds=i), f"person{i:02d}@globex.example", globex, name=f"P {i}"
            )
            first = first or person
        assert first is not None
        db.session.add(
            Decision(
                person_id=first.id,
                survey_id=None,
                channel=Channel.EMAIL,
                trigger=Trigger.CAMPAIGN,
                allowed=False,
                reason="recontact_period",
                message="Not asked: asked within the last 30 days (recontact period).",
                created_at=now,
            )
        )
        db.session.commit()
        return first.id, globex.id


def test_people_list_search_and_pages(app: Flask, clock: FrozenClock, client: FlaskClient) -> None:
    _people(app, clock)
    signed_in(app, client)
    first = client.get("/dashboard/people").get_data(as_text=True)
    assert first.count("@globex.example</span>") == 50
    assert "Next page" in first
    after = first.split("after=")[1].split('"')[0]
    second = client.get(f"/dashboard/people?after={after}").get_data(as_text=True)
    assert second.count("@globex.example</span>") == 10 and "Next page" not in second
    found = client.get("/dashboard/people?q=PERSON07").get_data(as_text=True)
    assert "person07@globex.example" in found and "person08" not in found
    # % and _ are searched for as themselves, not as wildcards.
    assert "Nobody matches" in client.get("/dashboard/people?q=%25").get_data(as_text=True)


def test_person_page_history_and_may_we_ask(
    app: Flask, clock: FrozenClock, client: FlaskClient
) -> None:
    person_id, _ = _people(app, clock, 1)
    signed_in(app, client)
    html = client.get(f"/dashboard/people/{person_id}").get_data(as_text=True)
    assert "asked within the last 30 days (recontact period)" in html
    assert "May we ask now?" in html and "Never asked." in html
    assert client.get("/dashboard/people/99999").status_code == 404


def test_manual_suppression_added_and_removed(
    app: Flask, clock: FrozenClock, client: FlaskClient
) -> None:
    person_id, _ = _people(app, clock, 1)
    signed_in(app, client)
    page = f"/dashboard/people/{person_id}"
    # No phone number: refused beside the field, nothing stored.
    bad = post_form(client, f"{page}/suppressions", {"kind": "phone"}, page=page)
    assert bad.status_code == 400
    assert "no phone address" in (field_error(bad.get_data(as_text=True), "kind") or "")
    bad_kind = post_form(client, f"{page}/suppressions", {"kind": "fax"}, page=page)
    assert bad_kind.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0
    ok = post_form(
        client, f"{page}/suppressions", {"kind": "email", "detail": "Asked us"}, page=page
    )
    assert ok.status_code == 302
    with app.app_context():
        suppression = db.session.scalars(select(Suppression)).one()
        assert (suppression.value, suppression.reason) == (
            "person00@globex.example",
            SuppressionReason.MANUAL,
        )
        sid = suppression.id
    html = client.get(page).get_data(as_text=True)
    assert "Not suppressed." not in html and "Asked us" in html
    removed = post_form(client, f"{page}/suppressions/{sid}/remove", {}, page=page)
    assert removed.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0


def test_an_unsubscribe_cannot_be_removed_here(
    app: Flask, clock: FrozenClock, client: FlaskClient
) -> None:
    person_id, _ = _people(app, clock, 1)
    with app.app_context():
        db.session.add(
            Suppression(
                kind="email",
                value="person00@globex.example",
                reason=SuppressionReason.UNSUBSCRIBED,
                created_at=clock.now(),
            )
        )
        db.session.commit()
        sid = db.session.scalars(select(Suppression.id)).one()
    signed_in(app, client)
    page = f"/dashboard/people/{person_id}"
    refused = post_form(client, f"{page}/suppressions/{sid}/remove", {}, page=page)
    assert refused.status_code == 400
    assert "only a manual suppression can be removed" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Suppression)) == 1


def test_account_page_and_owner_csm(app: Flask, clock: FrozenClock, client: FlaskClient) -> None:
    _, account_id = _people(app, clock, 3)
    with app.app_context():
        csm = StaffUser(
            email="jane@acme.example", name="Jane", role=StaffRole.CSM, created_at=clock.now()
        )
        db.session.add(csm)
        db.session.commit()
        csm_id = csm.id
    signed_in(app, client)
    listing = client.get("/dashboard/accounts").get_data(as_text=True)
    assert "Globex" in listing
    page = f"/dashboard/accounts/{account_id}"
    html = client.get(page).get_data(as_text=True)
    assert "person02@globex.example" in html and "Owner CSM" in html
    bad = post_form(client, f"{page}/owner", {"csm": "424242"}, page=page)
    assert bad.status_code == 400
    assert field_error(bad.get_data(as_text=True), "csm") is not None
    with app.app_context():
        assert db.session.get(Account, account_id).csm_id is None  # type: ignore[union-attr]
    assert post_form(client, f"{page}/owner", {"csm": str(csm_id)}, page=page).status_code == 302
    with app.app_context():
        assert db.session.get(Account, account_id).csm_id == csm_id  # type: ignore[union-attr]


def test_widget_keys_create_origins_rotate_revoke(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client)
    path = "/dashboard/widget-keys"
    bad = post_form(client, path, {"name": "App", "allowed_origins": "not a url"})
    assert bad.status_code == 400
    assert field_error(bad.get_data(as_text=True), "allowed_origins") is not None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WidgetKey)) == 0
    made = post_form(client, path, {"name": "App", "allowed_origins": "https://app.example.com"})
    html = made.get_data(as_text=True)
    assert made.status_code == 200 and "not shown again" in html
    with app.app_context():
        key = db.session.scalars(select(WidgetKey)).one()
        key_id, secret = key.id, key.secret
        assert key.allowed_origins == ["https://app.example.com"]
    assert secret in html and key.public_key in html
    bad_origin = post_form(
        client, f"{path}/{key_id}/origins", {f"k{key_id}-allowed_origins": "ftp://x"}, page=path
    )
    assert bad_origin.status_code == 400
    with app.app_context():
        assert db.session.get(WidgetKey, key_id).allowed_origins == ["https://app.example.com"]  # type: ignore[union-attr]
    bad_grace = post_form(
        client, f"{path}/{key_id}/rotate", {f"r{key_id}-grace_hours": "9999"}, page=path
    )
    assert bad_grace.status_code == 400
    assert "From 0 to 720 hours" in bad_grace.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(WidgetKey, key_id).secret == secret  # type: ignore[union-attr]
    rotated = post_form(
        client, f"{path}/{key_id}/rotate", {f"r{key_id}-grace_hours": "1"}, page=path
    )
    assert rotated.status_code == 200
    with app.app_context():
        new = db.session.get(WidgetKey, key_id)
        assert new is not None and new.secret != secret and new.previous_secret == secret
    assert post_form(client, f"{path}/{key_id}/revoke", {}, page=path).status_code == 302
    with app.app_context():
        assert db.session.get(WidgetKey, key_id).revoked_at is not None  # type: ignore[union-attr]


def test_api_lists_people_a_page_at_a_time(app: Flask, clock: FrozenClock, api: Api) -> None:
    _people(app, clock, 7)
    first = api.get("/api/v1/people?limit=5").get_json()
    assert [p["email"] for p in first["data"]][:2] == [
        "person06@globex.example",
        "person05@globex.example",
    ]
    assert len(first["data"]) == 5 and first["next_cursor"]
    rest = api.get(f"/api/v1/people?limit=5&cursor={first['next_cursor']}").get_json()
    assert [p["email"] for p in rest["data"]] == [
        "person01@globex.example",
        "person00@globex.example",
    ]
    assert rest["next_cursor"] is None
    bad = api.get("/api/v1/people?cursor=nonsense")
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "cursor"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Person)) == 7
