"""The outbox keeps what "went out" whatever happens to the job afterwards; the worker's
periodic-job thread survives errors; concurrent sweeps enqueue each due step once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from flask import Flask
from rq.job import Job
from sqlalchemy import insert, select

import worker
from app import create_app
from app.clock import FrozenClock
from app.config import ConfigError
from app.db import db
from app.jobs import delivery, sweep
from app.jobs.queue import backend
from app.models import Invitation, Message, OutboxMessage, Person, Survey
from app.transport import store_in_outbox, transport
from app.vocabulary import Channel, InvitationStatus, Trigger
from channels.outbox import OutboxEntry
from tests.support.api import Api
from tests.support.factories import new_survey
from tests.support.lifecycle import invitation
from tests.support.settings import TEST_SETTINGS


def test_an_outbox_row_is_committed_on_its_own(app: Flask) -> None:
    with app.app_context():
        store_in_outbox([OutboxEntry("email", 1, None, "initial", "a@b.example", "hi")])
        db.session.rollback()  # the job's own transaction rolls back...
        assert db.session.query(OutboxMessage).count() == 1  # ...what went out stays out


def test_a_job_that_dies_after_sending_leaves_an_outbox_row_and_a_claim(
    app: Flask, api: Api, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    survey = new_survey(api)
    later = clock.now() + timedelta(hours=1)
    inv = api.post(
        "/api/v1/invitations",
        json={
            "survey_id": survey["id"],
            "channel": "email",
            "send_at": later.isoformat(),
            "person": {"email": "pat@globex.example", "timezone": "Europe/London"},
        },
    ).get_json()

    def die(*args: object, **kwargs: object) -> None:
        raise SystemExit("worker killed between send and record")

    monkeypatch.setattr(delivery, "record", die)
    clock.set(later)
    with app.app_context(), pytest.raises(SystemExit):
        delivery.deliver_email([inv["id"]], "initial")
    monkeypatch.undo()
    with app.app_context():
        assert db.session.query(OutboxMessage).count() == 1
        assert db.session.get(Invitation, inv["id"]).status == InvitationStatus.SENDING
    clock.advance(minutes=11)
    with app.app_context():
        assert sweep.sweep()["needs_review"] == 1
        assert db.session.query(Message).one().status.value == "unknown"
    assert invitation(app, inv["id"]).status == InvitationStatus.NEEDS_REVIEW


def test_outbox_latency_setting(database_url: str) -> None:
    app = create_app(
        {**TEST_SETTINGS, "DATABASE_URL": database_url, "OUTBOX_LATENCY_SECONDS": 0.25}
    )
    with app.app_context():
        assert transport().email.latency == 0.25
        assert transport().sms.latency == 0.25
    for bad in (-1, 61):
        with pytest.raises(ConfigError, match="OUTBOX_LATENCY_SECONDS"):
            create_app({**TEST_SETTINGS, "OUTBOX_LATENCY_SECONDS": bad})
    with pytest.raises(ConfigError, match="SWEEP_LEASE_SECONDS"):
        create_app({**TEST_SETTINGS, "SWEEP_LEASE_SECONDS": 0})


class Stop(BaseException):
    pass


class FlakyCron:
    """Fails once (Redis went away), then runs until the test stops it."""

    def __init__(self) -> None:
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        if self.starts == 1:
            raise ConnectionError("Redis is restarting")
        raise Stop


def test_the_cron_thread_starts_again_after_an_error(caplog: pytest.LogCaptureFixture) -> None:
    cron = FlakyCron()
    with pytest.raises(Stop):
        worker._keep_cron_running(cron, pauses=(0,))  # type: ignore[arg-type]
    assert cron.starts == 2
    assert "starting it again" in caplog.text


def test_concurrent_sweeps_enqueue_each_due_step_once(
    rq_app: Flask, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four sweeps at the same moment (one per worker) on PostgreSQL: SKIP LOCKED and the
    lease give every due invitation to exactly one of them."""
    monkeypatch.setattr(sweep, "PASS_SIZE", 40)
    rq_app.config["JOB_BATCH_SIZE"] = 15
    now = clock.now()
    with rq_app.app_context():
        survey = Survey(name="S", question="Q?", created_at=now, updated_at=now)
        db.session.add(survey)
        db.session.flush()
        people = db.session.scalars(
            insert(Person).returning(Person.id),
            [
                {
                    "email": f"p{i}@x.example",
                    "timezone": "Europe/London",
                    "properties": {},
                    "first_seen_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(600)
            ],
        ).all()
        db.session.execute(
            insert(Invitation),
            [
                {
                    "survey_id": survey.id,
                    "person_id": pid,
                    "channel": Channel.EMAIL,
                    "status": InvitationStatus.SCHEDULED,
                    "trigger": Trigger.API,
                    "scheduled_at": now,
                    "deadline_at": now + timedelta(days=10),
                    "next_action_at": now - timedelta(minutes=pid % 7),
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for pid in people
            ],
        )
        db.session.commit()
        due = set(db.session.scalars(select(Invitation.id)))

    barrier = threading.Barrier(4)
    totals: list[int] = []
    errors: list[BaseException] = []

    def one_sweep() -> None:
        try:
            with rq_app.app_context():
                barrier.wait()
                totals.append(sweep.enqueue_due(now))
                db.session.remove()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one_sweep) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(totals) == len(due)
    queue = backend(rq_app).queue("email")
    enqueued = Counter(
        inv_id
        for job_id in queue.job_ids
        for inv_id in Job.fetch(job_id, connection=queue.connection).args[0]
    )
    assert set(enqueued) == due
    assert max(enqueued.values()) == 1
    assert len([t for t in totals if t]) >= 2  # the work really was shared
    with rq_app.app_context():  # and the lease keeps the next sweep off them
        assert sweep.enqueue_due(now + timedelta(seconds=1)) == 0
