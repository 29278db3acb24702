"""A campaign over 10,000 people finishes in a real RQ worker with the right counts per
reason: the people are made in SQL, each tenth with a history that one rule refuses."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text

from app.db import db
from app.models import Decision, Invitation
from tests.support.api import Api, issue_test_key
from tests.support.jobs import run_worker

PEOPLE = 10_000
SETUP = [
    # 10,000 people in Los Angeles (02:00 there: invitations wait for the send window).
    """INSERT INTO person (external_id, email, timezone, signed_up_at, properties,
         first_seen_at, created_at, updated_at)
       SELECT 'u' || i, CASE WHEN i % 10 = 1 THEN NULL ELSE 'p' || i || '@x.example' END,
         'America/Los_Angeles',
         CASE WHEN i % 10 = 3 THEN :now - interval '3 days' ELSE :now - interval '400 days' END,
         '{}', :now, :now, :now
       FROM generate_series(0, :n - 1) AS i""",
    """INSERT INTO suppression (kind, value, reason, created_at)
       SELECT 'email', email, 'unsubscribed', :now FROM person WHERE (id - 1) % 10 = 0""",
    # recontact: another survey 10 days ago
    """INSERT INTO invitation (survey_id, person_id, channel, status, trigger, scheduled_at,
         sent_at, deadline_at, attempts, created_at, updated_at)
       SELECT :other, id, 'email', 'expired', 'api', :now - interval '10 days',
         :now - interval '10 days', :now, 0, :now, :now FROM person WHERE (id - 1) % 10 = 2""",
    # yearly cap: four asks in the year, the last 40 days ago
    """INSERT INTO invitation (survey_id, person_id, channel, status, trigger, scheduled_at,
         sent_at, deadline_at, attempts, created_at, updated_at)
       SELECT :other, id, 'email', 'expired', 'api', :now - d * interval '1 day',
         :now - d * interval '1 day', :now, 0, :now, :now
       FROM person, (VALUES (40), (131), (222), (313)) AS ago(d) WHERE (id - 1) % 10 = 4""",
    # recurrence: this survey 60 days ago
    """INSERT INTO invitation (survey_id, person_id, channel, status, trigger, scheduled_at,
         sent_at, deadline_at, attempts, created_at, updated_at)
       SELECT :survey, id, 'email', 'expired', 'api', :now - interval '60 days',
         :now - interval '60 days', :now, 0, :now, :now FROM person WHERE (id - 1) % 10 = 5""",
]


@pytest.mark.slow
def test_campaign_over_ten_thousand_people_in_the_worker(rq_app: Flask) -> None:
    rq_app.config["FANOUT_CHUNK"] = 3000  # several chunks, a transaction each
    api = Api(rq_app.test_client(), issue_test_key(rq_app, "admin"))
    survey = api.post("/api/v1/surveys", json={"name": "NPS"}).get_json()["id"]
    other = api.post("/api/v1/surveys", json={"name": "Onboarding"}).get_json()["id"]
    with rq_app.app_context():
        params = {"now": rq_app.extensions["sounding.clock"].now(), "n": PEOPLE}
        for statement in SETUP:
            db.session.execute(text(statement), {**params, "survey": survey, "other": other})
        db.session.commit()

    created = api.post(f"/api/v1/surveys/{survey}/campaigns", json={"channel": "email"})
    assert created.status_code == 202
    assert created.get_json()["status"] == "queued"
    assert run_worker(rq_app) == 1  # the fan-out; sends wait for 09:00 in Los Angeles

    campaign = api.get(f"/api/v1/campaigns/{created.get_json()['id']}").get_json()
    assert campaign["status"] == "done"
    assert campaign["decided"] == PEOPLE
    assert campaign["invited"] == 4000
    assert campaign["waiting"] == 0
    assert campaign["skipped"] == {
        "suppressed": 1000,
        "unreachable": 1000,
        "recontact_period": 1000,
        "min_tenure": 1000,
        "yearly_cap": 1000,
        "recurrence": 1000,
    }
    with rq_app.app_context():
        assert (
            db.session.query(Invitation).filter_by(survey_id=survey, trigger="campaign").count()
            == 4000
        )
        assert db.session.query(Decision).count() == 6000
