"""The cadence policy engine: may this person be asked now, and if not, why and when?

Pure: plain values in (:mod:`app.policy.facts`, :mod:`app.policy.rules`), a
:class:`~app.policy.facts.Decision` out. No database, clock, queue or HTTP.

The rules, each evaluated at a candidate UTC instant ``t``. ``D(n)`` is ``n`` exact 24-hour
periods (``n * 86400`` seconds; in PostgreSQL ``make_interval(secs => n * 86400)``, not
``interval 'n days'``, which follows the session time zone across DST). A rule whose number
of days is ``0`` is off. "Contacts" are the person's invitations (at their send time, or
scheduled time while not yet sent) and widget displays, of any survey and channel, including
ones scheduled after ``t``; reminders are not contacts. Every rule refuses on a set of ``t``
that only shrinks as ``t`` grows, so each has a single threshold ``until``.

=================== ========================================== ==================================
reason              refuses at ``t`` when                      ``until`` (first ``t`` it passes)
=================== ========================================== ==================================
suppressed          the person has a suppression for the       never (``None``)
                    channel
min_tenure          ``signed_up_at`` known and                 ``signed_up_at + D(min_tenure)``
                    ``t < signed_up_at + D(min_tenure)``
yearly_cap          ``#{contacts: at > t - D(365)}             ``at`` of the ``yearly_cap``-th
                    >= yearly_cap``                            latest contact ``+ D(365)``
recurrence          some contact of *this survey* has          latest such ``at + D(recurrence)``
                    ``at > t - D(recurrence)``
recontact_period    some contact has ``at > t - D(recontact)`` latest ``at + D(recontact)``
dismissal_backoff   channel is ``widget`` and                  ``last_dismissed_at + D(backoff)``
                    ``last_dismissed_at > t - D(backoff)``
account_cap         ``account_cap`` set and ``#{other people   the ``account_cap``-th latest of
                    of the account whose latest contact        those times ``+ D(window)``
                    > t - D(window)} >= account_cap``
=================== ========================================== ==================================

Quiet hours (email and SMS only, see :mod:`app.policy.quiet_hours`) never refuse: they move
the send to the next instant inside the local window. The decision's ``reason`` is the first
refusing rule in ``REFUSAL_ORDER`` (the order of the table), so a SQL ``CASE`` in that order
yields the same per-reason counts.

:func:`earliest_eligible` is the fixed point of "jump past every refusing rule, then into the
send window": because every rule is monotone the loop ends after at most three rounds, and
the result is exact to the microsecond.
"""

from __future__ import annotations

from datetime import datetime

from app.policy import wording
from app.policy.facts import (
    QUIET_HOURS_CHANNELS,
    Channel,
    Decision,
    History,
    Person,
    PolicyInputError,
    Reason,
    Refusal,
    utc,
)
from app.policy.quiet_hours import SendWindow, describe_window, next_send_time, resolve_zone
from app.policy.rulebook import BY_REASON, RULES, Case, days
from app.policy.rules import CadenceRules

__all__ = ["check", "days", "decide", "decide_redisplay", "earliest_eligible"]

#: Rounds of the fixed point; three suffice for monotone rules, the rest is a safety margin.
_MAX_ROUNDS = 32


def _case(
    rules: CadenceRules,
    person: Person,
    history: History,
    survey_id: int,
    channel: Channel | str,
    *,
    redisplay: bool = False,
) -> Case:
    for name, value, kind in (
        ("rules", rules, CadenceRules),
        ("person", person, Person),
        ("history", history, History),
    ):
        if not isinstance(value, kind):
            raise PolicyInputError(name, f"expected {kind.__name__}, got {type(value).__name__}")
    try:
        channel = Channel(channel)
    except ValueError:
        raise PolicyInputError("channel", f"unknown channel {channel!r}") from None
    notes: list[str] = []
    zone = None
    if channel in QUIET_HOURS_CHANNELS and not redisplay:
        zone, note = resolve_zone(person.timezone, rules.default_timezone)
        notes.append(note or "")
    if not redisplay and rules.min_tenure_days and person.signed_up_at is None:
        notes.append("Sign-up date unknown; minimum tenure not applied.")
    if person.suppression is not None:  # nothing else was applied: nothing to explain
        notes.clear()
    contacts = tuple(sorted(history.contacts, key=lambda c: c.at, reverse=True))
    return Case(
        rules=rules,
        person=person,
        channel=channel,
        survey_id=survey_id,
        contacts=contacts,
        survey_contacts=tuple(c for c in contacts if c.survey_id == survey_id),
        account_asked_at=tuple(sorted(history.account_asked_at, reverse=True)),
        last_dismissed_at=history.last_dismissed_at,
        zone=zone,
        window=SendWindow.from_rules(rules),
        checks=_REDISPLAY_CHECKS if redisplay else _CHECKS,
        notes=tuple(note for note in notes if note),
    )


