"""Background jobs: enqueued after commit, run by RQ workers or in-process."""

from app.jobs.queue import enqueue_after_commit, init_app

__all__ = ["enqueue_after_commit", "init_app"]
