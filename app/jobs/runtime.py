"""What every job runs inside: its own app context (so its own database session), a fresh
connection pool after a fork, and a logger that names the job."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import Flask, current_app, has_app_context

P = ParamSpec("P")
R = TypeVar("R")

_worker_app: Flask | None = None
_pool_pid: int | None = None


def set_worker_app(app: Flask) -> None:
    """worker.py builds the app once and hands it here; jobs then run inside it."""
    global _worker_app
    _worker_app = app


def _app() -> Flask:
    global _worker_app
    if has_app_context():
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
        return app
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app()
    return _worker_app


def _fresh_pool_after_fork() -> None:
    """A forked work horse must not use the parent's pooled connections."""
    global _pool_pid
    from app.db import db

    pid = os.getpid()
    if _pool_pid is not None and _pool_pid != pid:
        db.engine.dispose(close=False)
    _pool_pid = pid


def job(queue: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Declare a job on a queue named by purpose. Jobs take ids, never ORM objects."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            app = _app()
            with app.app_context():
                _fresh_pool_after_fork()
                return func(*args, **kwargs)

        run.queue = queue  # type: ignore[attr-defined]
        return run

    return decorate


class JobLogFilter(logging.Filter):
    """Adds ``job`` (the RQ job id and function, or ``-``) to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        from rq import get_current_job

        current: Any = get_current_job()
        record.job = f"{current.id[:8]} {current.func_name}" if current is not None else "-"
        return True
