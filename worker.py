"""The Sounding worker: an RQ worker (with RQ's scheduler) on the ``email``, ``sms`` and
``default`` queues, plus the periodic jobs of :mod:`app.jobs.periodic` on a thread.

    python worker.py            # production: runs until stopped
    python worker.py --burst    # run what is queued, then exit (tests, cron-style use)

Every worker runs the periodic sweep; several sweeps at once are safe (``SKIP LOCKED``), and
one running in every worker means the sweep survives a flushed Redis or a dead worker.

The periodic jobs are enqueued by RQ's ``CronScheduler`` on a daemon thread of the worker's
main process, so they live and die with the worker. RQ's own loop only stops on a signal; any
other error (Redis restarting, a network blip) would end the thread for good while the
worker kept running jobs -- a worker that silently never sweeps again. The thread is
therefore supervised: it starts the scheduler again after an error, with a growing pause.
Forked work horses do not inherit the thread (``fork`` copies only the calling thread).
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time

from rq.cron import CronScheduler


class _ThreadCronScheduler(CronScheduler):
    """RQ's cron scheduler, run on a thread of the worker process so it lives and dies with
    the worker (signals belong to the worker's main thread)."""

    def _install_signal_handlers(self) -> None:
        return None


log = logging.getLogger("sounding.worker")

#: Pauses before starting the cron scheduler again after an error (the last one repeats).
CRON_RESTART_PAUSES = (1, 2, 5, 10, 30)


def _keep_cron_running(
    cron: CronScheduler, pauses: tuple[float, ...] = CRON_RESTART_PAUSES
) -> None:
    """Run ``cron`` until the process ends, starting it again after any error."""
    failures = 0
    while True:
        started = time.monotonic()
        try:
            cron.start()  # returns only when asked to stop, which a thread never is
        except Exception:
            log.exception("the periodic-job scheduler stopped; starting it again")
        if time.monotonic() - started > 60:
            failures = 0  # it had been running well: start again quickly
        time.sleep(pauses[min(failures, len(pauses) - 1)])
        failures += 1


def _start_cron(connection, app) -> threading.Thread:
    from app.jobs.periodic import periodic_jobs

    cron = _ThreadCronScheduler(connection=connection)
    for periodic in periodic_jobs(app):
        cron.register(periodic.func, queue_name=periodic.queue, interval=periodic.interval_seconds)
    thread = threading.Thread(
        target=_keep_cron_running, args=(cron,), name="sounding-cron", daemon=True
    )
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument(
        "--queues", default="email,sms,default", help="comma-separated queues, in priority order"
    )
    parser.add_argument("--no-cron", action="store_true", help="do not run periodic jobs")
    parser.add_argument(
        "--simple",
        action="store_true",
        help="run jobs in this process instead of a forked work horse",
    )
    args = parser.parse_args(argv)

    from rq import SimpleWorker, Worker

    from app import create_app
    from app.jobs.queue import RQBackend, backend
    from app.jobs.runtime import JobLogFilter, set_worker_app

    app = create_app()
    chosen = backend(app)
    if not isinstance(chosen, RQBackend):
        print(
            "REDIS_URL is not set: there is nothing for a worker to do. "
            "Set REDIS_URL, or use `sounding dev` to run jobs in-process.",
            file=sys.stderr,
        )
        return 2
    set_worker_app(app)
    handler = logging.StreamHandler()
    handler.addFilter(JobLogFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(job)s] %(name)s: %(message)s")
    )
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)

    if not args.burst and not args.no_cron:
        _start_cron(chosen.connection, app)
    worker_class = SimpleWorker if args.simple else Worker
    queues = [chosen.queue(name.strip()) for name in args.queues.split(",") if name.strip()]
    worker = worker_class(queues, connection=chosen.connection)
    worker.work(with_scheduler=not args.burst, burst=args.burst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
