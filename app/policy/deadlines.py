"""Deadlines people can read: closing at the end of a day in their own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time

from app.messages.i18n import parse_locale, translate

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


def _locale(name: str | None) -> Locale:
    return parse_locale(name or DEFAULT_LOCALE)


def format_day(moment: datetime, timezone: str | None, locale: str | None) -> str:
    """The local day in the person's language, in full so it cannot be misread:
    "Tuesday, December 1, 2026" (en), "Tuesday, 1 December 2026" (en_GB),
    "mardi 1 décembre 2026" (fr)."""
    local = moment.astimezone(zone(timezone))
    return format_date(local.date(), "full", locale=_locale(locale))


#: A deadline at or after this local time reads as the whole day ("closes on Tuesday").
_END_OF_DAY = time(23, 59)


def closes_on(deadline_at: datetime, timezone: str | None, locale: str | None) -> str:
    """The deadline as the person reads it, in their language and time zone: "This survey
    closes on Tuesday, 1 December 2026." A deadline that is not the end of the local day
    (a survey closing at 12:00) says the time too: "... on Tuesday, 1 December 2026 at 12:00."
    """
    local = deadline_at.astimezone(zone(timezone))
    day = format_day(deadline_at, timezone, locale)
    if local.time() >= _END_OF_DAY:
        return translate("This survey closes on {date}.", locale).format(date=day)
    at = format_time(local.time(), "short", locale=_locale(locale))
    return translate("This survey closes on {date} at {time}.", locale).format(date=day, time=at)
