"""Hypothesis drives random sequences of single invitations, campaigns, widget displays,
dismissals, events, suppressions and clock advances (with the sweeps) through the real
services on PostgreSQL; after every step the database shows that no rule was broken for
anyone.

The invariants read the planned times: an invitation at its ``scheduled_at``, a display at
its ``shown_at``. (The clock jumps by hours here, so a send can go out later than planned;
a late send is the sweep's delay, not a cadence decision.)
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import datetime, timedelta

from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import Integer, String, bindparam, select, text

from app.clock import FrozenClock
from app.db import UTCDateTime, db
from app.errors import AppError
from app.jobs.campaigns import cadence_sweep
from app.jobs.sweep import sweep
from app.models import (
    Account,
    Campaign,
    Invitation,
    Person,
    Suppression,
    Survey,
    SurveyTrigger,
    WidgetDisplay,
)
from app.policy.quiet_hours import SendWindow, in_window, resolve_zone
from app.policy.rules import CadenceRules
from app.services import cadence_rules
from app.services.cadence import Throttled, store_refusal
from app.services.campaigns import create_campaign, record_event
from app.services.invitations import InvitationRequest, create_invitation
from app.services.suppressions import suppress
from app.services.widget_cadence import record_dismissal, record_widget_display
from app.vocabulary import Channel, SuppressionKind, SuppressionReason, Trigger
from tests.conftest import T0

DAY = timedelta(days=1)
PEOPLE = 6
ZONES = ["Europe/Berlin", "America/New_York", None, "Asia/Kolkata"]

rules_st = st.builds(
    CadenceRules,
    recontact_days=st.integers(0, 10),
    recurrence_days=st.integers(0, 20),
    min_tenure_days=st.integers(0, 5),
    yearly_cap=st.integers(1, 4),
    account_cap=st.one_of(st.none(), st.integers(1, 2)),
    account_cap_window_days=st.integers(1, 5),
    dismissal_backoff_days=st.integers(0, 4),
)


def _truncate() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


def make_machine(app: Flask, clock: FrozenClock) -> type[RuleBasedStateMachine]:
    class Cadence(RuleBasedStateMachine):
        @initialize(rules=rules_st, delay=st.integers(0, 3), data=st.data())
        def setup(self, rules: CadenceRules, delay: int, data: st.DataObject) -> None:
            self.ctx = app.app_context()
            self.ctx.push()
            clock.set(T0)
            _truncate()
            now = clock.now()
            self.rules = rules
            cadence_rules.set_workspace_rules(rules.to_dict(), now)
            accounts = [Account(name=f"A{i}", created_at=now) for i in range(2)]
            db.session.add_all(accounts)
            self.surveys = []
            for name in ("S1", "S2"):
                survey = Survey(
                    name=name,
                    question="?",
                    channels={"enabled": ["email", "sms", "link", "widget"]},
                    created_at=now,
                    updated_at=now,
                )
                db.session.add(survey)
                self.surveys.append(survey)
            db.session.flush()
            for i in range(PEOPLE):
                signed = data.draw(st.one_of(st.none(), st.integers(-10, 0)), label="signed")
                db.session.add(
                    Person(
                        email=f"p{i}@x.example",
                        phone=f"+491511234560{i}",
                        account=accounts[i % 2],
                        timezone=ZONES[i % len(ZONES)],
                        signed_up_at=now + signed * DAY if signed is not None else None,
                        properties={},
                        first_seen_at=now,
                        created_at=now,
                        updated_at=now,
                    )
                )
            db.session.add_all(
                [
                    SurveyTrigger(
                        survey_id=self.surveys[1].id,
                        kind="event",
                        channel=Channel.EMAIL,
                        audience={},
                        event_name="upgraded",
                        delay_days=delay,
                        created_at=now,
                        updated_at=now,
                    ),
                    SurveyTrigger(
                        survey_id=self.surveys[0].id,
                        kind="recurring",
                        channel=Channel.LINK,
                        audience={"all": True},
                        every_days=7,
                        created_at=now,
                        updated_at=now,
                    ),
                ]
            )
            db.session.commit()
            self.people = [p.id for p in db.session.scalars(select(Person).order_by(Person.id))]
            self.survey_ids = [s.id for s in self.surveys]

        def teardown(self) -> None:
            if hasattr(self, "ctx"):
                db.session.rollback()
                self.ctx.pop()

        def _refused(self, error: AppError) -> None:
            db.session.rollback()
            if isinstance(error, Throttled):
                store_refusal(error)
                db.session.commit()

        @rule(
            person=st.integers(0, PEOPLE - 1),
            survey=st.integers(0, 1),
            channel=st.sampled_from([Channel.EMAIL, Channel.SMS, Channel.LINK]),
            later=st.one_of(st.none(), st.integers(1, 72)),
        )
        def invite(self, person: int, survey: int, channel: Channel, later: int | None) -> None:
            now = clock.now()
            try:
                create_invitation(
                    InvitationRequest(
                        survey=db.session.get(Survey, self.survey_ids[survey]),
                        person=db.session.get(Person, self.people[person]),
                        channel=channel,
                        trigger=Trigger.API,
                        send_at=now + timedelta(hours=later) if later else None,
                    ),
                    now,
                )
                db.session.commit()
            except AppError as error:
                self._refused(error)

        @rule(
            survey=st.integers(0, 1),
            channel=st.sampled_from([Channel.EMAIL, Channel.SMS, Channel.LINK]),
            account=st.sampled_from([None, 0, 1]),
        )
        def campaign(self, survey: int, channel: Channel, account: int | None) -> None:
            audience = {"all": True} if account is None else {"person_ids": self._of(account)}
            create_campaign(
                db.session.get(Survey, self.survey_ids[survey]), channel, audience, clock.now()
            )
            db.session.commit()  # the fan-out runs in-process right after
            assert db.session.scalars(select(Campaign.status)).all()[-1] == "done"

        def _of(self, account: int) -> list[int]:
            return [pid for i, pid in enumerate(self.people) if i % 2 == account]

        @rule(person=st.integers(0, PEOPLE - 1), survey=st.integers(0, 1))
        def widget(self, person: int, survey: int) -> None:
            try:
                record_widget_display(
                    db.session.get(Person, self.people[person]),
                    db.session.get(Survey, self.survey_ids[survey]),
                    clock.now(),
                )
                db.session.commit()
            except AppError as error:
                self._refused(error)

        @rule(person=st.integers(0, PEOPLE - 1))
        def dismiss(self, person: int) -> None:
            display = db.session.scalar(
                select(WidgetDisplay)
                .where(WidgetDisplay.person_id == self.people[person])
                .order_by(WidgetDisplay.shown_at.desc())
                .limit(1)
            )
            if display is not None:
                record_dismissal(display.display_id, clock.now())
                db.session.commit()

        @rule(person=st.integers(0, PEOPLE - 1))
        def event(self, person: int) -> None:
            record_event(
                db.session.get(Person, self.people[person]),
                "upgraded",
                clock.now(),
                {},
                clock.now(),
            )
            db.session.commit()

        @rule(person=st.integers(0, PEOPLE - 1), kind=st.sampled_from(["email", "phone", "manual"]))
        def suppression(self, person: int, kind: str) -> None:
            who = db.session.get(Person, self.people[person])
            if kind == "phone":
                suppress(SuppressionKind.PHONE, who.phone, SuppressionReason.SMS_STOP, clock.now())
            else:
                reason = (
                    SuppressionReason.MANUAL if kind == "manual" else SuppressionReason.UNSUBSCRIBED
                )
                suppress(SuppressionKind.EMAIL, who.email, reason, clock.now())
            db.session.commit()

        @rule(hours=st.integers(1, 24 * 12))
        def advance(self, hours: int) -> None:
            clock.advance(hours=hours)
            sweep()
            cadence_sweep()
            db.session.commit()

        @invariant()
        def no_rule_is_broken(self) -> None:
            if not hasattr(self, "rules"):
                return
            check_invariants(self.rules)

    return Cadence


def _contacts() -> dict[int, list[tuple[datetime, int, str]]]:
    rows = db.session.execute(
        text(
            "SELECT person_id, survey_id, scheduled_at AS at, 'invitation' AS kind "
            "FROM invitation "
            "WHERE sent_at IS NOT NULL OR status IN ('scheduled','sending','needs_review') "
            "UNION ALL SELECT person_id, survey_id, shown_at, 'widget' FROM widget_display"
        ).columns(person_id=Integer, survey_id=Integer, at=UTCDateTime(), kind=String)
    ).all()
    out: dict[int, list[tuple[datetime, int, str]]] = defaultdict(list)
    for person_id, survey_id, at, kind in rows:
        out[person_id].append((at, survey_id, kind))
    for contacts in out.values():
        contacts.sort()
    return out


def check_invariants(rules: CadenceRules) -> None:
    contacts = _contacts()
    people = {p.id: p for p in db.session.scalars(select(Person))}
    for person_id, mine in contacts.items():
        person = people[person_id]
        times = [at for at, _, _ in mine]
        for earlier, later in itertools.pairwise(times):
            assert later - earlier >= rules.recontact_days * DAY, ("recontact", mine)
        by_survey: dict[int, list[datetime]] = defaultdict(list)
        for at, survey_id, _ in mine:
            by_survey[survey_id].append(at)
        for survey_times in by_survey.values():
            for earlier, later in itertools.pairwise(survey_times):
                assert later - earlier >= rules.recurrence_days * DAY, ("recurrence", mine)
        for at in times:
            in_year = [t for t in times if at <= t < at + 365 * DAY]
            assert len(in_year) <= rules.yearly_cap, ("yearly cap", mine)
            if person.signed_up_at is not None:
                assert at >= person.signed_up_at + rules.min_tenure_days * DAY, ("tenure", mine)
    displays = db.session.execute(
        select(WidgetDisplay.person_id, WidgetDisplay.shown_at, WidgetDisplay.dismissed_at)
    ).all()
    for person_id, _, dismissed in displays:
        if dismissed is None:
            continue
        for other_person, shown, _ in displays:
            if other_person == person_id and shown > dismissed:
                assert shown >= dismissed + rules.dismissal_backoff_days * DAY, "dismissal"
    if rules.account_cap is not None:
        window = rules.account_cap_window_days * DAY
        members: dict[int, list[int]] = defaultdict(list)
        for person in people.values():
            members[person.account_id].append(person.id)
        for ids in members.values():
            starts = [at for pid in ids for at, _, _ in contacts.get(pid, [])]
            for start in starts:
                asked = {
                    pid
                    for pid in ids
                    if any(start <= at < start + window for at, _, _ in contacts.get(pid, []))
                }
                assert len(asked) <= rules.account_cap, ("account cap", start, asked)
    for suppression in db.session.scalars(select(Suppression)):
        column = "email" if suppression.kind == SuppressionKind.EMAIL else "phone"
        channel = "email" if column == "email" else "sms"
        only = "" if suppression.reason == SuppressionReason.MANUAL else " AND i.channel = :channel"
        late = db.session.scalar(
            text(
                f"SELECT count(*) FROM invitation i JOIN person p ON p.id = i.person_id "  # noqa: S608
                f"WHERE p.{column} = :value AND i.created_at > :at{only}"
            ).bindparams(bindparam("at", type_=UTCDateTime())),
            {"value": suppression.value, "at": suppression.created_at, "channel": channel},
        )
        assert late == 0, ("suppressed", suppression.value)
    window = SendWindow.from_rules(rules)
    for invitation in db.session.scalars(
        select(Invitation).where(Invitation.channel.in_([Channel.EMAIL, Channel.SMS]))
    ):
        zone, _ = resolve_zone(people[invitation.person_id].timezone, rules.default_timezone)
        assert in_window(invitation.scheduled_at, zone, window), "quiet hours"


def test_no_rule_is_ever_broken(app: Flask, clock: FrozenClock) -> None:
    machine = make_machine(app, clock)
    machine.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    machine.TestCase().runTest()
