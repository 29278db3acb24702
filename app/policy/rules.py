"""Cadence rules: the values an admin sets, their defaults, validation and per-survey overrides.

Workspace-wide rules are a :class:`CadenceRules`; a survey may override any of them with a
:class:`CadenceOverrides` whose ``None`` fields inherit the workspace value::

    effective = workspace_rules.merged(survey_overrides)

Every instance is validated when it is built: an invalid value raises :class:`InvalidRuleError`
(a ``ValueError``) that names the field, so the API can answer 4xx with
``{"error": {"code": "invalid", "message": ..., "field": ...}}``.

Units and conventions (the SQL that mirrors the engine must use the same ones):

- every ``*_days`` value is a number of exact 24-hour periods in UTC (``N * 86400`` seconds),
  never calendar days in a local zone; ``0`` switches that rule off;
- weekdays are ``0 = Monday ... 6 = Sunday`` (``date.weekday()``; PostgreSQL
  ``extract(isodow) - 1``);
- the send window is ``[send_window_start, send_window_end)`` in the person's local wall time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "MAX_COUNT",
    "MAX_DAYS",
    "WEEKDAY_NAMES",
    "WORKDAYS",
    "YEAR_DAYS",
    "CadenceOverrides",
    "CadenceRules",
    "InvalidRuleError",
    "parse_weekdays",
]

#: The yearly cap counts contacts in a rolling window of this many days.
YEAR_DAYS = 365
#: Upper bound of every ``*_days`` value (ten years): keeps date arithmetic far from overflow.
MAX_DAYS = 3650
#: Upper bound of the caps.
MAX_COUNT = 1_000_000

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORKDAYS: frozenset[int] = frozenset(range(5))

#: Inclusive bounds of the whole-number rules.
_INT_LIMITS: dict[str, tuple[int, int]] = {
    "recontact_days": (0, MAX_DAYS),
    "recurrence_days": (0, MAX_DAYS),
    "min_tenure_days": (0, MAX_DAYS),
    "yearly_cap": (1, MAX_COUNT),
    "account_cap": (1, MAX_COUNT),
    "account_cap_window_days": (1, MAX_DAYS),
    "dismissal_backoff_days": (0, MAX_DAYS),
}


class InvalidRuleError(ValueError):
    """A cadence rule value is invalid; ``field`` names it (API: 4xx with this field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _check_int(field: str, value: object) -> None:
    minimum, maximum = _INT_LIMITS[field]
    # bool is an int subclass; True days is a client bug, not 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidRuleError(field, f"must be a whole number, not {value!r}")
    if not minimum <= value <= maximum:
        raise InvalidRuleError(field, f"must be between {minimum} and {maximum}, not {value}")


def parse_weekdays(field: str, value: object) -> frozenset[int]:
    """Weekdays from ints (0 = Monday) or names (``"mon"``, ``"Monday"``); never empty."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidRuleError(field, "must be a list of weekdays (0 = Monday or 'mon')")
    days: set[int] = set()
    for item in value:
        if isinstance(item, str):
            key = item.strip().lower()[:3]
            if key not in WEEKDAY_NAMES or len(item.strip()) < 3:
                raise InvalidRuleError(field, f"unknown weekday {item!r}")
            days.add(WEEKDAY_NAMES.index(key))
        elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 6:
            days.add(item)
        else:
            raise InvalidRuleError(field, f"unknown weekday {item!r} (use 0 = Monday ... 6)")
    if not days:
        raise InvalidRuleError(field, "must allow at least one weekday")
    return frozenset(days)


def _parse_time(field: str, value: object) -> time:
    if isinstance(value, time):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = time.fromisoformat(value.strip())
        except ValueError:
            raise InvalidRuleError(field, f"must be a time like '09:00', not {value!r}") from None
    else:
        raise InvalidRuleError(field, f"must be a time like '09:00', not {value!r}")
    if parsed.tzinfo is not None:
        raise InvalidRuleError(field, "is a local wall time: give it without a UTC offset")
    return parsed


def _check_timezone(field: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidRuleError(field, "must be an IANA time zone name such as 'Europe/Berlin'")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRuleError(field, f"unknown time zone {value!r}") from None


@dataclass(frozen=True, slots=True)
class CadenceRules:
    """The effective cadence rules (workspace defaults, or merged with a survey's overrides)."""

    recontact_days: int = 30
    """No survey of any kind within N days of the person's latest contact."""
    recurrence_days: int = 90
    """The same survey at most once per person every N days."""
    min_tenure_days: int = 14
    """Not before N days after the person signed up (skipped when ``signed_up_at`` is unknown)."""
    yearly_cap: int = 4
    """At most N contacts per person in any rolling :data:`YEAR_DAYS` days."""
    account_cap: int | None = None
    """At most N distinct people of one account asked per window; ``None`` = unlimited."""
    account_cap_window_days: int = 7
    send_window_start: time = time(9, 0)
    """Local wall time from which email and SMS may go out (inclusive)."""
    send_window_end: time = time(17, 0)
    """Local wall time until which email and SMS may go out (exclusive)."""
    send_weekdays: frozenset[int] = WORKDAYS
    """Local weekdays on which email and SMS may go out (0 = Monday)."""
    dismissal_backoff_days: int = 7
    """After a widget dismissal, no widget survey for N days."""
    default_timezone: str = "UTC"
    """Quiet hours of people whose time zone is unknown (or not a valid IANA name)."""

    def __post_init__(self) -> None:
        for name in _INT_LIMITS:
            # account_cap is the one optional number: None means unlimited.
            if name != "account_cap" or self.account_cap is not None:
                _check_int(name, getattr(self, name))
        start = _parse_time("send_window_start", self.send_window_start)
        end = _parse_time("send_window_end", self.send_window_end)
        if start >= end:
            raise InvalidRuleError(
                "send_window_end",
                f"must be later than send_window_start ({start:%H:%M}); "
                "windows that span midnight are not supported",
            )
        object.__setattr__(self, "send_window_start", start)
        object.__setattr__(self, "send_window_end", end)
        object.__setattr__(
            self, "send_weekdays", parse_weekdays("send_weekdays", self.send_weekdays)
        )
        _check_timezone("default_timezone", self.default_timezone)

    def merged(self, overrides: CadenceOverrides | None) -> CadenceRules:
        """These rules with every field the overrides set (not ``None``) replaced; validated."""
        if overrides is None:
            return self
        changes = {
            f.name: getattr(overrides, f.name)
            for f in dataclasses.fields(overrides)
            if getattr(overrides, f.name) is not None
        }
        return dataclasses.replace(self, **changes) if changes else self

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CadenceRules:
        """Rules from JSON-like data (times as ``"09:00"``, weekdays as names or ints).

        Missing keys take the defaults; unknown keys raise :class:`InvalidRuleError`.
        """
        return cls(**_known_fields(cls, data))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, the inverse of :meth:`from_mapping`."""
        return _to_dict(self)


@dataclass(frozen=True, slots=True)
class CadenceOverrides:
    """A survey's own rules: every field that is not ``None`` replaces the workspace value.

    ``None`` always means "inherit", so a survey can change a workspace account cap but not
    lift it to unlimited.
    """

    recontact_days: int | None = None
    recurrence_days: int | None = None
    min_tenure_days: int | None = None
    yearly_cap: int | None = None
    account_cap: int | None = None
    account_cap_window_days: int | None = None
    send_window_start: time | None = None
    send_window_end: time | None = None
    send_weekdays: frozenset[int] | None = None
    dismissal_backoff_days: int | None = None
    default_timezone: str | None = None

    def __post_init__(self) -> None:
        # Validate each set field on its own (a window is only checked once merged, since a
        # survey may override one end of it).
        for name in _INT_LIMITS:
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name))
        for name in ("send_window_start", "send_window_end"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _parse_time(name, value))
        if self.send_weekdays is not None:
            object.__setattr__(
                self, "send_weekdays", parse_weekdays("send_weekdays", self.send_weekdays)
            )
        if self.default_timezone is not None:
            _check_timezone("default_timezone", self.default_timezone)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CadenceOverrides:
        """Overrides from JSON-like data; absent or ``null`` keys inherit."""
        return cls(**_known_fields(cls, data))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with only the fields that are set."""
        return {k: v for k, v in _to_dict(self).items() if v is not None}


def _known_fields(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidRuleError("rules", "must be an object")
    names = {f.name for f in dataclasses.fields(cls)}
    for key in data:
        if key not in names:
            raise InvalidRuleError(str(key), "is not a cadence rule")
    return dict(data)


def _to_dict(rules: CadenceRules | CadenceOverrides) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(rules):
        value = getattr(rules, f.name)
        if isinstance(value, time):
            whole_minute = not value.second and not value.microsecond
            value = value.isoformat(timespec="minutes" if whole_minute else "auto")
        elif isinstance(value, frozenset):
            value = sorted(value)
        out[f.name] = value
    return out
