"""Surveys (create, validate, change; admins only) and invitations (create, refuse, list,
cancel, schedule) over HTTP. Every refusal names its field and changes nothing."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from app.clock import FrozenClock
from app.db import db
from app.jobs.sweep import sweep
from app.models import OutboxMessage
from app.services.suppressions import suppress
from app.vocabulary import SuppressionKind, SuppressionReason
from tests.support.api import Api, error_of, iso, issue_test_key, row_counts
from tests.support.factories import (
    invite_person,
    new_person,
    new_survey,
    permissive_cadence,
    post_invitation,
)

SURVEYS = "/api/v1/surveys"
INVITATIONS = "/api/v1/invitations"


# --- surveys --------------------------------------------------------------------------------


def test_survey_defaults(api: Api) -> None:
    survey = new_survey(api)
    assert survey["question"] == "How likely are you to recommend Acme to a friend or colleague?"
    assert survey["follow_up_question"] == "What is the main reason for your score?"
    assert survey["channels"] == ["email", "sms", "link", "widget"]
    plan = [survey[f"{name}_days"] for name in ("reminder_1", "reminder_2", "deadline")]
    assert plan == [3, 7, 10]
    assert survey["status"] == "active"
    assert survey["opens_at"] is None and survey["closes_at"] is None
    assert api.get(f"{SURVEYS}/{survey['id']}").get_json() == survey


def test_survey_times_come_back_in_utc(api: Api) -> None:
    survey = new_survey(
        api, opens_at="2026-12-01T09:00:00+01:00", closes_at="2027-01-01T09:00:00-05:00"
    )
    assert (survey["opens_at"], survey["closes_at"]) == (
        "2026-12-01T08:00:00Z",
        "2027-01-01T14:00:00Z",
    )
    assert api.get(f"{SURVEYS}/{survey['id']}").get_json() == survey


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reminder_1_days": 0}, "reminder_1_days"),
        ({"reminder_1_days": 5, "reminder_2_days": 5}, "reminder_2_days"),
        ({"reminder_1_days": 5, "reminder_2_days": 4}, "reminder_2_days"),
        ({"reminder_2_days": 7, "deadline_days": 7}, "deadline_days"),
        ({"deadline_days": 91}, "deadline_days"),
        ({"opens_at": "2026-12-01T00:00:00Z", "closes_at": "2026-11-30T00:00:00Z"}, "closes_at"),
        ({"opens_at": "2026-12-01T00:00:00Z", "closes_at": "2026-12-01T00:00:00Z"}, "closes_at"),
        ({"opens_at": "2026-12-01T00:00:00"}, "opens_at"),
        ({"channels": []}, "channels"),
        ({"channels": ["email", "fax"]}, "channels.1"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"question": "x" * 2001}, "question"),
        ({"reminder_1_days": "soon"}, "reminder_1_days"),
        ({"status": "paused"}, "status"),  # set by PATCH, not on create
    ],
)
def test_survey_validation(api: Api, app: Flask, body: dict[str, Any], field: str) -> None:
    before = row_counts(app)
    response = api.post(SURVEYS, json={"name": "NPS", **body})
    assert response.status_code == 400, response.get_json()
    assert error_of(response)["field"] == field
    assert row_counts(app) == before


def test_csm_key_reads_surveys_but_cannot_create_or_change_them(api: Api, app: Flask) -> None:
    survey = new_survey(api)
    csm = Api(app.test_client(), issue_test_key(app, "csm", "carla@acme.example"))
    before = row_counts(app)
    created = csm.post(SURVEYS, json={"name": "Mine"})
    assert created.status_code == 403 and error_of(created)["code"] == "forbidden"
    patched = csm.patch(f"{SURVEYS}/{survey['id']}", json={"name": "Mine"})
    assert patched.status_code == 403
    assert row_counts(app) == before
    assert csm.get(f"{SURVEYS}/{survey['id']}").get_json()["name"] == "Product NPS"
    assert [s["id"] for s in csm.get(SURVEYS).get_json()["data"]] == [survey["id"]]


def test_patch_survey(api: Api) -> None:
    survey = new_survey(api)
    changed = api.patch(
        f"{SURVEYS}/{survey['id']}",
        json={"name": "Renamed", "deadline_days": 14, "status": "paused", "channels": ["email"]},
    )
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert (body["name"], body["deadline_days"], body["status"]) == ("Renamed", 14, "paused")
    assert body["channels"] == ["email"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reminder_2_days": 2}, "reminder_2_days"),  # 3 < 2 fails against the stored plan
        ({"deadline_days": 5, "name": "Renamed"}, "deadline_days"),
        ({"name": None}, "name"),
        ({"channels": []}, "channels"),
        ({"status": "deleted"}, "status"),
        ({"opens_at": "2027-01-01T00:00:00Z", "closes_at": "2026-12-01T00:00:00Z"}, "closes_at"),
        ({"nmae": "typo"}, "nmae"),
    ],
)
def test_patch_survey_refusals_change_nothing(api: Api, body: dict[str, Any], field: str) -> None:
    survey = new_survey(api)
    response = api.patch(f"{SURVEYS}/{survey['id']}", json=body)
    assert response.status_code == 400, response.get_json()
    assert error_of(response)["field"] == field
    assert api.get(f"{SURVEYS}/{survey['id']}").get_json() == survey


def test_unknown_survey_is_404(api: Api) -> None:
    for response in (api.get(f"{SURVEYS}/999"), api.patch(f"{SURVEYS}/999", json={"name": "x"})):
        assert response.status_code == 404
        assert error_of(response)["field"] == "survey_id"


# --- creating invitations -------------------------------------------------------------------


def test_invite_by_person_id_and_by_inline_person(api: Api, app: Flask) -> None:
    survey = new_survey(api)
    person = new_person(api)
    by_id = post_invitation(api, survey_id=survey["id"], person_id=person["id"], channel="link")
    assert by_id.status_code == 201, by_id.get_json()
    body = by_id.get_json()
    assert body["survey_id"] == survey["id"] and body["person_id"] == person["id"]
    assert body["channel"] == "link" and body["status"] == "sent"
    assert body["link"].startswith("http://sounding.test/s/")
    assert body["deadline_at"] and body["trigger"] == "api"

    inline = post_invitation(
        api,
        survey_id=survey["id"],
        channel="email",
        person={"external_id": "u-2", "email": "Zoe@Globex.example", "role": "executive"},
    )
    assert inline.status_code == 201, inline.get_json()
    found = api.get("/api/v1/people", query_string={"email": "zoe@globex.example"}).get_json()
    assert [p["id"] for p in found["data"]] == [inline.get_json()["person_id"]]
    assert found["data"][0]["role"] == "executive"
    # The email went out in-process right after the commit.
    with app.app_context():
        assert db.session.query(OutboxMessage).one().recipient == "zoe@globex.example"


def refused(api: Api, app: Flask, expect: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST ``body``; ``expect`` is "status field [code]". The refusal changes nothing."""
    status, field, *code = expect.split()
    before = row_counts(app)
    response = post_invitation(api, **body)
    assert response.status_code == int(status), response.get_json()
    error = error_of(response)
    assert error["field"] == field, error
    assert not code or error["code"] == code[0], error
    after = row_counts(app)
    # A cadence refusal is stored (every "no" can be explained later); nothing else changes.
    stored = after.pop("decision") - before.pop("decision")
    assert stored == (1 if error["code"] == "throttled" else 0)
    assert after == before
    return error


