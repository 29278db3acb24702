"""What no cadence rule may ever see broken, read back from the database (the property and
SQLite tests check it after their runs)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, bindparam, select, text

from app.db import UTCDateTime, db
from app.models import Invitation, Person, Suppression, WidgetDisplay
from app.policy.quiet_hours import SendWindow, in_window, resolve_zone
from app.policy.rules import CadenceRules
from app.vocabulary import Channel, SuppressionKind, SuppressionReason

DAY = timedelta(days=1)


def contacts_by_person() -> dict[int, list[tuple[datetime, int, str]]]:
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
    contacts = contacts_by_person()
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
