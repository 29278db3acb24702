"""``sounding dev``: web and jobs in one process, on whatever database is configured.

Jobs run in-process right after each commit, and a thread runs the periodic jobs (the
sweep) every ``SWEEP_INTERVAL_SECONDS``, so delayed work (scheduled sends, reminders,
deadlines) happens without Redis or a worker.
"""

from __future__ import annotations

import logging
import threading

import click
from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from app.jobs.periodic import periodic_jobs
from app.jobs.queue import InlineBackend, use_backend

log = logging.getLogger(__name__)


def migrate(app: Flask) -> None:
    with app.app_context():
        upgrade()


def start_periodic_thread(app: Flask, stop: threading.Event) -> threading.Thread:
    jobs = periodic_jobs(app)
    interval = min(j.interval_seconds for j in jobs)

    def loop() -> None:
        while True:
            for periodic in jobs:
                try:
                    with app.app_context():
                        periodic.func()
                except Exception:
                    log.exception("periodic job %s failed", periodic.func.__name__)
            if stop.wait(interval):
                return

    thread = threading.Thread(target=loop, name="sounding-periodic", daemon=True)
    thread.start()
    return thread


def point_links_here(app: Flask, host: str, port: int) -> None:
    """Links in messages point at this server (``--host``, ``--port``) unless ``BASE_URL``
    was set: call it before anything is sent (the demo's messages too)."""
    if app.config.get("BASE_URL_IS_DEFAULT"):
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        app.config["BASE_URL"] = f"http://{shown}:{port}"


def serve(app: Flask, host: str, port: int, banner: str) -> None:
    """Serve ``app`` with its jobs in this process; print ``banner`` once the port is ours.
    A port in use is a :class:`click.ClickException` (nothing said to be running)."""
    if app.config.get("REDIS_URL"):
        log.warning(
            "sounding dev runs jobs in this process; REDIS_URL is ignored here. "
            "Run `gunicorn` and `python worker.py` to use Redis."
        )
    point_links_here(app, host, port)
    try:
        # Not app.run(): under the `sounding` (Flask) CLI it returns at once without serving.
        server = make_server(host, port, app, threaded=True)
    except (OSError, SystemExit) as exc:  # werkzeug exits when the port is taken
        raise click.ClickException(
            f"Cannot serve on {host}:{port}: the port is in use (or not ours to take). "
            "Stop what runs there, or choose another with --port."
        ) from exc
    use_backend(app, InlineBackend(raise_errors=False))
    stop = threading.Event()
    start_periodic_thread(app, stop)
    click.echo(banner)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