def test_invitation_refusals(api: Api, app: Flask) -> None:
    sid = new_survey(api)["id"]
    link_only = new_survey(api, channels=["link"])["id"]
    pid = new_person(api)["id"]
    link = {"survey_id": sid, "person_id": pid, "channel": "link"}
    inline = {"survey_id": sid, "channel": "link"}
    for expect, body in [
        ("404 survey_id not_found", {**link, "survey_id": 999}),
        ("404 person_id not_found", {**link, "person_id": 999}),
        ("400 person_id", inline),  # neither person_id nor person
        ("400 person_id", {**link, "person": {"external_id": "u-1"}}),  # both
        ("400 channel", {**link, "channel": "widget"}),
        ("400 channel", {**link, "channel": "pigeon"}),
        ("400 channel", {**link, "survey_id": link_only, "channel": "email"}),  # not enabled
        ("400 channel required", {"survey_id": sid, "person_id": pid}),
        ("400 survey_id", {**link, "survey_id": "one"}),
        ("400 person_id", {**link, "person_id": [pid]}),
        ("400 send_At unknown_field", {**link, "send_At": "2026-11-20T09:00:00Z"}),
        ("400 person.email", {**inline, "person": {"external_id": "u-9", "email": "nope"}}),
        # An unknown survey with an inline person: the person is not created either.
        ("404 survey_id", {**inline, "survey_id": 999, "person": {"external_id": "u-9"}}),
    ]:
        refused(api, app, expect, body)


