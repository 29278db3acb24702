"""The set-based decision (one SQL statement for many people) agrees with the per-person
engine, on random people, histories and rules, on PostgreSQL and on SQLite.

For every person the SQL gives the first refusing reason and the instant the cadence rules
pass again; the engine, fed the same person's history loaded from the database, must give
the same reason and (for a channel without quiet hours) the same earliest eligible instant.
People of one account are decided in person id order: earlier people of the run take the
account's slots, exactly as if each had been asked one after the other.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from app import create_app
from app.clock import FrozenClock, install
from app.db import db
from app.models import Invitation, Person, Suppression, WidgetDisplay
from app.policy import cadence as engine
from app.policy.facts import History, Reason
from app.policy.rules import CadenceRules
from app.services import cadence_rules
from app.services.cadence import ALREADY_INVITED, UNREACHABLE, engine_person, load_history
from app.services.fanout_sql import decide_chunk, temp_tables
from app.vocabulary import Channel, InvitationStatus, SuppressionKind, SuppressionReason, Trigger
from tests.support.factories import account_row, person_row, survey_row
from tests.support.settings import T0, TEST_SETTINGS

DAY = timedelta(days=1)
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

rules_st = st.builds(
    CadenceRules,
    recontact_days=st.integers(0, 60),
    recurrence_days=st.integers(0, 120),
    min_tenure_days=st.integers(0, 30),
    yearly_cap=st.integers(1, 5),
    account_cap=st.one_of(st.none(), st.integers(1, 3), st.integers(1, 3)),
    account_cap_window_days=st.integers(1, 14),
    dismissal_backoff_days=st.integers(0, 10),
)
offset = st.one_of(st.integers(-400 * 24, 40 * 24), st.integers(-20 * 24, 2 * 24)).map(
    lambda h: h * timedelta(hours=1)
)
contact_st = st.tuples(
    st.sampled_from([1, 2]),  # survey
    offset,
    st.sampled_from(["widget", *[s.value for s in InvitationStatus]]),
    st.booleans(),  # sent_at set (for invitations)
)
person_st = st.fixed_dictionaries(
    {
        "account": st.sampled_from([None, 0, 1]),
        "signed_up": st.one_of(st.none(), st.integers(-60, 2).map(lambda d: d * DAY)),
        "email": st.sampled_from([True, True, True, False]),
        "phone": st.sampled_from([True, True, True, False]),
        "suppressed": st.sampled_from([None] * 6 + ["email", "phone", "manual"]),
        "contacts": st.lists(contact_st, max_size=6),
        "dismissed": st.one_of(st.none(), st.integers(-20 * 24, 0).map(lambda h: h * 3600)),
    }
)
channel_st = st.sampled_from([Channel.EMAIL, Channel.SMS, Channel.LINK, Channel.WIDGET])


@pytest.fixture
def sqlite_app(tmp_path: Path, clock: FrozenClock) -> Iterator[Flask]:
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": f"sqlite:///{tmp_path / 'agree.db'}"})
    install(app, clock)
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def _build(rules: CadenceRules, people: list[dict]) -> tuple[list[Person], int]:
    now = T0
    cadence_rules.set_workspace_rules(rules.to_dict(), now)
    accounts = [account_row(now, f"A{i}") for i in range(2)]
    surveys = [survey_row(now, f"S{i}") for i in (1, 2)]
    db.session.flush()
    made = []
    for n, spec in enumerate(people):
        person = person_row(
            now,
            email=f"p{n}@x.example" if spec["email"] else None,
            phone=f"+4915112345{n:03d}" if spec["phone"] else None,
            account=accounts[spec["account"]] if spec["account"] is not None else None,
            signed_up_at=now + spec["signed_up"] if spec["signed_up"] is not None else None,
            timezone="Europe/Berlin",
        )
        db.session.flush()
        made.append(person)
        kind = spec["suppressed"]
        by_email = kind == "email" or (kind == "manual" and person.email)
        if kind and (person.email if by_email else person.phone):
            db.session.add(
                Suppression(
                    kind=SuppressionKind.EMAIL if by_email else SuppressionKind.PHONE,
                    value=person.email if by_email else person.phone,
                    reason=SuppressionReason.MANUAL
                    if kind == "manual"
                    else SuppressionReason.UNSUBSCRIBED,
                    created_at=now,
                )
            )
        open_seen: set[tuple[int, str]] = set()
        for survey_index, at_offset, status, sent in spec["contacts"]:
            survey = surveys[survey_index - 1]
            at = now + at_offset
            if status == "widget":
                db.session.add(
                    WidgetDisplay(
                        display_id=uuid.uuid4().hex,
                        person_id=person.id,
                        survey_id=survey.id,
                        shown_at=at,
                    )
                )
                continue
            channel = Channel.EMAIL if survey_index == 1 else Channel.LINK
            status = InvitationStatus(status)
            if status.value in ("scheduled", "sending", "sent", "reminded_1", "reminded_2"):
                if (survey.id, channel.value) in open_seen:
                    status = InvitationStatus.EXPIRED
                open_seen.add((survey.id, channel.value))
            db.session.add(
                Invitation(
                    survey_id=survey.id,
                    person_id=person.id,
                    channel=channel,
                    status=status,
                    trigger=Trigger.API,
                    scheduled_at=at,
                    sent_at=at if sent else None,
                    deadline_at=at + 10 * DAY,
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        if spec["dismissed"] is not None:
            db.session.add(
                WidgetDisplay(
                    display_id=f"dismissed-{person.id}",
                    person_id=person.id,
                    survey_id=surveys[1].id,
                    shown_at=now - 400 * DAY,
                    dismissed_at=now + timedelta(seconds=spec["dismissed"]),
                )
            )
    db.session.flush()
    return made, surveys[0].id


def _engine_view(
    rules: CadenceRules, people: list[Person], channel: Channel, survey_id: int
) -> dict[int, tuple]:
    """(reason, rules-pass instant or None) per person, the engine's way, in id order."""
    now = T0
    out: dict[int, tuple] = {}
    run_asked: dict[int, set[int]] = {}  # account -> people asked earlier in this run
    for person in sorted(people, key=lambda p: p.id):
        if channel in (Channel.EMAIL, Channel.SMS) and not (
            person.email if channel == Channel.EMAIL else person.phone
        ):
            out[person.id] = (UNREACHABLE, None)
            continue
        open_one = db.session.scalar(
            text(
                "SELECT count(*) FROM invitation WHERE person_id = :p AND survey_id = :s "
                "AND channel = :c AND status IN "
                "('scheduled','sending','sent','reminded_1','reminded_2')"
            ),
            {"p": person.id, "c": channel.value, "s": survey_id},
        )
        if open_one:
            out[person.id] = (ALREADY_INVITED, None)
            continue
        history = load_history(person, rules, now)
        facts_person = engine_person(person, channel)
        plain = (
            channel if channel in (Channel.LINK, Channel.WIDGET) else Channel.LINK
        )  # no quiet hours: the instant the rules pass
        pre = engine.check(rules, facts_person, history, survey_id=survey_id, channel=plain, at=now)
        until = engine.earliest_eligible(
            rules, facts_person, history, survey_id=survey_id, channel=plain, not_before=now
        )
        reason = pre[0].reason.value if pre else "ok"
        if reason == "ok" and rules.account_cap is not None and person.account_id is not None:
            earlier = run_asked.get(person.account_id, set())
            others = {
                p.id for p in people if p.account_id == person.account_id and p.id != person.id
            }
            recent = set()
            since = now - rules.account_cap_window_days * DAY
            for other in others:
                other_history = load_history(db.session.get(Person, other), rules, now)
                if any(c.at > since for c in other_history.contacts):
                    recent.add(other)
            in_run = History(
                contacts=history.contacts,
                last_dismissed_at=history.last_dismissed_at,
                account_asked_at=history.account_asked_at
                + tuple(now for q in earlier if q not in recent),
            )
            again = engine.check(
                rules, facts_person, in_run, survey_id=survey_id, channel=plain, at=now
            )
            if again:
                assert again[0].reason == Reason.ACCOUNT_CAP
                out[person.id] = ("account_cap", "in run")
                continue
        if reason == "ok" and person.account_id is not None:
            run_asked.setdefault(person.account_id, set()).add(person.id)
        out[person.id] = (reason, until)
    return out


