"""How long each workspace page takes over the 100,000-person data set, on PostgreSQL.

    python bench/workspace_pages.py [--people 100000] [--runs 20] [--keep]

Builds the data set of ``bench/reports.py`` (1,000 accounts, N people, four invitations per
person over a year, about half answered), signs in, then requests each page of the
workspace through the app (in process, no network) and prints the p50 and p95 of each.
A dry run of a cadence change runs the fan-out's decision over everyone twice, so it is
timed separately. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from app.db import db
from bench._db import drop, existing_app, fresh_app
from bench.reports import build

DB = "sounding_bench_workspace"
GOAL_MS = 150


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="use the database a --keep run left (no build)"
    )
    args = parser.parse_args()
    settings = {"WTF_CSRF_ENABLED": False, "BASE_URL": "http://bench.test"}
    app = existing_app(DB, **settings) if args.reuse else fresh_app(DB, **settings)
    with app.app_context():
        if not args.reuse:
            start = time.perf_counter()
            build(args.people)
            print(f"built {args.people:,} people in {time.perf_counter() - start:.1f} s")
        from app.api.auth import issue_key
        from app.vocabulary import StaffRole

        _, key = issue_key("bench", StaffRole.ADMIN, None, datetime.now(UTC))
        db.session.execute(
            text(
                "INSERT INTO widget_key (name, public_key, secret, allowed_origins, created_at) "
                "VALUES ('App', 'pk_bench', 'wsk_bench', '[\"https://app.example.com\"]', now()) "
                "ON CONFLICT DO NOTHING"
            )
        )
        db.session.commit()
        middle = db.session.scalar(
            text("SELECT id FROM person ORDER BY id OFFSET :n LIMIT 1"), {"n": args.people // 2}
        )
        db.session.remove()
    client = app.test_client()
    assert client.post("/dashboard/sign-in", data={"key": key}).status_code == 302
    pages = [
        "/dashboard/",
        "/dashboard/responses",
        "/dashboard/surveys",
        "/dashboard/surveys/1",
        "/dashboard/surveys/1?sample-timezone=Asia/Tokyo&sample-channel=sms",
        "/dashboard/surveys/1/email",
        "/dashboard/cadence",
        "/dashboard/cadence/surveys/1",
        "/dashboard/people",
        f"/dashboard/people?after={middle}",
        "/dashboard/people?q=u4242",
        f"/dashboard/people/{middle}",
        "/dashboard/accounts",
        "/dashboard/accounts?q=account 7",
        "/dashboard/accounts/7",
        "/dashboard/widget-keys",
        "/api/v1/people?limit=50",
    ]
    headers = {"Authorization": f"Bearer {key}"}
    print(f"{'page':<64} {'p50 ms':>8} {'p95 ms':>8}")
    for path in pages:
        samples: list[float] = []
        runs = args.runs + 2
        while len(samples) < runs:
            begin = time.perf_counter()
            response = client.get(path, headers=headers if path.startswith("/api") else None)
            samples.append((time.perf_counter() - begin) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            if samples[-1] > 1000:  # a page over a second: a few runs tell enough
                runs = min(runs, 7)
        samples = samples[2:]  # the first requests warm the caches (templates, plans)
        mark = "" if p95(samples) < GOAL_MS else f"  over {GOAL_MS} ms"
        print(f"{path:<64} {statistics.median(samples):8.1f} {p95(samples):8.1f}{mark}")
    dry = []
    form = {"recontact_days": "10", "survey": "1", "channel": "email", "action": "dry_run"}
    for _ in range(3):
        begin = time.perf_counter()
        response = client.post("/dashboard/cadence", data=form)
        dry.append((time.perf_counter() - begin) * 1000)
        assert response.status_code == 200 and b"may be asked today" in response.data
    print(
        f"{'POST /dashboard/cadence (dry run over everyone, twice)':<64} "
        f"{statistics.median(dry):8.1f} {max(dry):8.1f}  (median, max of 3)"
    )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if not args.keep:
        drop(DB)


if __name__ == "__main__":
    main()
