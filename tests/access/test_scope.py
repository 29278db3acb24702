"""A CSM's reach is their accounts: each over-reach the issue lists is refused and changes
nothing; another CSM's person or invitation is a 404; an analyst only reads."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from app.db import db
from app.models import Account, Invitation, Person, PersonEvent
from tests.support.api import Api, issue_test_key, row_counts
from tests.support.factories import new_person, new_survey
from tests.support.staff import app_with

PEOPLE = "/api/v1/people"


@pytest.fixture
def world(app: Flask, api: Api) -> dict[str, Any]:
    """Carla and Dave are CSMs; Carla owns Globex, Dave owns Initech; one invitation each."""
    carla = Api(app.test_client(), issue_test_key(app, "csm", "carla@acme.example"))
    dave = Api(app.test_client(), issue_test_key(app, "csm", "dave@acme.example"))
    survey = new_survey(api)
    mine = new_person(api, "c-1", account={"external_id": "globex", "csm": "carla@acme.example"})
    theirs = new_person(api, "d-1", account={"external_id": "initech", "csm": "dave@acme.example"})
    invitations = {}
    for name, person in (("mine", mine), ("theirs", theirs)):
        made = api.post(
            "/api/v1/invitations",
            json={"survey_id": survey["id"], "person_id": person["id"], "channel": "link"},
        )
        assert made.status_code == 201, made.get_json()
        invitations[name] = made.get_json()["id"]
    return {
        "carla": carla,
        "dave": dave,
        "survey": survey,
        "mine": mine,
        "theirs": theirs,
        "invitations": invitations,
    }


def _refused(app: Flask, response: Any, status: int, field: str | None, before: dict) -> None:
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["field"] == field
    assert row_counts(app) == before


def _owner(app: Flask, external_id: str) -> str | None:
    with app.app_context():
        account = db.session.query(Account).filter_by(external_id=external_id).one()
        return account.csm.email if account.csm else None


def test_a_csm_cannot_change_an_accounts_owner(app: Flask, world: dict[str, Any]) -> None:
    carla = world["carla"]
    before = row_counts(app)
    # Taking Dave's account for herself (then an event would have mailed as "her" customer).
    took = carla.post(
        PEOPLE,
        json={
            "external_id": "c-1",
            "account": {"external_id": "initech", "csm": "carla@acme.example"},
        },
    )
    _refused(app, took, 403, "account", before)
    # Giving her own account to another CSM.
    gave = carla.post(
        PEOPLE,
        json={
            "external_id": "c-1",
            "account": {"external_id": "globex", "csm": "dave@acme.example"},
        },
    )
    _refused(app, gave, 403, "account.csm", before)
    assert _owner(app, "initech") == "dave@acme.example"
    assert _owner(app, "globex") == "carla@acme.example"
    # Naming herself as the owner she already is changes nothing and is fine.
    same = carla.post(
        PEOPLE,
        json={
            "external_id": "c-1",
            "account": {"external_id": "globex", "csm": "carla@acme.example"},
        },
    )
    assert same.status_code == 200, same.get_json()


def test_a_csm_cannot_overwrite_another_csms_customer(app: Flask, world: dict[str, Any]) -> None:
    before = row_counts(app)
    response = world["carla"].post(
        PEOPLE, json={"external_id": "d-1", "email": "mine-now@evil.example"}
    )
    _refused(app, response, 403, "external_id", before)
    by_email = world["carla"].post(PEOPLE, json={"email": "d-1@globex.example", "name": "X"})
    _refused(app, by_email, 403, "external_id", before)
    with app.app_context():
        person = db.session.get(Person, world["theirs"]["id"])
        assert person.email == "d-1@globex.example" and person.name is None


def test_a_csm_cannot_cancel_another_csms_invitation(app: Flask, world: dict[str, Any]) -> None:
    before = row_counts(app)
    theirs = world["invitations"]["theirs"]
    response = world["carla"].post(f"/api/v1/invitations/{theirs}/cancel")
    _refused(app, response, 404, "invitation_id", before)
    with app.app_context():
        assert db.session.get(Invitation, theirs).status.value == "sent"  # a link: sent at once
    mine = world["carla"].post(f"/api/v1/invitations/{world['invitations']['mine']}/cancel")
    assert mine.status_code == 200
    assert mine.get_json()["status"] == "canceled"


def test_a_csm_cannot_record_events_outside_their_accounts(
    app: Flask, world: dict[str, Any]
) -> None:
    carla = world["carla"]
    before = row_counts(app)
    by_id = carla.post("/api/v1/events", json={"person_id": world["theirs"]["id"], "name": "x"})
    _refused(app, by_id, 404, "person_id", before)
    by_body = carla.post("/api/v1/events", json={"person": {"external_id": "d-1"}, "name": "x"})
    _refused(app, by_body, 403, "external_id", before)
    with app.app_context():
        assert db.session.query(PersonEvent).count() == 0
    ok = carla.post("/api/v1/events", json={"person_id": world["mine"]["id"], "name": "x"})
    assert ok.status_code == 201, ok.get_json()


def test_another_csms_rows_are_404_and_lists_hold_only_mine(
    app: Flask, world: dict[str, Any]
) -> None:
    carla, theirs = world["carla"], world["theirs"]
    assert carla.get(f"{PEOPLE}/{theirs['id']}").status_code == 404
    assert carla.get(f"{PEOPLE}/{theirs['id']}/eligibility").status_code == 404
    assert carla.get(f"/api/v1/invitations/{world['invitations']['theirs']}").status_code == 404
    assert carla.get(f"{PEOPLE}/{world['mine']['id']}").status_code == 200
    found = carla.get(f"{PEOPLE}?email=d-1@globex.example").get_json()["data"]
    assert found == []
    listed = carla.get("/api/v1/invitations").get_json()["data"]
    assert [i["id"] for i in listed] == [world["invitations"]["mine"]]
    # Dave sees his, not Carla's.
    listed = world["dave"].get("/api/v1/invitations").get_json()["data"]
    assert [i["id"] for i in listed] == [world["invitations"]["theirs"]]
    non = carla.get(f"/api/v1/surveys/{world['survey']['id']}/non-responders").get_json()
    assert {row["person"]["id"] for row in non["data"]} <= {world["mine"]["id"]}


def test_a_csms_new_account_is_theirs_and_unassigned_people_need_the_setting(
    app: Flask, world: dict[str, Any]
) -> None:
    carla = world["carla"]
    made = carla.post(PEOPLE, json={"external_id": "c-2", "account": {"external_id": "hooli"}})
    assert made.status_code == 201, made.get_json()
    assert _owner(app, "hooli") == "carla@acme.example"
    before = row_counts(app)
    loose = carla.post(PEOPLE, json={"external_id": "c-3", "email": "c-3@x.example"})
    _refused(app, loose, 403, "account", before)


def test_csms_may_reach_people_without_an_account_when_the_admin_allows(
    database_url: str, clock: Any
) -> None:
    with app_with(database_url, clock, CSM_SEES_UNASSIGNED_PEOPLE=True) as app:
        carla = Api(app.test_client(), issue_test_key(app, "csm", "carla@acme.example"))
        made = carla.post(PEOPLE, json={"external_id": "c-3", "email": "c-3@x.example"})
        assert made.status_code == 201, made.get_json()
        assert carla.get(f"{PEOPLE}/{made.get_json()['id']}").status_code == 200


def test_an_analyst_reads_but_never_writes_or_exports(app: Flask, world: dict[str, Any]) -> None:
    ann = Api(app.test_client(), issue_test_key(app, "analyst", "ann@acme.example"))
    survey = world["survey"]["id"]
    assert ann.get(f"/api/v1/surveys/{survey}/non-responders").status_code == 200
    before = row_counts(app)
    csv = ann.get(f"/api/v1/surveys/{survey}/non-responders?format=csv")
    assert csv.status_code == 403
    assert "personal data" in csv.get_json()["error"]["message"]
    wrote = ann.post(PEOPLE, json={"external_id": "a-1"})
    assert wrote.status_code == 403
    assert row_counts(app) == before
    # A CSM may export their own accounts' list.
    assert (
        world["carla"].get(f"/api/v1/surveys/{survey}/non-responders?format=csv").status_code == 200
    )
