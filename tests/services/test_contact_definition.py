"""One definition of a survey contact: the engine's history, the fan-out's SQL and recurring
planning read the same rows at the same time (``coalesce(sent_at, scheduled_at)``).

Recurring planning used to count an invitation from its ``created_at``: an invitation made
weeks ahead of its send time was invisible to it while the engine saw a recent contact, so a
person was planned again only to be refused."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from app.clock import FrozenClock
from app.db import db
from app.jobs.campaigns import cadence_sweep
from app.models import DeferredAsk, Invitation, Person
from app.policy.rules import CadenceRules
from app.services.cadence import decide_for, load_history
from app.services.fanout_sql import facts_sql
from app.vocabulary import (
    MAY_GO_OUT,
    Channel,
    InvitationStatus,
    Trigger,
    contact_at_sql,
    contact_sql,
)
from tests.support.api import Api


def test_the_fan_out_sql_carries_the_one_contact_definition() -> None:
    for pg in (True, False):
        sql = facts_sql(CadenceRules(), Channel.EMAIL, pg)
        assert contact_sql("i") in sql and contact_at_sql("i") in sql
    assert "created_at" not in contact_sql("i") + contact_at_sql("i")
    assert all(f"'{s.value}'" in contact_sql("i") for s in MAY_GO_OUT)


def test_recurring_planning_counts_contacts_as_the_engine_does(
    app: Flask, api: Api, clock: FrozenClock
) -> None:
    survey = api.post("/api/v1/surveys", json={"name": "Quarterly"}).get_json()["id"]
    people = []
    for n in range(3):
        body = {"email": f"r{n}@globex.example", "timezone": "Europe/Berlin"}
        people.append(api.post("/api/v1/people", json=body).get_json()["id"])
    made_early, sent_long_ago, never = people
    now = clock.now()
    with app.app_context():

        def sent(person_id: int, created_days_ago: int, sent_days_ago: int) -> None:
            at = now - timedelta(days=sent_days_ago)
            db.session.add(
                Invitation(
                    survey_id=survey,
                    person_id=person_id,
                    channel=Channel.LINK,
                    trigger=Trigger.API,
                    status=InvitationStatus.EXPIRED,
                    scheduled_at=at,
                    sent_at=at,
                    deadline_at=at + timedelta(days=10),
                    ended_at=at + timedelta(days=10),
                    attempts=0,
                    created_at=now - timedelta(days=created_days_ago),
                    updated_at=now,
                )
            )

        # Made 40 days ago, to go out 10 days ago: a contact 10 days old (the old reading
        # saw 40 days and planned this person again).
        sent(made_early, created_days_ago=40, sent_days_ago=10)
        sent(sent_long_ago, created_days_ago=60, sent_days_ago=60)
        db.session.commit()
    rule = api.post(
        f"/api/v1/surveys/{survey}/triggers",
        json={"kind": "recurring", "every_days": 30, "channel": "link"},
    )
    assert rule.status_code == 201, rule.get_json()
    api.put("/api/v1/cadence", json={"recontact_days": 0, "recurrence_days": 30})
    with app.app_context():
        cadence_sweep()
        planned = set(db.session.scalars(db.select(DeferredAsk.person_id)))
        assert planned == {sent_long_ago, never}
        for person_id in people:
            person = db.session.get(Person, person_id)
            assert person is not None
            decision = decide_for(person, survey, Channel.LINK, now)
            history = load_history(person, CadenceRules(), now)
            recent = [c for c in history.contacts if c.at > now - timedelta(days=30)]
            # The planner plans exactly the people the engine would let the survey ask.
            assert (person_id in planned) == decision.allowed == (not recent), person_id
