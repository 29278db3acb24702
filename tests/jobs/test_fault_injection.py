"""Fault injection: real ``python worker.py`` processes on real Redis and PostgreSQL, killed
with SIGKILL at random moments, Redis flushed once mid-run, workers restarted until
everything settles. Every due step must end up sent exactly once (accepted, one outbox row)
or in review (``needs_review``, at most one outbox row), never twice; the outbox proves it.

How it is made honest:

- the workers are the production command (``python worker.py``: RQ's forking ``Worker``, its
  scheduler, and the periodic sweep on the cron thread), started as separate processes with
  ``DATABASE_URL`` and ``REDIS_URL`` of the test database; the application's real clock;
- the outbox channel commits each provider request on its own connection the moment it is
  made, and ``OUTBOX_LATENCY_SECONDS`` makes each request take a while (as a provider does),
  so kills land before, during and after sends, and between a send and its record;
- a kill is either the whole machine (the worker, its scheduler process and its work horse,
  which RQ puts in a process group of its own) or only the work horse running a job.

Why forking workers rather than ``--simple``: forking is what production runs (Procfile), and
it exercises what ``--simple`` never does -- a fresh database pool in every work horse, the
cron thread alongside forks, a parent that outlives its killed horse and fails the job (which
RQ then retries, harmlessly: the claim is in the database). ``--simple`` would only make
"kill the worker" and "kill the job" the same event; killing horses covers that.

Tuned to run in well under two minutes; the figures are printed (run with ``-s``).
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import func, insert, select

from app import create_app
from app.db import db
from app.models import Invitation, Message, OutboxMessage, Person, Survey
from app.services.cadence_rules import set_survey_overrides
from app.vocabulary import Channel, InvitationStatus, MessageStatus, Trigger
from channels.base import Step
from tests.support.database import empty_database
from tests.support.settings import ROOT, TEST_SETTINGS

S = InvitationStatus
PER_STEP = 120  # invitations due for each of the three steps
WORKERS = 3
MAX_KILLS = 14
SETTLE_LIMIT = 100.0  # seconds, from the first worker's start
WORKER_ENV = {
    "SOUNDING_ENV": "test",
    "SECRET_KEYS": "fault-test-key",
    "BASE_URL": "http://sounding.test",
    "SWEEP_INTERVAL_SECONDS": "1",
    "SWEEP_LEASE_SECONDS": "4",
    "CLAIM_TIMEOUT_SECONDS": "10",
    "JOB_BATCH_SIZE": "12",
    "OUTBOX_LATENCY_SECONDS": "0.25",
    "JOB_RETRIES": "3",
    # This test is about crashes, not sending rates (tests/test_cadence_rates.py): the
    # default 60 texts a minute per sender would make its 100 texts take minutes.
    "SMS_SENDER_RATE": "100000/minute",
    "SMS_SEND_RATE": "100000/minute",
    "EMAIL_SEND_RATE": "100000/minute",
}
DONE = {Step.INITIAL: S.SENT, Step.REMINDER_1: S.REMINDED_1, Step.REMINDER_2: S.REMINDED_2}


@pytest.fixture
def live_app(database_url: str, redis_url: str) -> Iterator[Flask]:
    """The app on the test database and Redis with the real clock (the workers' clock)."""
    connection = Redis.from_url(redis_url)
    connection.flushdb()
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "REDIS_URL": redis_url})
    yield app
    with app.app_context():
        db.session.remove()
        empty_database()
        db.engine.dispose()
    connection.flushdb()


