"""The whole path over HTTP with a real RQ worker on Redis and PostgreSQL: survey, person,
invitations by link and email, the worker sends, the outbox holds the email, its link opens
the page, the answer is recorded and shows up in the responses and the NPS figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Flask

from app.clock import FrozenClock
from app.db import db
from app.jobs.sweep import sweep
from app.models import Invitation, Message, OutboxMessage
from tests.support.api import Api, issue_test_key
from tests.support.jobs import run_worker


def test_invite_send_answer_record_report(rq_app: Flask, clock: FrozenClock) -> None:
    client = rq_app.test_client()
    api = Api(client, issue_test_key(rq_app, "admin"))

    # This test asks the same person twice (by link, then by email): the workspace's cadence
    # allows it explicitly (the default recontact period would refuse the second ask).
    cadence = api.put("/api/v1/cadence", json={"recontact_days": 0, "recurrence_days": 0})
    assert cadence.status_code == 200, cadence.get_json()

    survey = api.post("/api/v1/surveys", json={"name": "Product NPS"})
    assert survey.status_code == 201, survey.get_json()
    survey_id = survey.get_json()["id"]

    person = api.post(
        "/api/v1/people",
        json={
            "external_id": "u-42",
            "email": "Dana.Scully@Globex.example",
            "name": "Dana Scully",
            "role": "decision_maker",
            "account": {"external_id": "globex", "name": "Globex"},
            "timezone": "America/New_York",
        },
    )
    assert person.status_code == 201, person.get_json()
    person_id = person.get_json()["id"]
    assert person.get_json()["email"] == "dana.scully@globex.example"

    by_link = api.post(
        "/api/v1/invitations",
        json={"survey_id": survey_id, "person_id": person_id, "channel": "link"},
    )
    assert by_link.status_code == 201, by_link.get_json()
    assert by_link.get_json()["status"] == "sent"
    assert by_link.get_json()["link"].startswith("http://sounding.test/s/")

    by_email = api.post(
        "/api/v1/invitations",
        json={"survey_id": survey_id, "person_id": person_id, "channel": "email"},
    )
    assert by_email.status_code == 201, by_email.get_json()
    body = by_email.get_json()
    assert body["status"] == "scheduled"
    assert body["deadline_at"] is not None

    # Nothing is sent until a worker runs the job; and it is 05:00 in New York, outside the
    # send window (quiet hours): the email waits for 09:00 there, when the sweep sends it.
    with rq_app.app_context():
        assert db.session.query(OutboxMessage).count() == 0
    run_worker(rq_app)
    with rq_app.app_context():
        assert db.session.query(OutboxMessage).count() == 0
        waiting = db.session.get(Invitation, body["id"])
        assert waiting.status.value == "scheduled"
        opens = waiting.next_action_at
    assert opens == datetime(2026, 11, 16, 14, 0, tzinfo=UTC)  # 09:00 EST
    clock.set(opens)
    with rq_app.app_context():
        assert sweep()["enqueued"] == 1
    assert run_worker(rq_app) >= 1

    with rq_app.app_context():
        outbox = db.session.query(OutboxMessage).one()
        assert outbox.recipient == "dana.scully@globex.example"
        assert outbox.step == "initial"
        invitation = db.session.get(Invitation, body["id"])
        assert invitation.status.value == "sent"
        assert (
            db.session.query(Message).filter_by(invitation_id=invitation.id).one().status.value
            == "accepted"
        )
        links = re.findall(r"http://sounding\.test/s/[A-Za-z0-9_.\-]+", outbox.text)
    assert links, outbox.text

    page = client.get(links[0].removeprefix("http://sounding.test"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "How likely are you to recommend Acme" in html
    answer = client.post(
        links[0].removeprefix("http://sounding.test"),
        data={"score": "9", "comment": "Support is superb."},
    )
    assert answer.status_code == 303
    thanks = client.get(answer.headers["Location"])
    assert "9 out of 10" in thanks.get_data(as_text=True)

    responses = api.get(f"/api/v1/responses?survey_id={survey_id}").get_json()
    assert len(responses["data"]) == 1
    response = responses["data"][0]
    assert response["score"] == 9
    assert response["comment"] == "Support is superb."
    assert response["role"] == "decision_maker"
    assert response["account"]["external_id"] == "globex"
    assert response["channel"] == "email"

    report = api.get(f"/api/v1/reports/nps?survey_id={survey_id}&group_by=role").get_json()
    assert report["nps"] == 100.0
    assert report["promoters"] == 1
    groups = {g["key"]: g for g in report["groups"]}
    assert groups["decision_maker"]["nps"] == 100.0
    assert groups["decision_maker"]["responses"] == 1

    # The answer ended the email invitation and withdrew the link one.
    assert api.get(f"/api/v1/invitations/{body['id']}").get_json()["status"] == "responded"
    assert (
        api.get(f"/api/v1/invitations/{by_link.get_json()['id']}").get_json()["status"]
        == "canceled"
    )
    assert report["invited"] == 1 and report["responded"] == 1