def _sql_view(
    rules: CadenceRules, people: list[Person], channel: Channel, survey_id: int
) -> dict[int, tuple]:
    temp_tables(db.engine.dialect.name == "postgresql")
    decide_chunk(survey_id, channel, rules, T0, sorted(p.id for p in people))
    rows = db.session.execute(
        text("SELECT person_id, reason, rules_ok_at FROM fanout_result")
    ).all()
    return {pid: (reason, ok_at) for pid, reason, ok_at in rows}


def _as_utc(value):
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _check(app: Flask, rules: CadenceRules, people_specs: list[dict], channel: Channel) -> None:
    with app.app_context():
        try:
            people, survey_id = _build(rules, people_specs)
            expected = _engine_view(rules, people, channel, survey_id)
            got = _sql_view(rules, people, channel, survey_id)
            assert set(got) == set(expected)
            for pid, (reason, until) in expected.items():
                sql_reason, sql_until = got[pid]
                assert sql_reason == reason, (pid, expected, got)
                if reason in (UNREACHABLE, ALREADY_INVITED, "suppressed") or until == "in run":
                    continue
                assert until is not None
                assert _as_utc(sql_until) == until, (pid, reason, sql_until, until)
        finally:
            db.session.rollback()
            if db.engine.dialect.name == "sqlite":
                db.session.execute(text("DROP TABLE IF EXISTS temp.fanout_result"))
                for table in reversed(db.metadata.sorted_tables):
                    db.session.execute(table.delete())
                db.session.commit()


@SETTINGS
@given(rules=rules_st, people=st.lists(person_st, min_size=1, max_size=7), channel=channel_st)
def test_set_based_decision_agrees_with_the_engine_on_postgresql(
    app: Flask, rules: CadenceRules, people: list[dict], channel: Channel
) -> None:
    _check(app, rules, people, channel)


@settings(SETTINGS, max_examples=40)
@given(rules=rules_st, people=st.lists(person_st, min_size=1, max_size=5), channel=channel_st)
def test_set_based_decision_agrees_with_the_engine_on_sqlite(
    sqlite_app: Flask, rules: CadenceRules, people: list[dict], channel: Channel
) -> None:
    _check(sqlite_app, rules, people, channel)
