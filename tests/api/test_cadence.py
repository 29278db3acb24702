"""Cadence over HTTP: 409 throttled with the rule and next eligible time, stored refusals,
eligibility, the rules (admins change, CSMs read), campaigns, events, triggers, and bad input
on every new endpoint (a 4xx naming the field, nothing changed)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask

from app.clock import FrozenClock
from app.db import db
from app.jobs.campaigns import cadence_sweep
from app.models import Campaign, Decision, DeferredAsk, Invitation, PersonEvent, SurveyTrigger
from tests.support.api import Api, error_of, issue_test_key
from tests.support.factories import post_invitation, upsert_person


@pytest.fixture
def survey(api: Api) -> int:
    return api.post("/api/v1/surveys", json={"name": "NPS"}).get_json()["id"]


def person(api: Api, n: int = 1, **fields) -> int:
    fields = {"email": f"p{n}@globex.example", "timezone": "Europe/Berlin", **fields}
    return upsert_person(api, **fields)["id"]


def test_a_second_ask_is_409_throttled_with_the_rule_and_when(
    app: Flask, api: Api, survey: int
) -> None:
    pid = person(api)
    assert post_invitation(api, survey_id=survey, person_id=pid, channel="email").status_code == 201
    refused = post_invitation(api, survey_id=survey, person_id=pid, channel="link")
    assert refused.status_code == 409
    error = error_of(refused)
    assert error["code"] == "throttled"
    assert error["rule"] == "recurrence"
    assert error["next_eligible_at"] == "2027-02-14T10:00:00Z"  # 90 days (links: any hour)
    assert "recontact period is 30 days" in error["message"]
    with app.app_context():
        assert db.session.query(Invitation).count() == 1
        stored = db.session.query(Decision).one()
        assert (stored.reason, stored.allowed, stored.trigger.value) == ("recurrence", False, "api")
    eligibility = api.get(f"/api/v1/people/{pid}/eligibility?survey_id={survey}&channel=link")
    body = eligibility.get_json()
    assert body["allowed"] is False and body["reason"] == "recurrence"
    assert [r["reason"] for r in body["refusals"]] == ["recurrence", "recontact_period"]
    assert body["recent_refusals"][0]["reason"] == "recurrence"


def test_quiet_hours_move_the_send_and_suppression_refuses(
    app: Flask, api: Api, survey: int
) -> None:
    pid = person(api, timezone="America/New_York")  # 05:00 there
    body = post_invitation(api, survey_id=survey, person_id=pid, channel="email").get_json()
    assert body["status"] == "scheduled"
    assert body["send_at"] == "2026-11-16T14:00:00Z"  # 09:00 in New York
    other = person(api, 2, phone="+4915112345678")
    api.put("/api/v1/cadence", json={"recontact_days": 0})
    with app.app_context():
        from app.services.suppressions import suppress
        from app.vocabulary import SuppressionKind, SuppressionReason

        suppress(SuppressionKind.EMAIL, "p2@globex.example", SuppressionReason.SPAM_REPORT, T())
        db.session.commit()
    refused = post_invitation(api, survey_id=survey, person_id=other, channel="email")
    assert error_of(refused)["rule"] == "suppressed"
    assert error_of(refused)["next_eligible_at"] is None
    # An email suppression does not block SMS.
    assert post_invitation(api, survey_id=survey, person_id=other, channel="sms").status_code == 201


def T():
    from app import clock

    return clock.now()


def test_new_person_inline_refused_changes_nothing(app: Flask, api: Api, survey: int) -> None:
    api.put("/api/v1/cadence", json={"min_tenure_days": 30})
    refused = api.post(
        "/api/v1/invitations",
        json={
            "survey_id": survey,
            "channel": "email",
            "person": {"email": "new@x.example", "signed_up_at": "2026-11-10T00:00:00Z"},
        },
    )
    assert error_of(refused)["rule"] == "min_tenure"
    with app.app_context():
        assert db.session.query(Invitation).count() == 0
        assert db.session.query(Decision).count() == 0  # the person was never stored


def test_cadence_rules_admins_change_csms_read(app: Flask, api: Api, survey: int) -> None:
    csm = Api(app.test_client(), issue_test_key(app, "csm", "jane@acme.example"))
    assert csm.get("/api/v1/cadence").get_json()["recontact_days"] == 30
    forbidden = csm.put("/api/v1/cadence", json={"recontact_days": 5})
    assert forbidden.status_code == 403
    assert csm.put(f"/api/v1/surveys/{survey}/cadence", json={}).status_code == 403
    changed = api.put("/api/v1/cadence", json={"recontact_days": 5, "account_cap": 3})
    assert changed.status_code == 200
    assert changed.get_json()["recontact_days"] == 5
    assert csm.get("/api/v1/cadence").get_json()["account_cap"] == 3
    survey_rules = api.put(f"/api/v1/surveys/{survey}/cadence", json={"recurrence_days": 30})
    assert survey_rules.status_code == 200
    assert survey_rules.get_json()["overrides"] == {"recurrence_days": 30}
    assert survey_rules.get_json()["effective"]["recontact_days"] == 5
    assert (
        csm.get(f"/api/v1/surveys/{survey}/cadence").get_json()["effective"]["recurrence_days"]
        == 30
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"recontact_days": -1}, "recontact_days"),
        ({"yearly_cap": 0}, "yearly_cap"),
        ({"recontact_days": "30"}, "recontact_days"),
        ({"send_window_start": "25:00"}, "send_window_start"),
        ({"send_window_start": "18:00", "send_window_end": "09:00"}, "send_window_end"),
        ({"send_weekdays": []}, "send_weekdays"),
        ({"default_timezone": "Mars/Olympus"}, "default_timezone"),
        ({"recontact_dayz": 3}, "recontact_dayz"),
    ],
)
def test_invalid_rules_are_400_naming_the_field(
    api: Api, survey: int, body: dict, field: str
) -> None:
    for path in ("/api/v1/cadence", f"/api/v1/surveys/{survey}/cadence"):
        response = api.put(path, json=body)
        assert response.status_code == 400, (path, response.get_json())
        assert error_of(response)["field"] == field
    assert api.get("/api/v1/cadence").get_json()["recontact_days"] == 30


def test_cadence_bad_bodies_and_unknown_survey(api: Api) -> None:
    assert api.put("/api/v1/cadence", data="x").status_code == 415
    assert api.put("/api/v1/cadence", json=[1]).status_code == 400
    assert api.get("/api/v1/surveys/99/cadence").status_code == 404
    assert api.put("/api/v1/surveys/99/cadence", json={}).status_code == 404


def test_eligibility_bad_input(api: Api, survey: int) -> None:
    pid = person(api)
    assert api.get("/api/v1/people/999/eligibility").status_code == 404
    bad = api.get(f"/api/v1/people/{pid}/eligibility?survey_id=x")
    assert error_of(bad)["field"] == "survey_id"
    assert api.get(f"/api/v1/people/{pid}/eligibility?survey_id=99").status_code == 404
    bad = api.get(f"/api/v1/people/{pid}/eligibility?channel=fax")
    assert error_of(bad)["field"] == "channel"
    fine = api.get(f"/api/v1/people/{pid}/eligibility?channel=sms&survey_id={survey}").get_json()
    assert fine["allowed"] is False and fine["reason"] == "unreachable"
    anything = api.get(f"/api/v1/people/{pid}/eligibility").get_json()
    assert anything["allowed"] is True and anything["survey_id"] is None


def test_campaign_counts_invited_and_skipped_per_reason(
    app: Flask, api: Api, survey: int, clock: FrozenClock
) -> None:
    api.put("/api/v1/cadence", json={"account_cap": 2})
    ids = [person(api, n, account={"external_id": "globex"}) for n in range(5)]
    person(api, 9, role="executive")
    first = post_invitation(api, survey_id=survey, person_id=ids[0], channel="link")
    assert first.status_code == 201
    created = api.post(
        f"/api/v1/surveys/{survey}/campaigns",
        json={"channel": "email", "audience": {"accounts": ["globex"]}},
    )
    assert created.status_code == 202
    campaign = api.get(f"/api/v1/campaigns/{created.get_json()['id']}").get_json()
    assert campaign["status"] == "done"
    assert campaign["decided"] == 5
    # ids[0] was just asked (recurrence); one more of the account fits the cap of 2; the
    # other three wait for a slot.
    assert campaign["invited"] == 1
    assert campaign["skipped"] == {"recurrence": 1}
    assert campaign["waiting"] == 3
    clock.advance(days=7, hours=1)
    with app.app_context():
        cadence_sweep()
    later = api.get(f"/api/v1/campaigns/{created.get_json()['id']}").get_json()
    assert later["invited"] == 3 and later["waiting"] == 1
    with app.app_context():
        assert db.session.query(DeferredAsk).count() == 1


def test_campaign_bad_input(api: Api, survey: int, app: Flask) -> None:
    path = f"/api/v1/surveys/{survey}/campaigns"
    cases = [
        ({"channel": "fax"}, "channel"),
        ({}, "channel"),
        ({"channel": "widget"}, "channel"),
        ({"channel": "email", "audience": {"roles": ["boss"]}}, "audience.roles"),
        ({"channel": "email", "audience": {"colour": "red"}}, "audience.colour"),
        ({"channel": "email", "audience": {"person_ids": ["a"]}}, "audience.person_ids"),
        ({"channel": "email", "audience": {"properties": {"plan": 3}}}, "audience.properties.plan"),
        ({"channel": "email", "audience": {"all": False}}, "audience.all"),
        ({"channel": "email", "extra": 1}, "extra"),
    ]
    for body, field in cases:
        response = api.post(path, json=body)
        assert response.status_code == 400, (body, response.get_json())
        assert error_of(response)["field"] == field, body
    assert api.post("/api/v1/surveys/99/campaigns", json={"channel": "email"}).status_code == 404
    assert api.get("/api/v1/campaigns/99").status_code == 404
    csm = Api(app.test_client(), issue_test_key(app, "csm", "jane@acme.example"))
    assert csm.post(path, json={"channel": "email"}).status_code == 403
    api.patch(f"/api/v1/surveys/{survey}", json={"status": "paused"})
    assert error_of(api.post(path, json={"channel": "email"}))["code"] == "survey_inactive"
    with app.app_context():
        assert db.session.query(Campaign).count() == 0


def test_events_trigger_asks_n_days_later(
    app: Flask, api: Api, survey: int, clock: FrozenClock
) -> None:
    rule = api.post(
        f"/api/v1/surveys/{survey}/triggers",
        json={"kind": "event", "event": "trial_ended", "delay_days": 7, "channel": "email"},
    )
    assert rule.status_code == 201, rule.get_json()
    pid = person(api)
    event = api.post("/api/v1/events", json={"person_id": pid, "name": "trial_ended"})
    assert event.status_code == 201 and event.get_json()["planned_asks"] == 1
    other = api.post("/api/v1/events", json={"person": {"email": "x@y.example"}, "name": "login"})
    assert other.get_json()["planned_asks"] == 0
    with app.app_context():
        cadence_sweep()
        assert db.session.query(Invitation).count() == 0
    clock.advance(days=7)
    with app.app_context():
        cadence_sweep()
        invitation = db.session.query(Invitation).one()
        assert (invitation.person_id, invitation.trigger.value) == (pid, "event")
        assert db.session.query(PersonEvent).count() == 2
    listed = api.get(f"/api/v1/surveys/{survey}/triggers").get_json()["data"]
    assert listed[0]["event"] == "trial_ended"


def test_recurring_survey_asks_the_audience_spread_over_the_day(
    app: Flask, api: Api, survey: int, clock: FrozenClock
) -> None:
    for n in range(4):
        person(api, n, role="executive" if n < 3 else "end_user")
    rule = api.post(
        f"/api/v1/surveys/{survey}/triggers",
        json={
            "kind": "recurring",
            "every_days": 90,
            "channel": "link",
            "audience": {"roles": ["executive"]},
        },
    )
    assert rule.status_code == 201, rule.get_json()
    with app.app_context():
        cadence_sweep()
        due = sorted(d.due_at for d in db.session.query(DeferredAsk))
        assert len(due) == 3 and len(set(due)) == 3  # each at their own moment of the day
        assert all(clock.now() <= d < clock.now() + timedelta(days=1) for d in due)
    clock.advance(days=1)
    with app.app_context():
        cadence_sweep()
        assert db.session.query(Invitation).count() == 3
        assert db.session.query(DeferredAsk).count() == 0
        cadence_sweep()  # planned once a day, and those asked are not due again
        assert db.session.query(DeferredAsk).count() == 0


def test_events_and_triggers_bad_input(app: Flask, api: Api, survey: int) -> None:
    pid = person(api)
    for body, field in [
        ({"name": "x"}, "person_id"),
        ({"person_id": pid}, "name"),
        ({"person_id": pid, "name": "has space"}, "name"),
        ({"person_id": pid, "name": "x", "occurred_at": "2030-01-01T00:00:00Z"}, "occurred_at"),
        ({"person_id": pid, "name": "x", "occurred_at": "2026-01-01T00:00:00"}, "occurred_at"),
        ({"person_id": 999, "name": "x"}, "person_id"),
    ]:
        response = api.post("/api/v1/events", json=body)
        assert 400 <= response.status_code < 500, body
        assert error_of(response)["field"] == field, (body, response.get_json())
    path = f"/api/v1/surveys/{survey}/triggers"
    for body, field in [
        ({"kind": "recurring", "channel": "email"}, "every_days"),
        ({"kind": "event", "channel": "email", "delay_days": 3}, "event"),
        ({"kind": "event", "channel": "email", "event": "x"}, "delay_days"),
        ({"kind": "weekly", "channel": "email"}, "kind"),
        ({"kind": "recurring", "channel": "email", "every_days": 0}, "every_days"),
        ({"kind": "recurring", "channel": "widget", "every_days": 9}, "channel"),
        (
            {"kind": "recurring", "channel": "email", "every_days": 9, "audience": {"x": 1}},
            "audience.x",
        ),
    ]:
        response = api.post(path, json=body)
        assert response.status_code == 400, (body, response.get_json())
        assert error_of(response)["field"] == field, (body, response.get_json())
    assert api.post("/api/v1/surveys/99/triggers", json={}).status_code == 404
    assert api.delete(f"{path}/99").status_code == 404
    with app.app_context():
        assert db.session.query(SurveyTrigger).count() == 0
        assert db.session.query(PersonEvent).count() == 0


def test_twenty_concurrent_requests_make_one_invitation(
    app: Flask, admin_key: str, survey: int, api: Api
) -> None:
    pid = person(api)
    barrier = threading.Barrier(20)
    statuses: list[tuple[int, str | None]] = []
    lock = threading.Lock()

    def ask(channel: str) -> None:
        client = Api(app.test_client(), admin_key)
        barrier.wait()
        response = client.post(
            "/api/v1/invitations",
            json={"survey_id": survey, "person_id": pid, "channel": channel},
        )
        with lock:
            code = response.get_json().get("error", {}).get("code")
            statuses.append((response.status_code, code))

    threads = [
        threading.Thread(target=ask, args=("email" if i % 2 else "link",)) for i in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [s for s, _ in statuses].count(201) == 1, statuses
    assert all(s in (201, 409) for s, _ in statuses), statuses
    throttled = [c for _, c in statuses if c == "throttled"]
    assert len(throttled) >= 9  # the other channel: refused by the cadence rules
    with app.app_context():
        assert db.session.query(Invitation).count() == 1
        assert db.session.query(Decision).count() == len(throttled)  # each refusal stored


def test_explain_command(app: Flask, api: Api, survey: int) -> None:
    pid = person(api, external_id="u-7", name="Dana Scully")
    assert post_invitation(api, survey_id=survey, person_id=pid, channel="email").status_code == 201
    assert post_invitation(api, survey_id=survey, person_id=pid, channel="link").status_code == 409
    runner = app.test_cli_runner()
    result = runner.invoke(args=["explain", "u-7", "--survey", str(survey), "--channel", "link"])
    assert result.exit_code == 0, result.output
    assert "Dana Scully" in result.output
    assert "may NOT be asked: recurrence" in result.output
    assert "Next eligible: 2027-02-14T10:00:00Z" in result.output
    assert "Recent refusals:" in result.output
    by_email = runner.invoke(args=["explain", "P1@globex.example"])
    assert by_email.exit_code == 0 and "recontact_period" in by_email.output
    assert runner.invoke(args=["explain", "nobody"]).exit_code == 2
    assert runner.invoke(args=["explain", "u-7", "--survey", "99"]).exit_code == 2
    assert runner.invoke(args=["explain", "u-7", "--channel", "fax"]).exit_code == 2


def test_one_cadence_sweep_at_a_time(app: Flask, api: Api, survey: int) -> None:
    from sqlalchemy import text

    from app.jobs.campaigns import _SWEEP_LOCK

    pid = person(api)
    api.post(
        f"/api/v1/surveys/{survey}/triggers",
        json={"kind": "event", "event": "upgraded", "delay_days": 0, "channel": "email"},
    )
    api.post("/api/v1/events", json={"person_id": pid, "name": "upgraded"})
    with app.app_context(), db.engine.connect() as other_worker:
        other_worker.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _SWEEP_LOCK})
        assert cadence_sweep() == {"recurring_planned": 0, "deferred_decided": 0}
        other_worker.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _SWEEP_LOCK})
        other_worker.commit()
        assert cadence_sweep()["deferred_decided"] == 1
        assert db.session.query(Invitation).count() == 1


def test_reminders_move_into_the_send_window(api: Api) -> None:
    survey = api.post(
        "/api/v1/surveys",
        json={"name": "Weekend", "reminder_1_days": 5, "reminder_2_days": 7, "deadline_days": 10},
    ).get_json()["id"]
    # Monday 11:00 in Berlin
    body = post_invitation(api, survey_id=survey, person_id=person(api), channel="email").get_json()
    assert body["send_at"] == "2026-11-16T10:00:00Z"
    # Five days later is a Saturday: the reminder waits for Monday 09:00 in Berlin, and the
    # second keeps its distance from it.
    assert body["reminder_1_at"] == "2026-11-23T08:00:00Z"
    assert body["reminder_2_at"] == "2026-11-24T08:00:00Z"


def test_the_account_cap_holds_under_concurrency(
    app: Flask, admin_key: str, survey: int, api: Api
) -> None:
    api.put("/api/v1/cadence", json={"account_cap": 2})
    people = [person(api, n, account={"external_id": "globex"}) for n in range(10)]
    barrier = threading.Barrier(len(people))
    statuses: list[int] = []
    lock = threading.Lock()

    def ask(pid: int) -> None:
        client = Api(app.test_client(), admin_key)
        barrier.wait()
        response = client.post(
            "/api/v1/invitations", json={"survey_id": survey, "person_id": pid, "channel": "link"}
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=ask, args=(pid,)) for pid in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 201] + [409] * 8, statuses
    with app.app_context():
        assert db.session.query(Invitation).count() == 2
        assert {d.reason for d in db.session.query(Decision)} == {"account_cap"}
