"""Quiet hours: email and SMS go out only inside a local send window.

An instant ``u`` is inside the window of a person in zone ``Z`` when its local wall time
``w = u.astimezone(Z)`` has ``w.weekday() in weekdays`` and ``start <= w.time() < end``. That
definition is the whole rule; everything here computes it exactly, DST included:

- a window start that does not exist locally (spring-forward gap) opens the window at the
  first instant after the gap, e.g. 02:30 on the night New York skips 02:00-03:00 becomes
  03:00 EDT;
- a wall time that happens twice (fall-back) is inside the window both times; the earliest
  qualifying instant wins;
- half-hour and 45-minute offsets (Asia/Kolkata, Asia/Kathmandu, Pacific/Chatham) and half-hour
  DST shifts (Australia/Lord_Howe) need no special case because only instants are compared.

For SQL: the window test is ``(u AT TIME ZONE tz)`` checked against the weekday
(``extract(isodow) - 1``) and the time of day. The *next* allowed time across DST gaps is
easier to get right here: for people who may be asked now it depends only on
``(timezone, now, rules)``, so compute :func:`next_send_time` once per distinct time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.policy.rules import WEEKDAY_NAMES, WORKDAYS, CadenceRules, parse_weekdays

__all__ = [
    "SendWindow",
    "describe_weekdays",
    "describe_window",
    "in_window",
    "next_send_time",
    "resolve_zone",
]

#: Offsets are sampled this far apart to find DST transitions (no zone changes twice in 2h).
_SCAN_STEP = timedelta(hours=2)
_DAY = timedelta(days=1)
#: Local days searched for the next window; a year covers any pathological zone history.
_SEARCH_DAYS = 400


@dataclass(frozen=True, slots=True)
class SendWindow:
    """``[start, end)`` local wall time on ``weekdays`` (0 = Monday)."""

    start: time = time(9, 0)
    end: time = time(17, 0)
    weekdays: frozenset[int] = WORKDAYS

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError("send window start must be earlier than its end")
        object.__setattr__(self, "weekdays", parse_weekdays("send_weekdays", self.weekdays))

    @classmethod
    def from_rules(cls, rules: CadenceRules) -> SendWindow:
        return cls(rules.send_window_start, rules.send_window_end, rules.send_weekdays)


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def resolve_zone(name: str | None, fallback: str) -> tuple[ZoneInfo, str | None]:
    """The person's zone, or ``fallback`` with a note saying why it was used."""
    if name:
        try:
            return _zone(name), None
        except (ZoneInfoNotFoundError, ValueError):
            return _zone(fallback), (
                f"Time zone {name!r} is not a known IANA name; quiet hours applied in {fallback}."
            )
    return _zone(fallback), f"Time zone unknown; quiet hours applied in {fallback}."


def in_window(at: datetime, zone: ZoneInfo, window: SendWindow) -> bool:
    """Whether the aware instant ``at`` falls inside the local send window."""
    local = at.astimezone(zone)
    return local.weekday() in window.weekdays and window.start <= local.time() < window.end


def next_send_time(at: datetime, zone: ZoneInfo, window: SendWindow) -> datetime:
    """The earliest instant ``>= at`` inside the window, in UTC (``at`` itself when inside).

    Exact to the microsecond: the window opens either when the wall clock reaches ``start``
    on an allowed day, or at a DST transition that makes the wall clock jump into the window;
    both kinds of instant are candidates and the earliest one inside the window wins.
    """
    at = at.astimezone(UTC)
    if in_window(at, zone, window):
        return at
    first_day = at.astimezone(zone).date() - _DAY
    best: datetime | None = None
    for offset in range(_SEARCH_DAYS):
        day = first_day + offset * _DAY
        if best is not None and day > best.astimezone(zone).date() + _DAY:
            break
        for candidate in _window_openings(day, zone, window):
            if candidate >= at and in_window(candidate, zone, window):
                best = candidate if best is None else min(best, candidate)
    if best is None:  # pragma: no cover - a valid window always opens within a year
        raise RuntimeError(f"no send window within {_SEARCH_DAYS} days in {zone.key}")
    for transition in _transitions(zone, at, best):
        if in_window(transition, zone, window):
            return min(best, transition)
    return best


def _window_openings(day: date, zone: ZoneInfo, window: SendWindow) -> tuple[datetime, ...]:
    """The instants whose wall time is ``day`` at ``window.start`` (two when it repeats)."""
    if day.weekday() not in window.weekdays:
        return ()
    wall = datetime.combine(day, window.start, tzinfo=zone)
    return (wall.astimezone(UTC), wall.replace(fold=1).astimezone(UTC))


def _offset(at: datetime, zone: ZoneInfo) -> timedelta | None:
    return at.astimezone(zone).utcoffset()


def _transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """UTC offset changes in ``(start, end]``, exact to the second (tzdata's resolution)."""
    found: list[datetime] = []
    left = start.replace(microsecond=0)
    left_offset = _offset(left, zone)
    while left < end:
        right = min(left + _SCAN_STEP, end + timedelta(seconds=1)).replace(microsecond=0)
        right_offset = _offset(right, zone)
        if right_offset != left_offset:
            lo, hi = 0, int((right - left).total_seconds())  # offset(lo) old, offset(hi) new
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset(left + timedelta(seconds=mid), zone) == left_offset:
                    lo = mid
                else:
                    hi = mid
            instant = left + timedelta(seconds=hi)
            if start < instant <= end:
                found.append(instant)
        left, left_offset = right, right_offset
    return found


def describe_window(window: SendWindow) -> str:
    """``"09:00-17:00, Mon-Fri"`` for messages."""
    return f"{window.start:%H:%M}-{window.end:%H:%M}, {describe_weekdays(window.weekdays)}"


def describe_weekdays(days: frozenset[int]) -> str:
    """``Mon-Fri``, ``Mon, Wed, Fri``, ``every day``."""
    if len(days) == 7:
        return "every day"
    ordered = sorted(days)
    runs: list[list[int]] = []
    for day in ordered:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        first, last = WEEKDAY_NAMES[run[0]].title(), WEEKDAY_NAMES[run[-1]].title()
        if len(run) == 1:
            parts.append(first)
        else:
            parts.append(f"{first}-{last}" if len(run) > 2 else f"{first}, {last}")
    return ", ".join(parts)
