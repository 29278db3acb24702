"""Quiet hours: the next send time inside the local window, across weekends and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.policy.quiet_hours import (
    SendWindow,
    describe_window,
    in_window,
    next_send_time,
    resolve_zone,
)

ALL_DAYS = frozenset(range(7))
DEFAULT = SendWindow()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "now", "expected", "why"),
    [
        # America/New_York: Friday after hours -> Monday 09:00, across spring-forward (EST->EDT).
        ("America/New_York", utc(2024, 3, 8, 22, 30), utc(2024, 3, 11, 13), "spring forward"),
        # ... and across fall-back (EDT -> EST): Monday 09:00 EST is 14:00 UTC.
        ("America/New_York", utc(2024, 11, 1, 22), utc(2024, 11, 4, 14), "fall back"),
        # Europe/Berlin: CET -> CEST on Sunday 2024-03-31; Monday 09:00 CEST = 07:00 UTC.
        ("Europe/Berlin", utc(2024, 3, 29, 17), utc(2024, 4, 1, 7), "spring forward"),
        # CEST -> CET on Sunday 2024-10-27; Monday 09:00 CET = 08:00 UTC.
        ("Europe/Berlin", utc(2024, 10, 25, 16), utc(2024, 10, 28, 8), "fall back"),
        # Asia/Kolkata (+05:30, no DST): Saturday -> Monday 09:00 IST = 03:30 UTC.
        ("Asia/Kolkata", utc(2024, 6, 1, 10), utc(2024, 6, 3, 3, 30), "half-hour offset"),
        ("Asia/Kolkata", utc(2024, 6, 3, 3, 29, 59), utc(2024, 6, 3, 3, 30), "a second early"),
        # Asia/Kathmandu (+05:45): Monday 08:00 local -> 09:00 local = 03:15 UTC.
        ("Asia/Kathmandu", utc(2024, 6, 3, 2, 15), utc(2024, 6, 3, 3, 15), "45-minute offset"),
        # Pacific/Auckland: NZST -> NZDT on Sunday 2024-09-29; Monday 09:00 NZDT = Sun 20:00 UTC.
        ("Pacific/Auckland", utc(2024, 9, 27, 5), utc(2024, 9, 29, 20), "spring forward"),
        # NZDT -> NZST on Sunday 2024-04-07; Monday 09:00 NZST = Sun 21:00 UTC.
        ("Pacific/Auckland", utc(2024, 4, 5, 5), utc(2024, 4, 7, 21), "fall back"),
        # A UTC Sunday evening is already Monday morning in Auckland: inside the window.
        ("Pacific/Auckland", utc(2024, 6, 2, 21, 30), utc(2024, 6, 2, 21, 30), "date ahead"),
        # UTC Monday morning is still Sunday in New York... and Monday in Kolkata.
        ("America/New_York", utc(2024, 6, 3, 2), utc(2024, 6, 3, 13), "date behind"),
        ("UTC", utc(2024, 6, 8, 12), utc(2024, 6, 10, 9), "weekend"),
        ("UTC", utc(2024, 6, 10, 17), utc(2024, 6, 11, 9), "end is exclusive"),
        ("UTC", utc(2024, 6, 10, 16, 59, 59, 999999), utc(2024, 6, 10, 16, 59, 59, 999999), "in"),
        ("UTC", utc(2024, 6, 10, 9), utc(2024, 6, 10, 9), "start is inclusive"),
        ("UTC", utc(2024, 6, 10, 8, 59, 59, 1), utc(2024, 6, 10, 9), "before start"),
    ],
)
def test_default_window(zone, now, expected, why):
    got = next_send_time(now, ZoneInfo(zone), DEFAULT)
    assert got == expected, why
    assert got.tzinfo is UTC
    assert in_window(got, ZoneInfo(zone), DEFAULT)


NY = ZoneInfo("America/New_York")


def test_window_start_inside_the_spring_forward_gap_opens_at_the_transition():
    # 2024-03-10 New York skips 02:00-03:00. A 02:30 start does not exist that night: the
    # first instant whose wall clock is past 02:30 is 03:00 EDT = 07:00 UTC.
    window = SendWindow(time(2, 30), time(17), ALL_DAYS)
    assert next_send_time(utc(2024, 3, 10, 6), NY, window) == utc(2024, 3, 10, 7)


def test_window_swallowed_by_the_gap_waits_for_the_next_day():
    # Berlin skips 02:00-03:00 on 2024-03-31: a 02:00-02:30 window does not happen that day.
    berlin = ZoneInfo("Europe/Berlin")
    window = SendWindow(time(2), time(2, 30), ALL_DAYS)
    # Monday 02:00 CEST = Sunday 00:00 UTC.
    assert next_send_time(utc(2024, 3, 31, 0, 30), berlin, window) == utc(2024, 4, 1, 0)


def test_ambiguous_window_start_takes_the_first_occurrence():
    # 2024-11-03 New York repeats 01:00-02:00; 01:30 first happens at 05:30 UTC (EDT).
    window = SendWindow(time(1, 30), time(17), ALL_DAYS)
    assert next_send_time(utc(2024, 11, 3, 5), NY, window) == utc(2024, 11, 3, 5, 30)


def test_fall_back_reopens_a_window_that_ends_in_the_repeated_hour():
    # Window 00:00-01:30. At 01:45 EDT it is closed, but at 06:00 UTC clocks go back to 01:00
    # EST, which is inside the window again until 01:30 EST (06:30 UTC).
    window = SendWindow(time(0), time(1, 30), ALL_DAYS)
    assert next_send_time(utc(2024, 11, 3, 5, 45), NY, window) == utc(2024, 11, 3, 6)
    assert in_window(utc(2024, 11, 3, 6, 29), NY, window)
    assert not in_window(utc(2024, 11, 3, 6, 30), NY, window)


def test_short_window_in_the_repeated_hour_opens_twice():
    # Window 01:30-01:40. At 01:45 EDT the first 01:30 has passed, but 01:30 happens again
    # after clocks go back: 01:30 EST = 06:30 UTC, the same night, not the next one.
    window = SendWindow(time(1, 30), time(1, 40), ALL_DAYS)
    assert next_send_time(utc(2024, 11, 3, 5, 45), NY, window) == utc(2024, 11, 3, 6, 30)


def test_lord_howe_half_hour_dst_gap():
    # Australia/Lord_Howe moves from +10:30 to +11 at 02:00 local on 2024-10-06 (15:30 UTC):
    # 02:00-02:30 is skipped, so a 02:15 start opens at the transition, local 02:30.
    zone = ZoneInfo("Australia/Lord_Howe")
    window = SendWindow(time(2, 15), time(17), ALL_DAYS)
    assert next_send_time(utc(2024, 10, 5, 15, 10), zone, window) == utc(2024, 10, 5, 15, 30)


def test_samoa_skipped_a_whole_day():
    # Pacific/Apia jumped from Thursday 2011-12-29 to Saturday 2011-12-31: no Friday there.
    apia = ZoneInfo("Pacific/Apia")
    fridays = SendWindow(time(9), time(17), frozenset({4}))
    got = next_send_time(utc(2011, 12, 29, 0), apia, fridays)
    assert got.astimezone(apia).date() == datetime(2012, 1, 6).date()


def test_single_weekday_can_be_six_days_away():
    saturdays = SendWindow(time(10), time(11), frozenset({5}))
    assert next_send_time(utc(2024, 6, 8, 11), ZoneInfo("UTC"), saturdays) == utc(2024, 6, 15, 10)


def test_resolve_zone_falls_back_with_a_note():
    zone, note = resolve_zone("Europe/Berlin", "UTC")
    assert zone.key == "Europe/Berlin" and note is None
    zone, note = resolve_zone(None, "America/Chicago")
    assert zone.key == "America/Chicago"
    assert note == "Time zone unknown; quiet hours applied in America/Chicago."
    zone, note = resolve_zone("Mars/Base", "UTC")
    assert zone.key == "UTC"
    assert "'Mars/Base' is not a known IANA name" in (note or "")
    zone, note = resolve_zone("../../etc/passwd", "UTC")
    assert zone.key == "UTC" and note


def test_describe_window():
    assert describe_window(DEFAULT) == "09:00-17:00, Mon-Fri"
    assert describe_window(SendWindow(time(8), time(20), ALL_DAYS)) == "08:00-20:00, every day"
    odd = SendWindow(time(8), time(9), frozenset({0, 2, 5, 6}))
    assert describe_window(odd) == "08:00-09:00, Mon, Wed, Sat, Sun"


def test_invalid_window():
    with pytest.raises(ValueError, match="earlier"):
        SendWindow(time(10), time(9))
    with pytest.raises(ValueError, match="weekday"):
        SendWindow(weekdays=frozenset())


# -- property: next_send_time equals a minute-by-minute scan ---------------------------------

ZONES = (
    "UTC",
    "America/New_York",
    "America/St_Johns",
    "America/Sao_Paulo",
    "Europe/Berlin",
    "Europe/London",
    "Africa/Casablanca",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tehran",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
)
#: (zone, an instant near one of its DST transitions): the property test starts near these.
TRANSITIONS = (
    ("America/New_York", utc(2024, 3, 10, 7)),
    ("America/New_York", utc(2024, 11, 3, 6)),
    ("America/St_Johns", utc(2023, 11, 5, 3, 30)),
    ("Europe/Berlin", utc(2024, 3, 31, 1)),
    ("Europe/Berlin", utc(2024, 10, 27, 1)),
    ("Europe/London", utc(2025, 3, 30, 1)),
    ("Africa/Casablanca", utc(2024, 3, 10, 2)),
    ("Africa/Casablanca", utc(2024, 4, 14, 2)),
    ("Asia/Tehran", utc(2021, 9, 21, 19, 30)),
    ("Australia/Lord_Howe", utc(2024, 4, 6, 15)),
    ("Australia/Lord_Howe", utc(2024, 10, 5, 15, 30)),
    ("Pacific/Auckland", utc(2024, 4, 6, 14)),
    ("Pacific/Auckland", utc(2024, 9, 28, 14)),
    ("Pacific/Chatham", utc(2024, 9, 28, 14)),
    ("America/Sao_Paulo", utc(2018, 11, 4, 3)),
)


@st.composite
def weekday_sets(draw: st.DrawFn) -> frozenset[int]:
    return draw(st.just(ALL_DAYS) | st.frozensets(st.integers(0, 6), min_size=1))


def minutes_to_time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[ZoneInfo, datetime, SendWindow]:
    """A zone, a whole-minute instant and a minute-aligned window.

    Half the time the instant is near one of the zone's DST transitions and the window opens
    near the local wall time of that transition, where gaps and repeated hours bite.
    """
    if draw(st.booleans()):
        name, anchor = draw(st.sampled_from(TRANSITIONS))
        zone = ZoneInfo(name)
        at = anchor + timedelta(
            minutes=draw(st.integers(-240, 60) | st.integers(-5 * 24 * 60, 2 * 24 * 60))
        )
        wall = anchor.astimezone(zone)
        around = wall.hour * 60 + wall.minute + draw(st.integers(-90, 30) | st.integers(-240, 240))
        start = min(max(around, 0), 24 * 60 - 2)
        end = draw(st.integers(start + 1, min(start + 120, 24 * 60 - 1)))
    else:
        zone = ZoneInfo(draw(st.sampled_from(ZONES)))
        at = utc(2005, 1, 1) + timedelta(minutes=draw(st.integers(0, 30 * 365 * 24 * 60)))
        start = draw(st.integers(0, 24 * 60 - 2))
        end = draw(st.integers(start + 1, 24 * 60 - 1))
    window = SendWindow(minutes_to_time(start), minutes_to_time(end), draw(weekday_sets()))
    return zone, at, window


def brute_force_next(at: datetime, zone: ZoneInfo, window: SendWindow) -> datetime:
    """The first whole minute at or after ``at`` inside the window (tzdata transitions and
    these windows fall on whole minutes, so the exact answer is one of them)."""
    probe = at
    for _ in range(16 * 24 * 60):
        local = probe.astimezone(zone)
        if local.weekday() in window.weekdays and window.start <= local.time() < window.end:
            return probe
        probe += timedelta(minutes=1)
    raise AssertionError("no window within 16 days")


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(0, 59))
def test_next_send_time_matches_a_minute_scan(scenario, seconds):
    zone, at, window = scenario
    got = next_send_time(at, zone, window)
    assert got == brute_force_next(at, zone, window)
    # From inside a minute, the answer is that instant (if inside) or the next whole minute.
    inside = at + timedelta(seconds=seconds)
    expected = (
        inside
        if in_window(inside, zone, window)
        else brute_force_next(at + timedelta(minutes=1), zone, window)
    )
    assert next_send_time(inside, zone, window) == expected