def test_unreachable_people(api: Api, app: Flask) -> None:
    sid = new_survey(api)["id"]
    no_email = new_person(api, "u-2", email=None, phone="+33 6 12 34 56 78")["id"]
    no_phone = new_person(api, "u-3")["id"]
    landline = new_person(api, "u-4", phone="+44 20 7946 0958")["id"]
    for expect, person, channel in [
        ("400 channel unreachable", no_email, "email"),
        ("400 channel unreachable", no_phone, "sms"),
        ("400 person.phone unreachable", landline, "sms"),
    ]:
        refused(api, app, expect, {"survey_id": sid, "person_id": person, "channel": channel})
    # An inline person who cannot be reached is not left behind either.
    person = {"external_id": "u-5", "phone": "+33 6 12 34 56 78"}
    body = {"survey_id": sid, "channel": "email", "person": person}
    refused(api, app, "400 channel unreachable", body)


def test_sms_to_a_mobile_is_accepted(api: Api, app: Flask) -> None:
    survey = new_survey(api)
    mobile = new_person(api, "u-2", phone="+33 6 12 34 56 78")
    response = post_invitation(api, survey_id=survey["id"], person_id=mobile["id"], channel="sms")
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        assert db.session.query(OutboxMessage).one().recipient == "+33612345678"


def test_suppressed_address_is_refused(api: Api, app: Flask, clock: FrozenClock) -> None:
    body = {"survey_id": new_survey(api)["id"], "person_id": new_person(api)["id"]}
    with app.app_context():
        suppress(
            SuppressionKind.EMAIL, "u-1@globex.example", SuppressionReason.BOUNCED, clock.now()
        )
        db.session.commit()
    # Suppressions are the cadence engine's first rule: a 409 `throttled` naming it.
    error = refused(api, app, "409 person_id throttled", {**body, "channel": "email"})
    assert error["rule"] == "suppressed" and error["next_eligible_at"] is None
    assert "bounced" in error["message"]
    # Other channels still work.
    assert post_invitation(api, **body, channel="link").status_code == 201


def test_second_open_invitation_on_a_channel_is_refused(api: Api, app: Flask) -> None:
    permissive_cadence(api)  # this test is about open invitations, not the recontact period
    person = new_person(api, phone="+33 6 12 34 56 78")
    body = {"survey_id": new_survey(api)["id"], "person_id": person["id"]}
    first = post_invitation(api, **body, channel="email")
    assert first.status_code == 201
    error = refused(api, app, "409 person_id already_invited", {**body, "channel": "email"})
    assert error["invitation_id"] == first.get_json()["id"]
    # Another channel is another invitation; once canceled, the channel is free again.
    assert post_invitation(api, **body, channel="sms").status_code == 201
    assert api.post(f"{INVITATIONS}/{first.get_json()['id']}/cancel").status_code == 200
    again = post_invitation(api, **body, channel="email")
    assert again.status_code == 201, again.get_json()


def test_send_at(api: Api, app: Flask, clock: FrozenClock) -> None:
    sid = new_survey(api)["id"]
    base = {"survey_id": sid, "person_id": new_person(api)["id"], "channel": "link"}
    for send_at in ("2026-11-20T09:00:00", "next tuesday", iso(clock.now() + timedelta(days=366))):
        refused(api, app, "400 send_at", {**base, "send_at": send_at})

    past = post_invitation(api, **base, send_at=iso(clock.now() - timedelta(days=3)))
    assert past.status_code == 201, past.get_json()
    assert past.get_json()["send_at"] == iso(clock.now())
    assert past.get_json()["status"] == "sent"

    other = {**base, "person_id": new_person(api, "u-2")["id"]}
    offset = post_invitation(api, **other, send_at="2026-11-17T09:00:00+01:00")
    assert offset.status_code == 201
    assert offset.get_json()["send_at"] == "2026-11-17T08:00:00Z"
    assert offset.get_json()["status"] == "scheduled"


def test_paused_survey_sends_nothing(api: Api, app: Flask) -> None:
    survey = new_survey(api)
    assert api.patch(f"{SURVEYS}/{survey['id']}", json={"status": "paused"}).status_code == 200
    body = {"survey_id": survey["id"], "person_id": new_person(api)["id"], "channel": "email"}
    refused(api, app, "409 survey_id survey_inactive", body)


def test_sender_and_csm_keys(api: Api, app: Flask) -> None:
    survey = new_survey(api)
    carla = Api(app.test_client(), issue_test_key(app, "csm", "carla@acme.example"))
    issue_test_key(app, "csm", "dave@acme.example")
    # Carla's customer: a CSM reaches only the people of the accounts they own.
    person = new_person(api, account={"external_id": "globex", "csm": "carla@acme.example"})
    base = {"survey_id": survey["id"], "person_id": person["id"], "channel": "link"}

    refused(carla, app, "403 sender forbidden", {**base, "sender": "dave@acme.example"})
    refused(api, app, "404 sender not_found", {**base, "sender": "nobody@acme.example"})
    refused(api, app, "404 sender not_found", {**base, "sender": 999})

    mine = post_invitation(carla, **base)
    assert mine.status_code == 201, mine.get_json()
    assert mine.get_json()["sender"]["email"] == "carla@acme.example"
    assert mine.get_json()["trigger"] == "csm"

    other = new_person(api, "u-2")
    as_dave = post_invitation(api, **{**base, "person_id": other["id"]}, sender="DAVE@acme.example")
    assert as_dave.status_code == 201
    assert as_dave.get_json()["sender"]["email"] == "dave@acme.example"


