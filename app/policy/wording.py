"""Readable English for decisions: dates, "12 days ago", local times.

Locale-independent on purpose (no ``strftime('%b')``, which follows ``LC_TIME``): the stored
decision reads the same on every machine.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["day", "iso", "local_moment", "plural", "relative", "utc_moment"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY = timedelta(days=1)


def iso(value: datetime | None) -> str | None:
    """A time as every JSON body and stored decision writes it: ISO 8601, UTC, ``Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value is not None else None


def day(at: datetime, now: datetime) -> str:
    """``Nov 3`` (UTC date), with the year when it is not ``now``'s year."""
    at, now = at.astimezone(UTC), now.astimezone(UTC)
    text = f"{_MONTHS[at.month - 1]} {at.day}"
    return text if at.year == now.year else f"{text}, {at.year}"


def utc_moment(at: datetime, now: datetime) -> str:
    """``Nov 3, 14:00 UTC`` (year added when it differs from ``now``'s)."""
    return f"{day(at, now)}, {at.astimezone(UTC):%H:%M} UTC"


def local_moment(local: datetime, now: datetime) -> str:
    """``Mon Nov 4, 09:00`` for an aware local datetime (year added when not ``now``'s)."""
    text = f"{_WEEKDAYS[local.weekday()]} {_MONTHS[local.month - 1]} {local.day}"
    if local.year != now.astimezone(local.tzinfo).year:
        text += f" {local.year}"
    return f"{text}, {local:%H:%M}"


def relative(at: datetime, now: datetime) -> str:
    """``12 days ago``, ``less than a day ago``, ``in 3 days``: whole 24-hour periods."""
    if at <= now:
        days = (now - at) // _DAY
        if days == 0:
            return "less than a day ago"
        return "1 day ago" if days == 1 else f"{days} days ago"
    days = (at - now) // _DAY
    if days == 0:
        return "in less than a day"
    return "in 1 day" if days == 1 else f"in {days} days"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
