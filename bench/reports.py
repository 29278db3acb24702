"""How long the NPS reports take over a large base, on PostgreSQL.

    python bench/reports.py [--people 100000] [--keep]

Builds 1,000 accounts, N people across the four roles, four invitations per person over a
year (about half answered), then times each report (median of 5 runs) and one page of
/api/v1/responses. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from app.db import db
from app.reports import GroupBy, ReportFilter, nps_report
from bench._db import drop, fresh_app

DB = "sounding_bench_reports"
ROLES = ["end_user", "influencer", "decision_maker", "executive", None]


def build(people: int) -> None:
    rng = random.Random(1)
    now = datetime(2026, 11, 16, tzinfo=UTC)
    conn = db.session.connection().connection.dbapi_connection
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO survey (name, question, follow_up_question, channels, "
            "reminder_1_days, reminder_2_days, deadline_days, status, created_at, "
            "updated_at) VALUES ('NPS', 'Q?', 'Why?', '{}', 3, 7, 10, 'active', %s, %s)",
            (now, now),
        )
        with cur.copy("COPY account (external_id, name, created_at) FROM STDIN") as copy:
            for a in range(1000):
                copy.write_row((f"acct-{a}", f"Account {a}", now))
        with cur.copy(
            "COPY person (external_id, email, role, account_id, properties, "
            "first_seen_at, created_at, updated_at) FROM STDIN"
        ) as copy:
            for p in range(people):
                copy.write_row(
                    (
                        f"u{p}",
                        f"u{p}@example.com",
                        rng.choice(ROLES),
                        rng.randint(1, 1000),
                        "{}",
                        now,
                        now,
                        now,
                    )
                )
        with cur.copy(
            "COPY invitation (survey_id, person_id, account_id, channel, status, "
            "trigger, scheduled_at, sent_at, deadline_at, attempts, created_at, "
            "updated_at) FROM STDIN"
        ) as copy:
            for p in range(1, people + 1):
                for k in range(4):
                    sent = now - timedelta(days=k * 91 + rng.randint(0, 80), hours=rng.random())
                    status = "responded" if rng.random() < 0.5 else "expired"
                    copy.write_row(
                        (
                            1,
                            p,
                            (p % 1000) + 1,
                            rng.choice(["email", "sms", "link"]),
                            status,
                            "api",
                            sent,
                            sent,
                            sent + timedelta(days=10),
                            0,
                            sent,
                            sent,
                        )
                    )
        cur.execute("""
            INSERT INTO response (invitation_id, survey_id, person_id, account_id, score,
                                  category, role, channel, answered_at, updated_at)
            SELECT i.id, 1, i.person_id, i.account_id, s.score,
                   CASE WHEN s.score >= 9 THEN 'promoter' WHEN s.score >= 7 THEN 'passive'
                        ELSE 'detractor' END,
                   p.role, i.channel, i.sent_at + interval '1 day', i.sent_at + interval '1 day'
            FROM invitation i JOIN person p ON p.id = i.person_id
            CROSS JOIN LATERAL (SELECT (abs(hashtext(i.id::text)) % 11) AS score) s
            WHERE i.status = 'responded'
        """)
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def timed(label: str, func, runs: int = 5) -> None:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    print(f"  {label:<42} {statistics.median(samples) * 1000:8.1f} ms (median of {runs})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    app = fresh_app(DB)
    with app.app_context():
        start = time.perf_counter()
        build(args.people)
        counts = db.session.execute(
            text("SELECT (SELECT count(*) FROM invitation), (SELECT count(*) FROM response)")
        ).one()
        print(
            f"built {args.people:,} people, {counts[0]:,} invitations, {counts[1]:,} responses "
            f"in {time.perf_counter() - start:.1f} s"
        )
        since = ReportFilter(since=datetime(2026, 8, 1, tzinfo=UTC))
        timed("overall", lambda: nps_report(ReportFilter()))
        for group in GroupBy:
            timed(f"group_by={group.value}", lambda g=group: nps_report(ReportFilter(), g))
        timed("group_by=role, since 3 months", lambda: nps_report(since, GroupBy.ROLE))
        timed(
            "one account, group_by=month",
            lambda: nps_report(ReportFilter(account_id=7), GroupBy.MONTH),
        )
        client = app.test_client()
        from app.api.auth import issue_key
        from app.vocabulary import StaffRole

        _, key = issue_key("bench", StaffRole.ADMIN, None, datetime.now(UTC))
        db.session.commit()
        headers = {"Authorization": f"Bearer {key}"}
        timed(
            "GET /api/v1/responses?limit=50",
            lambda: client.get("/api/v1/responses?limit=50", headers=headers),
        )
        timed(
            "GET /api/v1/responses?role=executive&limit=50",
            lambda: client.get("/api/v1/responses?role=executive&limit=50", headers=headers),
        )
        db.session.remove()
        db.engine.dispose()
    if not args.keep:
        drop(DB)


if __name__ == "__main__":
    main()
