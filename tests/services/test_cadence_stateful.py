"""Hypothesis drives random sequences of single invitations, campaigns, widget displays,
dismissals, events, suppressions and clock advances (with the sweeps) through the real
services on PostgreSQL; after every step the database shows that no rule was broken for
anyone.

The invariants read the planned times: an invitation at its ``scheduled_at``, a display at
its ``shown_at``. (The clock jumps by hours here, so a send can go out later than planned;
a late send is the sweep's delay, not a cadence decision.)
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select

from app.clock import FrozenClock
from app.db import db
from app.errors import AppError
from app.jobs.campaigns import cadence_sweep
from app.jobs.sweep import sweep
from app.models import (
    Campaign,
    Person,
    Survey,
    SurveyTrigger,
    WidgetDisplay,
)
from app.policy.rules import CadenceRules
from app.services import cadence_rules
from app.services.cadence import Throttled, store_refusal
from app.services.campaigns import create_campaign, record_event
from app.services.invitations import InvitationRequest, create_invitation
from app.services.suppressions import suppress
from app.services.widget_cadence import record_dismissal, record_widget_display
from app.vocabulary import Channel, SuppressionKind, SuppressionReason, Trigger
from tests.support.cadence import DAY, check_invariants
from tests.support.database import empty_database
from tests.support.factories import account_row, person_row, survey_row
from tests.support.settings import T0

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


def make_machine(app: Flask, clock: FrozenClock) -> type[RuleBasedStateMachine]:
    class Cadence(RuleBasedStateMachine):
        @initialize(rules=rules_st, delay=st.integers(0, 3), data=st.data())
        def setup(self, rules: CadenceRules, delay: int, data: st.DataObject) -> None:
            self.ctx = app.app_context()
            self.ctx.push()
            clock.set(T0)
            empty_database()
            now = clock.now()
            self.rules = rules
            cadence_rules.set_workspace_rules(rules.to_dict(), now)
            accounts = [account_row(now, f"A{i}") for i in range(2)]
            channels = {"enabled": ["email", "sms", "link", "widget"]}
            self.surveys = [survey_row(now, name, channels=channels) for name in ("S1", "S2")]
            db.session.flush()
            for i in range(PEOPLE):
                signed = data.draw(st.one_of(st.none(), st.integers(-10, 0)), label="signed")
                person_row(
                    now,
                    email=f"p{i}@x.example",
                    phone=f"+491511234560{i}",
                    account=accounts[i % 2],
                    timezone=ZONES[i % len(ZONES)],
                    signed_up_at=now + signed * DAY if signed is not None else None,
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


def test_no_rule_is_ever_broken(app: Flask, clock: FrozenClock) -> None:
    machine = make_machine(app, clock)
    machine.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    machine.TestCase().runTest()