_CHECKS = tuple(rule.check for rule in RULES)
_REDISPLAY_CHECKS = (
    BY_REASON[Reason.SUPPRESSED].check,
    BY_REASON[Reason.DISMISSAL_BACKOFF].check,
)


def _refusals(case: Case, t: datetime) -> tuple[Refusal, ...]:
    return tuple(r for check_rule in case.checks if (r := check_rule(case, t)) is not None)


def _earliest(case: Case, start: datetime) -> datetime | None:
    t = start
    for _ in range(_MAX_ROUNDS):
        refusals = _refusals(case, t)
        if refusals:
            untils = [r.until for r in refusals]
            if any(u is None for u in untils):
                return None
            t = max(u for u in untils if u is not None)
            continue
        if case.zone is None:
            return t
        moved = next_send_time(t, case.zone, case.window)
        if moved == t:
            return t
        t = moved
    raise RuntimeError("cadence rules did not converge")  # pragma: no cover - rules are monotone


# -- public API ----------------------------------------------------------------------------


def check(
    rules: CadenceRules,
    person: Person,
    history: History,
    *,
    survey_id: int,
    channel: Channel | str,
    at: datetime,
) -> tuple[Refusal, ...]:
    """Every cadence rule that refuses a new ask at the instant ``at`` (quiet hours aside)."""
    return _refusals(_case(rules, person, history, survey_id, channel), utc("at", at))


def earliest_eligible(
    rules: CadenceRules,
    person: Person,
    history: History,
    *,
    survey_id: int,
    channel: Channel | str,
    not_before: datetime,
) -> datetime | None:
    """The earliest UTC instant ``>= not_before`` at which every rule passes, quiet hours
    included (for email and SMS); ``None`` when there is none (suppressed)."""
    case = _case(rules, person, history, survey_id, channel)
    return _earliest(case, utc("not_before", not_before))


def decide(
    rules: CadenceRules,
    person: Person,
    history: History,
    *,
    survey_id: int,
    channel: Channel | str,
    now: datetime,
) -> Decision:
    """May ``person`` be asked ``survey_id`` on ``channel`` as a new contact at ``now``?

    ``now`` is the moment the caller wants to send (the clock's now, or a planned time). See
    :class:`~app.policy.facts.Decision` for the meaning of each field.
    """
    return _decision(_case(rules, person, history, survey_id, channel), utc("now", now))


def decide_redisplay(
    rules: CadenceRules,
    person: Person,
    *,
    last_dismissed_at: datetime | None,
    now: datetime,
) -> Decision:
    """May the widget show an invitation that is already open (asked, not answered) again?

    Showing an open invitation again is like a reminder: it is not a new contact, so only the
    suppression and the dismissal backoff apply. This is what lets the widget come back after
    a 7-day backoff while an answer starts the (longer) recontact period.
    """
    history = History(last_dismissed_at=last_dismissed_at)
    case = _case(rules, person, history, 0, Channel.WIDGET, redisplay=True)
    return _decision(case, utc("now", now))


def _decision(case: Case, now: datetime) -> Decision:
    refusals = _refusals(case, now)
    next_at = _earliest(case, now)
    if refusals:
        message = " ".join(r.message for r in refusals)
        if next_at is None:
            message += " Not eligible while this lasts."
        else:
            message += f" Next eligible: {_moment(case, next_at, now)}."
        return Decision(
            allowed=False,
            reason=refusals[0].reason,
            message=message,
            send_at=None,
            next_eligible_at=next_at,
            refusals=refusals,
            notes=case.notes,
        )
    assert next_at is not None  # no refusal at now: the rules pass from now on
    if next_at == now:
        return Decision(True, Reason.OK, "May be asked now.", now, now, (), case.notes)
    assert case.zone is not None  # only quiet hours move an allowed send
    local_now = now.astimezone(case.zone)
    message = (
        f"Outside the send window ({describe_window(case.window)}, {case.zone.key}): it is "
        f"{wording.local_moment(local_now, now)} there. "
        f"Scheduled for {_moment(case, next_at, now)}."
    )
    return Decision(True, Reason.QUIET_HOURS, message, next_at, next_at, (), case.notes)


def _moment(case: Case, at: datetime, now: datetime) -> str:
    if case.zone is None:
        return wording.utc_moment(at, now)
    local = at.astimezone(case.zone)
    return f"{wording.local_moment(local, now)} local time ({wording.utc_moment(at, now)})"
