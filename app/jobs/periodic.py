"""Periodic jobs, declared in one list. worker.py registers them with RQ's cron scheduler;
``sounding dev`` runs them on a thread."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    func: Callable[..., Any]
    interval_seconds: int
    queue: str = "default"


def periodic_jobs(app: Flask) -> list[PeriodicJob]:
    from app.jobs.campaigns import cadence_sweep
    from app.jobs.prune import prune
    from app.jobs.sweep import sweep

    return [
        PeriodicJob(sweep, interval_seconds=app.config["SWEEP_INTERVAL_SECONDS"]),
        PeriodicJob(prune, interval_seconds=3600),
        PeriodicJob(cadence_sweep, interval_seconds=app.config["SWEEP_INTERVAL_SECONDS"]),
    ]
