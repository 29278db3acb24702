"""Property tests: the engine agrees with the rules written out one by one, on random facts.

``failing_rules`` and ``in_send_window`` below restate each rule from the issue directly (no
engine code), so they are also the reference for the set-based SQL the fan-out will use.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.policy.cadence import decide, earliest_eligible
from app.policy.facts import REFUSAL_ORDER, Channel, Contact, ContactKind, History, Person, Reason
from app.policy.rules import CadenceRules

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# -- the rules, restated ---------------------------------------------------------------------


def failing_rules(
    rules: CadenceRules, person: Person, history: History, survey_id: int, channel: str, t
) -> set[Reason]:
    """The cadence rules (quiet hours aside) that refuse a new ask at instant ``t``."""
    failing = set()
    if person.suppression is not None:
        failing.add(Reason.SUPPRESSED)
    if (
        rules.min_tenure_days
        and person.signed_up_at is not None
        and t < person.signed_up_at + rules.min_tenure_days * DAY
    ):
        failing.add(Reason.MIN_TENURE)
    if sum(1 for c in history.contacts if c.at > t - 365 * DAY) >= rules.yearly_cap:
        failing.add(Reason.YEARLY_CAP)
    if rules.recurrence_days and any(
        c.survey_id == survey_id and c.at > t - rules.recurrence_days * DAY
        for c in history.contacts
    ):
        failing.add(Reason.RECURRENCE)
    if rules.recontact_days and any(
        c.at > t - rules.recontact_days * DAY for c in history.contacts
    ):
        failing.add(Reason.RECONTACT_PERIOD)
    if (
        channel == "widget"
        and rules.dismissal_backoff_days
        and history.last_dismissed_at is not None
        and history.last_dismissed_at > t - rules.dismissal_backoff_days * DAY
    ):
        failing.add(Reason.DISMISSAL_BACKOFF)
    if rules.account_cap is not None:
        since = t - rules.account_cap_window_days * DAY
        if sum(1 for at in history.account_asked_at if at > since) >= rules.account_cap:
            failing.add(Reason.ACCOUNT_CAP)
    return failing


def zone_of(rules: CadenceRules, person: Person) -> ZoneInfo:
    try:
        return ZoneInfo(person.timezone or rules.default_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(rules.default_timezone)


def in_send_window(rules: CadenceRules, person: Person, channel: str, t: datetime) -> bool:
    """Quiet hours hold at ``t`` (trivially for channels they do not apply to)."""
    if channel not in ("email", "sms"):
        return True
    local = t.astimezone(zone_of(rules, person))
    return (
        local.weekday() in rules.send_weekdays
        and rules.send_window_start <= local.time() < rules.send_window_end
    )


def eligible(rules, person, history, survey_id, channel, t) -> bool:
    return not failing_rules(rules, person, history, survey_id, channel, t) and in_send_window(
        rules, person, channel, t
    )


# -- random facts ----------------------------------------------------------------------------

ZONES = (
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Africa/Casablanca",
)
#: Instants near DST transitions (New York, Berlin, Auckland, Lord Howe) to start from.
NEAR_TRANSITIONS = tuple(
    datetime(*args, tzinfo=UTC)
    for args in (
        (2024, 3, 10, 7),
        (2024, 11, 3, 6),
        (2024, 3, 31, 1),
        (2024, 10, 27, 1),
        (2024, 4, 6, 14),
        (2024, 9, 28, 14),
        (2024, 10, 5, 15, 30),
    )
)


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    if draw(st.booleans()):
        base = draw(st.sampled_from(NEAR_TRANSITIONS))
        return base + timedelta(seconds=draw(st.integers(-40 * 86400, 3 * 86400)))
    minute = draw(st.integers(0, 20 * 365 * 24 * 60))
    return datetime(2015, 1, 1, tzinfo=UTC) + minute * MINUTE


def minute_time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


@st.composite
def cadence_rules(draw: st.DrawFn) -> CadenceRules:
    if draw(st.booleans()):
        return CadenceRules(default_timezone=draw(st.sampled_from(ZONES)))
    start = draw(st.integers(0, 24 * 60 - 2))
    end = draw(st.integers(start + 1, 24 * 60 - 1))
    return CadenceRules(
        recontact_days=draw(st.integers(0, 45)),
        recurrence_days=draw(st.integers(0, 120)),
        min_tenure_days=draw(st.integers(0, 30)),
        yearly_cap=draw(st.integers(1, 6)),
        account_cap=draw(st.none() | st.integers(1, 5)),
        account_cap_window_days=draw(st.integers(1, 14)),
        send_window_start=minute_time(start),
        send_window_end=minute_time(end),
        send_weekdays=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        dismissal_backoff_days=draw(st.integers(0, 14)),
        default_timezone=draw(st.sampled_from(ZONES)),
    )


def offsets(low_days: int, high_days: int) -> st.SearchStrategy[timedelta]:
    """Offsets from now, in whole minutes or to the second."""
    return st.integers(low_days * 86400, high_days * 86400).map(
        lambda s: timedelta(seconds=s)
    ) | st.integers(low_days * 1440, high_days * 1440).map(lambda m: m * MINUTE)


@st.composite
def situations(draw: st.DrawFn):
    now = draw(instants())
    rules = draw(cadence_rules())
    timezone = draw(st.none() | st.sampled_from((*ZONES, "Not/AZone")))
    signed_up = draw(st.none() | offsets(-40, 5).map(lambda d: now + d))
    suppression = draw(st.none() | st.none() | st.none() | st.sampled_from(("bounced", "sms_stop")))
    contacts = draw(
        st.lists(
            st.builds(
                Contact,
                at=offsets(-400, 20).map(lambda d: now + d),
                survey_id=st.integers(1, 3),
                kind=st.sampled_from(ContactKind),
            ),
            max_size=8,
        )
    )
    history = History(
        contacts=tuple(contacts),
        last_dismissed_at=draw(st.none() | offsets(-20, 1).map(lambda d: now + d)),
        account_asked_at=tuple(draw(st.lists(offsets(-10, 1).map(lambda d: now + d), max_size=7))),
    )
    person = Person(timezone=timezone, signed_up_at=signed_up, suppression=suppression)
    channel = draw(st.sampled_from([c.value for c in Channel]))
    survey_id = draw(st.integers(1, 3))
    return rules, person, history, survey_id, channel, now


def decide_for(situation, now=None):
    rules, person, history, survey_id, channel, at = situation
    return decide(rules, person, history, survey_id=survey_id, channel=channel, now=now or at)


# -- properties ------------------------------------------------------------------------------


@SETTINGS
@given(situations())
def test_a_decision_agrees_with_every_rule_checked_on_its_own(situation):
    """(a) Allowed at t means every rule holds at t; refused means exactly the failing rules."""
    rules, person, history, survey_id, channel, now = situation
    decision = decide_for(situation)
    failing_now = failing_rules(rules, person, history, survey_id, channel, now)
    if decision.allowed:
        assert not failing_now
        assert decision.send_at is not None
        assert not failing_rules(rules, person, history, survey_id, channel, decision.send_at)
        assert in_send_window(rules, person, channel, decision.send_at)
        if decision.reason is Reason.OK:
            assert decision.send_at == now
        else:
            assert decision.reason is Reason.QUIET_HOURS
            assert not in_send_window(rules, person, channel, now)
    else:
        assert {r.reason for r in decision.refusals} == failing_now
        assert decision.reason == next(r for r in REFUSAL_ORDER if r in failing_now)
        assert [r.reason for r in decision.refusals] == [
            r for r in REFUSAL_ORDER if r in failing_now
        ]
        assert decision.send_at is None
        assert all(r.message for r in decision.refusals)
        for refusal in decision.refusals:  # each rule's own "until" is where it alone passes
            if refusal.until is not None:
                rest = failing_rules(rules, person, history, survey_id, channel, refusal.until)
                assert refusal.reason not in rest
                before = refusal.until - timedelta(microseconds=1)
                assert refusal.reason in failing_rules(
                    rules, person, history, survey_id, channel, before
                )


@SETTINGS
@given(situations(), st.randoms(use_true_random=False))
def test_next_eligible_is_eligible_and_nothing_earlier_is(situation, rnd: random.Random):
    """(b) next_eligible_at passes every rule, and no sampled earlier instant does."""
    rules, person, history, survey_id, channel, now = situation
    decision = decide_for(situation)
    nxt = decision.next_eligible_at
    assert nxt == earliest_eligible(
        rules, person, history, survey_id=survey_id, channel=channel, not_before=now
    )
    if person.suppression is not None:
        assert nxt is None
        return
    assert nxt is not None and nxt >= now
    assert eligible(rules, person, history, survey_id, channel, nxt)

    def never_before(t: datetime) -> None:
        if now <= t < nxt:
            assert not eligible(rules, person, history, survey_id, channel, t), t

    # Every instant where some rule or the window could change, just before it...
    for refusal in decision.refusals:
        if refusal.until is not None:
            never_before(refusal.until - timedelta(microseconds=1))
            never_before(refusal.until)
    never_before(now)
    never_before(nxt - timedelta(microseconds=1))
    # ...the minutes next to both ends...
    for k in range(120):
        never_before(now + k * MINUTE)
        never_before(nxt - (k + 1) * MINUTE)
    # ...and a sample of whole minutes in between.
    span = int((nxt - now) / MINUTE)
    for _ in range(min(span, 300)):
        never_before(now + rnd.randrange(span + 1) * MINUTE)


@SETTINGS
@given(situations())
def test_send_at_is_inside_the_local_window_and_not_before_now(situation):
    """(c) The send time is never in the past and, for email and SMS, inside quiet hours."""
    rules, person, _history, _survey_id, channel, now = situation
    decision = decide_for(situation)
    if not decision.allowed:
        return
    assert decision.send_at is not None and decision.send_at >= now
    assert decision.send_at == decision.next_eligible_at
    if channel in ("email", "sms"):
        local = decision.send_at.astimezone(zone_of(rules, person))
        assert local.weekday() in rules.send_weekdays
        assert rules.send_window_start <= local.time() < rules.send_window_end
    else:
        assert decision.send_at == now


@SETTINGS
@given(situations(), st.sampled_from(("unsubscribed", "bounced", "spam_report", "sms_stop")))
def test_suppression_always_refuses(situation, reason):
    """(d) Whatever else is true, a suppressed person is refused for good."""
    rules, person, history, survey_id, channel, now = situation
    suppressed = Person(person.timezone, person.signed_up_at, suppression=reason)
    decision = decide(rules, suppressed, history, survey_id=survey_id, channel=channel, now=now)
    assert not decision.allowed
    assert decision.reason is Reason.SUPPRESSED
    assert decision.next_eligible_at is None and decision.send_at is None
    assert decision.refusals[0].until is None


@SETTINGS
@given(situations())
def test_asking_at_next_eligible_is_allowed_at_once(situation):
    """The fixed point is stable: deciding again at next_eligible_at says "ok, now"."""
    decision = decide_for(situation)
    if decision.next_eligible_at is None:
        return
    again = decide_for(situation, now=decision.next_eligible_at)
    assert again.reason is Reason.OK
    assert again.send_at == decision.next_eligible_at
