"""Requests per second of the widget's endpoints through gunicorn on PostgreSQL.

    python bench/widget_check.py [--seconds 10] [--workers 4] [--connections 16]

Starts gunicorn (sync workers) on a fresh database holding a widget key, a widget survey and
20,000 people the widget showed the survey to five days ago, and loads it with `wrk` (Debian
package `wrk`). Paths measured, each request from an allowed origin and signed:

- POST /widget/v1/check, a person asked recently, first page view of the day: upsert, the
  cadence decision (refused), the refusal stored (once a day per person, survey and reason).
- the same, again today: the refusal is already stored, nothing is written. The common case:
  most page views of most people.
- POST /widget/v1/check, a new person each time: upsert (insert), decision, a display.
- GET  /widget/v1/sounding.js with If-None-Match: the 304 browsers get after max-age.

The rate limit is lifted for the run. Prints requests/s and latency; asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._db import drop, fresh_app  # noqa: E402
from bench._gunicorn import gunicorn, run_wrk  # noqa: E402

DB = "sounding_bench_widget"
ORIGIN = "https://app.example.com"
PEOPLE = 20_000
NEW_PEOPLE = 40_000
#: People warmed up before the "again today" run.
WARM = 500


def seed() -> tuple[str, str]:
    """A key, a survey, people shown it five days ago. Returns (public key, secret)."""
    from datetime import UTC, datetime

    from app.db import db
    from app.services.widget_keys import create_key

    key = create_key("bench", [ORIGIN], datetime.now(UTC))
    db.session.execute(
        db.text("""
        INSERT INTO survey (name, question, follow_up_question, channels, reminder_1_days,
            reminder_2_days, deadline_days, status, created_at, updated_at)
        VALUES ('NPS', 'Q?', 'Why?', '{"enabled": ["widget"]}', 3, 7, 10, 'active', now(), now())
        """)
    )
    db.session.execute(
        db.text("""
        INSERT INTO person (external_id, email, role, properties, first_seen_at, created_at,
            updated_at)
        SELECT 'seed' || g, 'seed' || g || '@example.com', 'end_user', '{}', now(), now(), now()
        FROM generate_series(1, :n) g"""),
        {"n": PEOPLE},
    )
    db.session.execute(
        db.text("""
        INSERT INTO widget_display (display_id, person_id, survey_id, shown_at, answered_at)
        SELECT md5(p.id::text), p.id, 1, now() - interval '5 days', now() - interval '5 days'
        FROM person p""")
    )
    db.session.commit()
    return key.public_key, key.secret


def lua_bodies(public: str, secret: str, users: list[str]) -> str:
    from app.policy.widget import signature_of

    bodies = [
        json.dumps(
            {
                "key": public,
                "user": {"userId": u, "email": f"{u}@example.com", "role": "end_user"},
                "signature": signature_of(secret, u),
            }
        )
        for u in users
    ]
    table = ",\n".join(json.dumps(b) for b in bodies)  # JSON strings are valid Lua strings
    return f"""
local bodies = {{
{table}
}}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/widget/v1/check", nil, bodies[(i % #bodies) + 1])
end
"""


def warm_up(port: int, public: str, secret: str, users: list[str]) -> None:
    """One page view for each of ``users``: their refusals of today are stored."""
    from app.policy.widget import signature_of

    conn = http.client.HTTPConnection("127.0.0.1", port)
    for u in users:
        body = {"key": public, "user": {"userId": u}, "signature": signature_of(secret, u)}
        conn.request(
            "POST",
            "/widget/v1/check",
            body=json.dumps(body),
            headers={"Content-Type": "application/json", "Origin": ORIGIN},
        )
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    app = fresh_app(DB)
    with app.app_context():
        public, secret = seed()
        from app.db import db

        db.engine.dispose()
    try:
        with gunicorn(DB, args.workers, WIDGET_RATE_LIMIT="100000000/minute") as base:
            _load(base, args, public, secret)
    finally:
        drop(DB)


def _load(base: str, args: argparse.Namespace, public: str, secret: str) -> None:
    port = int(base.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/widget/v1/sounding.js", headers={"Accept-Encoding": "gzip"})
    etag = conn.getresponse().getheader("ETag")
    post = [f"Origin: {ORIGIN}", "Content-Type: application/json"]
    print(
        f"gunicorn {args.workers} sync workers, {args.connections} connections, "
        f"{args.seconds}s each, load by wrk"
    )
    again = [f"seed{i}" for i in range(PEOPLE - WARM, PEOPLE + 1)]
    warm_up(port, public, secret, again)
    cases = [
        (
            "POST /widget/v1/check (asked, first today)",
            "/widget/v1/check",
            post,
            lua_bodies(public, secret, [f"seed{i}" for i in range(1, PEOPLE - WARM)]),
        ),
        (
            "POST /widget/v1/check (asked, again today)",
            "/widget/v1/check",
            post,
            lua_bodies(public, secret, again),
        ),
        (
            "POST /widget/v1/check (new person, shown)",
            "/widget/v1/check",
            post,
            lua_bodies(public, secret, [f"new{i}" for i in range(NEW_PEOPLE)]),
        ),
        (
            "GET  /widget/v1/sounding.js (304)",
            "/widget/v1/sounding.js",
            [f"If-None-Match: {etag}", "Accept-Encoding: gzip"],
            "",
        ),
    ]
    for label, path, headers, script in cases:
        figures = run_wrk(base + path, args.seconds, args.connections, headers, script)
        print(f"  {label:<42} {figures}")


if __name__ == "__main__":
    main()
