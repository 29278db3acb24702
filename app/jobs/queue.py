"""Enqueueing work only after the database commits (docs/architecture.md, "Decisions", 4).

Code inside a transaction calls :func:`enqueue_after_commit`; the call is kept on the session
and handed to the queue backend by the session's ``after_commit`` event, or dropped on
rollback. Two backends:

- :class:`RQBackend` (``REDIS_URL`` set): one ``enqueue_many`` per commit, on queues named by
  purpose (``email``, ``sms``, ``default``).
- :class:`InlineBackend` (no Redis): the job runs in this process right after the commit, in
  its own app context (so its own session). Jobs it starts run after it, not inside it.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

QUEUES = ("email", "sms", "default")
_PENDING = "sounding.pending_jobs"
_EXTENSION = "sounding.jobs"


@dataclass(frozen=True, slots=True)
class JobCall:
    func: Callable[..., Any]
    args: tuple[Any, ...]
    queue: str


class Backend(Protocol):
    name: str

    def dispatch(self, calls: Iterable[JobCall]) -> None: ...


class RQBackend:
    name = "rq"

    def __init__(self, redis_url: str, retries: int = 3) -> None:
        from redis import Redis

        self.connection = Redis.from_url(redis_url)
        self.retries = retries

    def queue(self, name: str) -> Any:
        from rq import Queue

        return Queue(name, connection=self.connection)

    def dispatch(self, calls: Iterable[JobCall]) -> None:
        from rq import Queue, Retry

        by_queue: dict[str, list[JobCall]] = collections.defaultdict(list)
        for call in calls:
            by_queue[call.queue].append(call)
        retry = Retry(max=self.retries, interval=[10, 60, 300]) if self.retries else None
        with self.connection.pipeline() as pipe:
            for name, queued in by_queue.items():
                queue = self.queue(name)
                queue.enqueue_many(
                    [
                        Queue.prepare_data(
                            call.func,
                            args=call.args,
                            retry=retry,
                            result_ttl=3600,
                            failure_ttl=7 * 24 * 3600,
                        )
                        for call in queued
                    ],
                    pipeline=pipe,
                )
            pipe.execute()


class InlineBackend:
    """Runs jobs in this process after the commit. A failing job is logged with its
    traceback (as RQ would keep it in the failed registry) and, with ``raise_errors``
    (tests), raised to the caller so a bug cannot hide."""

    name = "inline"

    def __init__(self, raise_errors: bool = False) -> None:
        self.raise_errors = raise_errors
        self._local = threading.local()

    def dispatch(self, calls: Iterable[JobCall]) -> None:
        pending: collections.deque[JobCall] = getattr(self._local, "pending", None) or (
            collections.deque()
        )
        self._local.pending = pending
        pending.extend(calls)
        if getattr(self._local, "draining", False):
            return  # the outer loop below runs them once the current job returns
        self._local.draining = True
        try:
            while pending:
                call = pending.popleft()
                try:
                    call.func(*call.args)
                except Exception:
                    log.exception("inline job %s failed", _name(call.func))
                    if self.raise_errors:
                        pending.clear()
                        raise
        finally:
            self._local.draining = False


def _name(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def enqueue_after_commit(func: Callable[..., Any], *args: Any, queue: str | None = None) -> None:
    """Run ``func(*args)`` as a job once the current transaction commits. Arguments must be
    plain values (ids), never ORM objects."""
    from app.db import db

    name = queue or getattr(func, "queue", "default")
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    db.session().info.setdefault(_PENDING, []).append(JobCall(func, args, name))


def backend(app: Flask | None = None) -> Backend:
    chosen: Backend = (app or current_app).extensions[_EXTENSION]
    return chosen


def use_backend(app: Flask, chosen: Backend) -> None:
    app.extensions[_EXTENSION] = chosen


def _after_commit(session: Session) -> None:
    calls = session.info.pop(_PENDING, None)
    if calls:
        backend().dispatch(calls)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


_listening = False


def init_app(app: Flask) -> None:
    global _listening
    if app.config.get("REDIS_URL"):
        use_backend(app, RQBackend(app.config["REDIS_URL"], retries=app.config["JOB_RETRIES"]))
    else:
        use_backend(app, InlineBackend(raise_errors=bool(app.config.get("TESTING"))))
    if not _listening:
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
        _listening = True
