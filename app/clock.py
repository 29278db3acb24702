"""The one place that reads the time, so tests can control it.

``now()`` is the application's clock: real UTC time, unless a test installed a
:class:`FrozenClock` on the app. SQL never calls the database's ``now()``; it is passed this
clock's value, so a controlled clock controls the queries too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, has_app_context

_EXTENSION = "sounding.clock"


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    """A clock that stands still until told to move (tests, the demo's history builder)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now


def install(app: Flask, clock: Clock) -> None:
    app.extensions[_EXTENSION] = clock


def init_app(app: Flask) -> None:
    app.extensions.setdefault(_EXTENSION, Clock())


def now() -> datetime:
    if has_app_context():
        clock: Clock = current_app.extensions[_EXTENSION]
        return clock.now()
    return datetime.now(UTC)