# --- listing and canceling ------------------------------------------------------------------


def test_list_filters_and_cursor_pagination(api: Api) -> None:
    permissive_cadence(api)
    survey = new_survey(api)
    other_survey = new_survey(api, name="Onboarding")
    ids = []
    for n in range(7):  # all created at the same (frozen) instant: ties are broken by id
        person = new_person(api, f"u-{n}")
        made = post_invitation(api, survey_id=survey["id"], person_id=person["id"], channel="link")
        ids.append(made.get_json()["id"])
    post_invitation(api, survey_id=other_survey["id"], person_id=person["id"], channel="link")
    api.post(f"{INVITATIONS}/{ids[0]}/cancel")

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        query = {"survey_id": survey["id"], "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get(INVITATIONS, query_string=query)
        assert page.status_code == 200, page.get_json()
        body = page.get_json()
        assert len(body["data"]) <= 3
        seen += [i["id"] for i in body["data"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)
    assert pages == 3

    canceled = api.get(INVITATIONS, query_string={"status": "canceled"}).get_json()["data"]
    assert [i["id"] for i in canceled] == [ids[0]]
    by_person = api.get(INVITATIONS, query_string={"person_id": person["id"]}).get_json()
    assert len(by_person["data"]) == 2 and by_person["next_cursor"] is None


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "abc"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"cursor": "not-a-cursor!"}, "cursor"),
        ({"cursor": _cursor({"a": 1})}, "cursor"),
        ({"cursor": _cursor(["yesterday", 5])}, "cursor"),
        ({"cursor": _cursor(["2026-11-16T10:00:00+00:00", "x"])}, "cursor"),
        ({"cursor": _cursor(["2026-11-16T10:00:00", 5])}, "cursor"),  # no time zone
        (
            {"cursor": base64.urlsafe_b64encode(b'["2026-11-16T10:00:00Z", 1e400]').decode()},
            "cursor",
        ),
        ({"cursor": _cursor(["0001-01-01T00:00:00+14:00", 5])}, "cursor"),
        ({"status": "lost"}, "status"),
        ({"survey_id": "abc"}, "survey_id"),
    ],
)
def test_bad_list_parameters(api: Api, query: dict[str, str], field: str) -> None:
    response = api.get(INVITATIONS, query_string=query)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert error_of(response)["field"] == field


def test_cancel_then_cancel_again(api: Api, app: Flask) -> None:
    survey = new_survey(api)
    person = new_person(api)
    made = invite_person(api, survey["id"], person["id"], "link")
    url = f"{INVITATIONS}/{made['id']}/cancel"
    first = api.post(url, json={"reason": "wrong person"})
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["status"] == "canceled"
    assert first.get_json()["end_reason"] == "wrong person"
    again = api.post(url)
    assert again.status_code == 409
    assert error_of(again)["code"] == "not_open"
    assert api.get(f"{INVITATIONS}/{made['id']}").get_json() == first.get_json()
    bad = api.post(f"{INVITATIONS}/999/cancel")
    assert bad.status_code == 404 and error_of(bad)["field"] == "invitation_id"


def test_future_send_at_waits_for_the_sweep(api: Api, app: Flask, clock: FrozenClock) -> None:
    survey = new_survey(api)
    person = new_person(api)
    send_at = clock.now() + timedelta(days=2)
    made = post_invitation(
        api, survey_id=survey["id"], person_id=person["id"], channel="email", send_at=iso(send_at)
    )
    assert made.status_code == 201 and made.get_json()["status"] == "scheduled"

    def outbox() -> int:
        with app.app_context():
            return db.session.query(OutboxMessage).count()

    def run_sweep() -> None:
        with app.app_context():
            sweep()

    run_sweep()
    assert outbox() == 0
    clock.advance(days=1, hours=23)
    run_sweep()
    assert outbox() == 0
    clock.advance(hours=1)
    run_sweep()
    assert outbox() == 1
    run_sweep()  # a second sweep sends nothing more
    assert outbox() == 1
    assert api.get(f"{INVITATIONS}/{made.get_json()['id']}").get_json()["status"] == "sent"