def _seed(app: Flask) -> dict[int, tuple[Step, Channel]]:
    """Invitations each due for one step now: the first message, reminder 1 or reminder 2.
    Some are SMS invitations; half of those due for reminder 2 escalate it to SMS."""
    now = datetime.now(UTC)
    ago, soon = now - timedelta(minutes=1), now + timedelta(days=3)
    with app.app_context():
        survey = Survey(
            name="Fault test",
            question="How likely are you to recommend Acme?",
            channels={"enabled": ["email", "sms"]},
            escalate_to_sms=True,
            created_at=now,
            updated_at=now,
        )
        db.session.add(survey)
        db.session.flush()
        every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        set_survey_overrides(
            survey.id,
            {
                "send_window_start": "00:00",
                "send_window_end": "23:59:59",
                "send_weekdays": every_day,
            },
            now,
        )
        plan: list[tuple[Step, Channel, str | None]] = []
        for step in (Step.INITIAL, Step.REMINDER_1, Step.REMINDER_2):
            for i in range(PER_STEP):
                sms = step != Step.REMINDER_2 and i % 6 == 0
                mobile = f"+3361{len(plan):07d}" if (sms or i % 2 == 0) else None
                plan.append((step, Channel.SMS if sms else Channel.EMAIL, mobile))
        people = db.session.scalars(
            insert(Person).returning(Person.id),
            [
                {
                    "email": f"p{n}@fault.example",
                    "phone": phone,
                    "name": f"Person {n}",
                    "timezone": "UTC",
                    "properties": {},
                    "first_seen_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for n, (_, _, phone) in enumerate(plan)
            ],
        ).all()
        rows = []
        for person_id, (step, channel, _) in zip(people, plan, strict=True):
            row = {
                "survey_id": survey.id,
                "person_id": person_id,
                "channel": channel,
                "trigger": Trigger.API,
                "deadline_at": soon,
                "next_action_at": ago,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            if step == Step.INITIAL:
                row |= {"status": S.SCHEDULED, "scheduled_at": ago}
                row |= {"reminder_1_at": soon, "reminder_2_at": soon}
            elif step == Step.REMINDER_1:
                row |= {"status": S.SENT, "scheduled_at": now - timedelta(days=3)}
                row |= {"sent_at": now - timedelta(days=3), "reminder_1_at": ago}
                row |= {"reminder_2_at": soon}
            else:
                row |= {"status": S.REMINDED_1, "scheduled_at": now - timedelta(days=7)}
                row |= {"sent_at": now - timedelta(days=7), "reminder_1_at": ago}
                row |= {"reminded_1_at": now - timedelta(days=4), "reminder_2_at": ago}
            rows.append(row)
        ids = db.session.scalars(insert(Invitation).returning(Invitation.id), rows).all()
        db.session.commit()
    expected = {}
    for inv_id, (step, channel, phone) in zip(ids, plan, strict=True):
        escalates = step == Step.REMINDER_2 and phone is not None
        expected[inv_id] = (step, Channel.SMS if escalates else channel)
    return expected


# --- processes -------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class Workers:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []
        self.log_files: list[IO[bytes]] = []
        self.started = 0
        self.exited_alone = 0

    def spawn(self) -> None:
        self.started += 1
        log = (self.logs / f"worker-{self.started}.log").open("wb")
        self.log_files.append(log)
        self.procs.append(
            subprocess.Popen(
                [sys.executable, "worker.py"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.procs if p.poll() is None]

    def replace_dead(self, counted_kills: set[int]) -> None:
        for proc in list(self.procs):
            if proc.poll() is not None:
                self.procs.remove(proc)
                if proc.pid not in counted_kills:
                    self.exited_alone += 1
                _kill(_descendants(proc.pid))  # an orphaned horse or scheduler, if any
        while len(self.procs) < WORKERS:
            self.spawn()

    def horses(self, proc: subprocess.Popen[bytes]) -> list[int]:
        """Work horses: RQ puts each in a process group of its own."""
        return [pid for pid in _descendants(proc.pid) if _pgid(pid) == pid]

    def stop_all(self) -> None:
        for proc in self.procs:
            _kill([*_descendants(proc.pid), proc.pid])
        for proc in self.procs:
            proc.wait(timeout=10)
        for log in self.log_files:
            log.close()

    def released(self) -> int:
        """Claims the sweeps released (never handed to the provider), from the workers' logs."""
        return sum(
            int(n)
            for path in self.logs.glob("worker-*.log")
            for n in re.findall(r"'released': (\d+)", path.read_text(errors="replace"))
        )

    def log_tail(self, lines: int = 40) -> str:
        tails = []
        for path in sorted(self.logs.glob("worker-*.log")):
            tails.append(f"--- {path.name}\n" + "\n".join(path.read_text().splitlines()[-lines:]))
        return "\n".join(tails)


# --- the test --------------------------------------------------------------------------------


def _progress(app: Flask, expected: dict[int, tuple[Step, Channel]]) -> tuple[int, int]:
    """(steps settled, invitations still in ``sending``)."""
    with app.app_context():
        statuses = dict(db.session.execute(select(Invitation.id, Invitation.status)).all())
        db.session.remove()
    settled = sum(
        1
        for inv_id, (step, _) in expected.items()
        if statuses[inv_id] in (DONE[step], S.NEEDS_REVIEW)
    )
    return settled, sum(1 for s in statuses.values() if s == S.SENDING)


@pytest.mark.slow
def test_killed_workers_and_a_flushed_redis_never_send_a_step_twice(
    live_app: Flask, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    seed = int(os.environ.get("SOUNDING_FAULT_SEED", random.randrange(1_000_000)))
    rng = random.Random(seed)
    expected = _seed(live_app)
    total = len(expected)
    env = {
        **os.environ,
        **WORKER_ENV,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PYTHONPATH": str(ROOT),
    }
    workers = Workers(env, tmp_path)
    killed: set[int] = set()
    machine_kills = horse_kills = flushes = 0
    flush_at = rng.uniform(0.2, 0.5)  # flush once this share of the steps has settled
    started = time.monotonic()
    try:
        for _ in range(WORKERS):
            workers.spawn()
        while True:
            time.sleep(rng.uniform(0.3, 1.2))
            settled, sending = _progress(live_app, expected)
            if settled == total and sending == 0:
                break
            assert time.monotonic() - started < SETTLE_LIMIT, (
                f"not settled after {SETTLE_LIMIT}s: {settled}/{total} steps, seed {seed}"
            )
            if flushes == 0 and settled >= flush_at * total:
                Redis.from_url(redis_url).flushdb()
                flushes += 1
            busy = [p for p in workers.alive() if workers.horses(p)]
            if settled < total and machine_kills + horse_kills < MAX_KILLS and busy:
                victim = rng.choice(busy)
                horses = workers.horses(victim)
                if rng.random() < 0.3:
                    _kill(horses)  # the job's process dies; the worker lives on
                    horse_kills += 1
                else:
                    _kill([victim.pid, *_descendants(victim.pid)])  # the whole machine
                    killed.add(victim.pid)
                    machine_kills += 1
            workers.replace_dead(killed)
    finally:
        workers.stop_all()
    elapsed = time.monotonic() - started

    with live_app.app_context():
        invitations = {
            i.id: i
            for i in db.session.scalars(select(Invitation).where(Invitation.id.in_(expected)))
        }
        messages = {(m.invitation_id, m.step): m for m in db.session.scalars(select(Message))}
        outbox = Counter(
            (row.invitation_id, row.step)
            for row in db.session.execute(select(OutboxMessage.invitation_id, OutboxMessage.step))
        )
        outbox_channels = dict(
            db.session.execute(select(OutboxMessage.invitation_id, OutboxMessage.channel)).all()
        )
        outbox_total = db.session.scalar(select(func.count(OutboxMessage.id)))

    sent = review_sent = review_unsent = 0
    for inv_id, (step, channel) in expected.items():
        inv, message = invitations[inv_id], messages.get((inv_id, step.value))
        went_out = outbox[(inv_id, step.value)]
        assert went_out <= 1, f"invitation {inv_id} {step} went out {went_out} times"
        assert message is not None, f"invitation {inv_id}: no message for {step}"
        if inv.status == DONE[step]:
            assert message.status == MessageStatus.ACCEPTED
            assert went_out == 1, f"invitation {inv_id} recorded as sent, outbox has no row"
            assert outbox_channels[inv_id] == channel.value
            assert inv.sending_step is None and inv.next_action_at is not None
            sent += 1
        else:
            assert inv.status == S.NEEDS_REVIEW, (inv_id, inv.status)
            assert message.status == MessageStatus.UNKNOWN
            if went_out:
                review_sent += 1
            else:
                review_unsent += 1
    # Nothing else went out: one outbox row per step at most, only for the due steps.
    assert sum(outbox.values()) == outbox_total == sent + review_sent
    assert set(outbox) <= {(i, s.value) for i, (s, _) in expected.items()}
    figures = (
        f"fault test (seed {seed}): {total} invitations ({PER_STEP} each due for the first "
        f"message, reminder 1, reminder 2; "
        f"{sum(1 for s, c in expected.values() if c == Channel.SMS)} by SMS), "
        f"{WORKERS} workers, {machine_kills} workers killed, {horse_kills} work horses killed, "
        f"{flushes} Redis flush, {workers.started} worker starts "
        f"({workers.exited_alone} exits not caused by a kill); "
        f"{workers.released()} unsent claims of dead workers released and sent again; "
        f"{sent} steps sent exactly once, {review_sent + review_unsent} needs_review "
        f"({review_sent} had gone out, {review_unsent} had not), 0 sent twice; "
        f"{outbox_total} outbox rows; settled in {elapsed:.1f}s"
    )
    print("\n" + figures)
    assert machine_kills + horse_kills >= 3, figures  # the faults really happened
    assert flushes == 1, figures
