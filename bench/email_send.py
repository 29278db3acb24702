"""Sending a campaign by email through SendGrid's API, on PostgreSQL.

    python bench/email_send.py [--invitations 100000] [--csms 20] [--profile] [--keep]

Builds N people in 2,000 accounts owned by CSMs (three in four on the authenticated
domain, so they send as themselves; the others send "via" the company with their own
Reply-To), one survey and N email invitations due now. Then runs the real sweep, which
claims, sends and records every step through the SendGrid channel and the official SDK,
against a local stand-in for the API (a threaded HTTP server in its own process answering
202 with an X-Message-Id). Prints messages per second and the requests made; asserts
nothing about time. ``--profile`` prints where the time went.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import multiprocessing
import pstats
import sys
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from app.clock import FrozenClock, install
from app.db import db
from bench._db import drop, fresh_app

DB = "sounding_bench_email"
#: A Tuesday, 16:00 in Paris and 10:00 in New York: inside both zones' default send window,
#: so quiet hours hold nothing back (the bench measures sending, not waiting).
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def stand_in(port_out: multiprocessing.Queue) -> None:
    """SendGrid's Mail Send as far as the sender can tell: 202 and an X-Message-Id."""
    counter = itertools.count(1)
    totals = {"requests": 0, "personalizations": 0, "bytes": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            totals["requests"] += 1
            totals["bytes"] += len(body)
            totals["personalizations"] += body.count(b'"sounding_message_id"')
            self.send_response(202)
            self.send_header("X-Message-Id", f"bench-{next(counter)}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            self.send_response(200)
            payload = json.dumps(totals).encode()
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.put(server.server_address[1])
    server.serve_forever()


def build(invitations: int, csms: int) -> None:
    now = NOW
    conn = db.session.connection().connection.dbapi_connection
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO survey (name, question, follow_up_question, channels, "
            "reminder_1_days, reminder_2_days, deadline_days, status, created_at, "
            "updated_at) VALUES ('NPS', 'How likely are you to recommend Acme to a friend "
            "or colleague?', 'Why?', '{\"enabled\": [\"email\"]}', 3, 7, 10, 'active', %s, %s)",
            (now, now),
        )
        with cur.copy("COPY staff_user (email, name, role, created_at) FROM STDIN") as copy:
            for c in range(csms):
                domain = "acme.example" if c % 4 else "gmail.example"
                copy.write_row((f"csm{c}@{domain}", f"Csm Number{c}", "csm", now))
        with cur.copy("COPY account (external_id, name, csm_id, created_at) FROM STDIN") as copy:
            for a in range(2000):
                copy.write_row((f"acct-{a}", f"Account {a}", a % csms + 1, now))
        with cur.copy(
            "COPY person (external_id, email, name, account_id, properties, timezone, "
            "first_seen_at, created_at, updated_at) FROM STDIN"
        ) as copy:
            for p in range(invitations):
                copy.write_row(
                    (
                        f"u{p}",
                        f"u{p}@customer{p % 500}.example",
                        f"Person {p}",
                        p % 2000 + 1,
                        "{}",
                        "America/New_York" if p % 2 else "Europe/Paris",
                        now,
                        now,
                        now,
                    )
                )
        with cur.copy(
            "COPY invitation (survey_id, person_id, account_id, channel, status, trigger, "
            "scheduled_at, reminder_1_at, reminder_2_at, deadline_at, next_action_at, "
            "attempts, created_at, updated_at) FROM STDIN"
        ) as copy:
            for p in range(1, invitations + 1):
                copy.write_row(
                    (
                        1,
                        p,
                        (p - 1) % 2000 + 1,
                        "email",
                        "scheduled",
                        "campaign",
                        now,
                        now + timedelta(days=3),
                        now + timedelta(days=7),
                        now + timedelta(days=10),
                        now - timedelta(seconds=1),
                        0,
                        now,
                        now,
                    )
                )
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invitations", type=int, default=100_000)
    parser.add_argument("--csms", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="print where the time went")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=stand_in, args=(ports,), daemon=True)
    server.start()
    port = ports.get(timeout=10)
    host = f"http://127.0.0.1:{port}"
    try:
        app = fresh_app(
            DB,
            EMAIL_BACKEND="sendgrid",
            SENDGRID_API_KEY="SG.bench",
            SENDGRID_HOST=host,
            SENDGRID_AUTHENTICATED_DOMAINS="acme.example",
            DEFAULT_SENDER_EMAIL="surveys@acme.example",
            BASE_URL="https://nps.acme.example",
            # The shared sending rate (6000/minute by default) would make this a bench of
            # the limit; lift it to see what the pipeline itself does.
            EMAIL_SEND_RATE="10000000/minute",
        )
        install(app, FrozenClock(NOW))
        with app.app_context():
            from app.jobs.sweep import sweep

            start = time.perf_counter()
            build(args.invitations, args.csms)
            print(
                f"built {args.invitations:,} people and due email invitations, "
                f"{args.csms} CSMs, in {time.perf_counter() - start:.1f} s"
            )
            db.session.remove()
            profiler = cProfile.Profile() if args.profile else None
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            while True:  # one sweep takes up to 200,000; loop in case of more
                stats = sweep()
                if not stats["enqueued"]:
                    break
            if profiler:
                profiler.disable()
            elapsed = time.perf_counter() - start
            statuses = dict(
                db.session.execute(
                    text("SELECT status, count(*) FROM message GROUP BY status")
                ).all()
            )
            sent = db.session.scalar(
                text("SELECT count(*) FROM invitation WHERE sent_at IS NOT NULL")
            )
            db.session.remove()
            db.engine.dispose()
        import urllib.request

        with urllib.request.urlopen(host + "/") as answer:  # noqa: S310 (loopback)
            totals = json.loads(answer.read())
        print(f"sent {sent:,} invitations in {elapsed:.1f} s: {sent / elapsed:,.0f} messages/s")
        print(
            f"requests to the API: {totals['requests']:,} "
            f"({totals['personalizations'] / max(totals['requests'], 1):,.0f} personalizations "
            f"per request on average, {totals['bytes'] / max(totals['requests'], 1) / 1e6:.2f} MB "
            f"per request)"
        )
        print(f"message statuses: {statuses}")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    finally:
        server.terminate()
        if not args.keep:
            drop(DB)


if __name__ == "__main__":
    main()
