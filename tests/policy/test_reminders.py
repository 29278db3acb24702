"""The pure reminder policy (app.policy.reminders): send, wait or skip; the step's channel;
the next time to look. Plain values in, plain values out: no database."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.policy import lifecycle
from app.policy.quiet_hours import SendWindow, in_window, next_send_time
from app.policy.reminders import (
    Escalation,
    Timing,
    decide,
    earliest,
    next_look,
    step_channel,
)
from app.vocabulary import Channel, InvitationStatus
from channels.base import Step

MON = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
WINDOW = SendWindow()  # 09:00-17:00, Mon-Fri


def test_inside_the_window_it_sends() -> None:
    decision = decide(Step.REMINDER_1, MON, MON, MON + timedelta(days=3), LONDON, WINDOW)
    assert decision.timing == Timing.SEND


def test_outside_the_window_it_waits_for_it_to_open() -> None:
    friday_evening = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    decision = decide(
        Step.REMINDER_1, friday_evening, friday_evening, MON + timedelta(days=10), LONDON, WINDOW
    )
    assert decision.timing == Timing.WAIT
    assert decision.at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_not_before_its_planned_time() -> None:
    planned = MON + timedelta(hours=2)
    decision = decide(Step.REMINDER_2, planned, MON, MON + timedelta(days=3), LONDON, WINDOW)
    assert (decision.timing, decision.at) == (Timing.WAIT, planned)


def test_no_window_before_the_deadline_skips_with_a_reason() -> None:
    friday_evening = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    deadline = datetime(2026, 11, 22, 23, 59, 59, tzinfo=UTC)  # Sunday night
    decision = decide(
        Step.REMINDER_2, friday_evening, friday_evening, deadline, LONDON, WINDOW, "a note."
    )
    assert decision.timing == Timing.SKIP
    assert decision.reason == (
        "Reminder 2 was not sent: the send window (09:00-17:00, Mon-Fri, Europe/London) does "
        "not open between Fri Nov 20, 18:00 and the deadline, Sun Nov 22, 23:59. a note."
    )


def test_due_at_or_after_the_deadline_skips() -> None:
    deadline = MON + timedelta(days=1)
    decision = decide(Step.REMINDER_1, deadline, MON, deadline, LONDON, WINDOW)
    assert decision.timing == Timing.SKIP
    assert "at or after the deadline" in decision.reason


def test_earliest_keeps_the_gap_and_the_open_date() -> None:
    times = lifecycle.schedule(lifecycle.ReminderPlan(), MON, Channel.EMAIL)
    assert earliest(Step.INITIAL, times, None) == MON
    assert earliest(Step.REMINDER_1, times, None) == MON + timedelta(days=3)
    late = MON + timedelta(days=2, hours=20)  # the first message went out late
    assert earliest(Step.REMINDER_1, times, late) == late + lifecycle.MIN_GAP
    opens = MON + timedelta(days=5)
    assert earliest(Step.INITIAL, times, None, opens) == opens


def test_next_look_moves_the_next_step_into_the_window() -> None:
    times = lifecycle.schedule(
        lifecycle.ReminderPlan(), datetime(2026, 11, 18, 10, tzinfo=UTC), Channel.EMAIL
    )  # a Wednesday: reminder 1 on Saturday
    assert next_look(InvitationStatus.SENT, times, times.send_at, LONDON, WINDOW) == datetime(
        2026, 11, 23, 9, 0, tzinfo=UTC
    )
    assert next_look(InvitationStatus.REMINDED_2, times, MON, LONDON, WINDOW) == (times.deadline_at)
    assert next_look(InvitationStatus.RESPONDED, times, MON, LONDON, WINDOW) is None


def test_next_look_keeps_a_step_that_cannot_fit_due_so_its_skip_is_recorded() -> None:
    only_mondays = SendWindow(weekdays=frozenset({0}))
    times = lifecycle.Schedule(
        MON, MON + timedelta(days=3), MON + timedelta(days=7), MON + timedelta(days=8)
    )
    last = MON + timedelta(days=7)  # reminder 1 went out on the next Monday
    assert next_look(InvitationStatus.REMINDED_1, times, last, LONDON, only_mondays) == (
        last + lifecycle.MIN_GAP
    )


ALL_ESCALATIONS = [Escalation(*flags) for flags in itertools.product([False, True], repeat=4)]


@pytest.mark.parametrize("escalation", ALL_ESCALATIONS)
@pytest.mark.parametrize("step", [Step.INITIAL, Step.REMINDER_1, Step.REMINDER_2])
@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS])
def test_only_reminder_2_of_an_email_escalates_and_only_when_everything_allows(
    channel: Channel, step: Step, escalation: Escalation
) -> None:
    expected = (
        Channel.SMS
        if channel == Channel.EMAIL
        and step == Step.REMINDER_2
        and escalation.enabled
        and escalation.sms_enabled
        and escalation.mobile
        and not escalation.phone_suppressed
        else channel
    )
    assert step_channel(channel, step, escalation) == expected


ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "UTC"]


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    not_before=st.integers(0, 14 * 24 * 60),
    now=st.integers(0, 14 * 24 * 60),
    deadline=st.integers(0, 21 * 24 * 60),
    start=st.integers(0, 23),
    length=st.integers(1, 12),
    days=st.sets(st.integers(0, 6), min_size=1),
)
def test_decisions_agree_with_the_window_and_the_deadline(
    zone: str, not_before: int, now: int, deadline: int, start: int, length: int, days: set
) -> None:
    tz = ZoneInfo(zone)
    window = SendWindow(time(start), time(min(start + length, 23), 59), frozenset(days))
    t_nb, t_now, t_dl = (MON + timedelta(minutes=m) for m in (not_before, now, deadline))
    decision = decide(Step.REMINDER_1, t_nb, t_now, t_dl, tz, window)
    begin = max(t_nb, t_now)
    if decision.timing == Timing.SEND:
        assert begin <= t_now < t_dl and in_window(t_now, tz, window)
    elif decision.timing == Timing.WAIT:
        assert t_now < decision.at < t_dl and in_window(decision.at, tz, window)
        assert decision.at == next_send_time(begin, tz, window)
    else:
        assert begin >= t_dl or next_send_time(begin, tz, window) >= t_dl
        assert decision.reason
