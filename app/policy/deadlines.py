"""Deadlines people can read: closing at the end of a day in their own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

DEFAULT_TIMEZONE = "UTC"
DEFAULT_LOCALE = "en"


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (KeyError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def end_of_local_day(moment: datetime, timezone: str | None) -> datetime:
    """The last second of the day ``moment`` falls on in ``timezone``, in UTC. A survey that
    "closes on Tuesday" stays open all Tuesday where the person lives."""
    tz = zone(timezone)
    local = moment.astimezone(tz)
    last = datetime.combine(local.date(), time(23, 59, 59), tzinfo=tz)
    return last.astimezone(UTC)


def deadline_after(start: datetime, days: int, timezone: str | None) -> datetime:
    return end_of_local_day(start + timedelta(days=days), timezone)


def _locale(name: str | None) -> Locale:
    try:
        return Locale.parse((name or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


def format_day(moment: datetime, timezone: str | None, locale: str | None) -> str:
    """The local day in the person's language, in full so it cannot be misread:
    "Tuesday, December 1, 2026" (en), "Tuesday, 1 December 2026" (en_GB),
    "mardi 1 décembre 2026" (fr)."""
    local = moment.astimezone(zone(timezone))
    return format_date(local.date(), "full", locale=_locale(locale))


def closes_on(deadline_at: datetime, timezone: str | None, locale: str | None) -> str:
    return f"This survey closes on {format_day(deadline_at, timezone, locale)}."
