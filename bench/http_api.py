"""Requests per second through gunicorn on PostgreSQL: the API's write and read paths.

    python bench/http_api.py [--seconds 10] [--workers 4] [--connections 16]

Starts gunicorn (sync workers) on a fresh database and loads it with `wrk` (Debian package
`wrk`; a threaded Python client is used when wrk is missing, which measures less since it
competes for the same two cores). Paths measured:

- GET  /healthz                      no database: the floor of Flask + gunicorn
- POST /api/v1/people                API key check + upsert (2 SELECTs, 1 INSERT, commit)
- GET  /api/v1/reports/nps?group_by=role   over a few thousand responses

Prints requests/s and latency; asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._db import drop, fresh_app  # noqa: E402
from bench._gunicorn import gunicorn, run_wrk  # noqa: E402

DB = "sounding_bench_http"

WRK_UPSERT = """
counter = 0
request = function()
  counter = counter + 1
  local id = string.format("%s-%d", tostring(math.random(1, 1e9)), counter)
  local body = '{"external_id": "u' .. id .. '", "email": "u' .. id .. '@example.com", ' ..
               '"name": "Bench Person", "role": "end_user"}'
  return wrk.format("POST", "/api/v1/people", nil, body)
end
"""


def seed(key_holder: dict[str, str]) -> None:
    from app.api.auth import issue_key
    from app.db import db
    from app.vocabulary import StaffRole

    _, key_holder["key"] = issue_key("bench", StaffRole.ADMIN, None, datetime.now(UTC))
    db.session.execute(
        db.text("""
        INSERT INTO survey (name, question, follow_up_question, channels, reminder_1_days,
            reminder_2_days, deadline_days, status, created_at, updated_at)
        VALUES ('NPS', 'Q?', 'Why?', '{}', 3, 7, 10, 'active', now(), now())""")
    )
    db.session.execute(
        db.text("""
        INSERT INTO person (external_id, email, role, properties, first_seen_at, created_at,
            updated_at)
        SELECT 'seed' || g, 'seed' || g || '@example.com',
               (ARRAY['end_user','influencer','decision_maker','executive'])[1 + g % 4],
               '{}', now(), now(), now() FROM generate_series(1, 5000) g""")
    )
    db.session.execute(
        db.text("""
        INSERT INTO response (survey_id, person_id, score, category, role, channel,
            answered_at, updated_at)
        SELECT 1, p.id, p.id % 11,
               CASE WHEN p.id % 11 >= 9 THEN 'promoter' WHEN p.id % 11 >= 7 THEN 'passive'
                    ELSE 'detractor' END, p.role, 'email', now(), now() FROM person p""")
    )
    db.session.commit()


def run_python(url: str, seconds: int, connections: int, key: str, upsert: bool) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    stop = time.perf_counter() + seconds
    counts = [0] * connections
    errors = [0] * connections

    def client(i: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
        n = 0
        while time.perf_counter() < stop:
            n += 1
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            if upsert:
                body = json.dumps({"external_id": f"p{i}-{n}", "email": f"p{i}-{n}@example.com"})
                conn.request("POST", parts.path, body=body, headers=headers)
            else:
                conn.request(
                    "GET", parts.path + ("?" + parts.query if parts.query else ""), headers=headers
                )
            response = conn.getresponse()
            response.read()
            counts[i] += 1
            errors[i] += response.status >= 400

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return f"Requests/sec: {sum(counts) / seconds:.1f}  errors: {sum(errors)}  (python client)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    app = fresh_app(DB)
    holder: dict[str, str] = {}
    with app.app_context():
        seed(holder)
        from app.db import db

        db.engine.dispose()
    try:
        with gunicorn(DB, args.workers) as base:
            _load(base, args, holder["key"])
    finally:
        drop(DB)


def _load(base: str, args: argparse.Namespace, key: str) -> None:
    use_wrk = shutil.which("wrk") is not None
    print(
        f"gunicorn {args.workers} sync workers, {args.connections} connections, "
        f"{args.seconds}s each, load by {'wrk' if use_wrk else 'python threads'}"
    )
    cases = [
        ("GET  /healthz", "/healthz", None, False),
        ("POST /api/v1/people (upsert)", "/api/v1/people", WRK_UPSERT, True),
        (
            "GET  /api/v1/reports/nps?group_by=role",
            "/api/v1/reports/nps?group_by=role",
            None,
            False,
        ),
    ]
    for label, path, script, upsert in cases:
        if use_wrk:
            headers = [f"Authorization: Bearer {key}", "Content-Type: application/json"]
            figures = run_wrk(base + path, args.seconds, args.connections, headers, script)
        else:
            figures = run_python(base + path, args.seconds, args.connections, key, upsert)
        print(f"  {label:<42} {figures}")


if __name__ == "__main__":
    main()
