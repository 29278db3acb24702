"""Running the queued jobs in a real RQ worker."""

from __future__ import annotations

from flask import Flask
from rq import SimpleWorker

from app.jobs.queue import QUEUES, RQBackend, backend


def run_worker(app: Flask) -> int:
    """Run a real RQ worker in burst mode over every queue; returns how many jobs it ran.
    Failed jobs fail the test."""
    chosen = backend(app)
    assert isinstance(chosen, RQBackend), "run_worker needs the rq_app fixture"
    queues = [chosen.queue(name) for name in QUEUES]
    before = sum(q.finished_job_registry.count for q in queues)
    worker = SimpleWorker(queues, connection=chosen.connection)
    with app.app_context():
        worker.work(burst=True)
    failed = [job_id for q in queues for job_id in q.failed_job_registry.get_job_ids()]
    assert not failed, f"jobs failed: {failed}"
    return sum(q.finished_job_registry.count for q in queues) - before
