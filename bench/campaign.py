"""Campaign fan-out at scale: 100,000 people with a year of history on PostgreSQL.

Prints how long one campaign's fan-out takes (deciding for everyone, inserting the
invitations, the stored refusals and the enqueued send batches, commits included) next to
the time of the bare SQL that only selects the same eligible people (the floor).

    PYTHONPATH=. python bench/campaign.py [--people 100000] [--chunk 10000]

It makes (and drops) a database of its own, ``sounding_bench_campaign``, next to the one
named by ``SOUNDING_BENCH_PG_ADMIN_URL`` (default ``postgresql://postgres@127.0.0.1:5432/
postgres``). A figure, never a pass or fail.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._db import drop, fresh_app

NAME = "sounding_bench_campaign"
NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)  # a Monday
ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "Africa/Lagos",
    "",
]

POPULATE = [
    """INSERT INTO staff_user (email, name, role, created_at)
       SELECT 'csm' || i || '@acme.example', 'CSM ' || i, 'csm', :now
       FROM generate_series(1, 20) AS i""",
    """INSERT INTO account (external_id, name, csm_id, created_at)
       SELECT 'acct-' || i, 'Account ' || i, 1 + i % 20, :now
       FROM generate_series(1, 2000) AS i""",
    # People: 2% without email, signed up over three years (some in the last two weeks).
    """INSERT INTO person (external_id, email, name, role, account_id, timezone, signed_up_at,
         properties, first_seen_at, created_at, updated_at)
       SELECT 'u' || i, CASE WHEN i % 50 = 7 THEN NULL ELSE 'p' || i || '@x.example' END,
         'Person ' || i,
         (ARRAY['end_user','influencer','decision_maker','executive'])[1 + i % 4],
         1 + i % 2000, NULLIF((CAST(:zones AS text[]))[1 + i % CAST(:nzones AS integer)], ''),
         :now - make_interval(hours => (i * 7919) % (3 * 365 * 24)),
         jsonb_build_object('plan', (ARRAY['starter','growth','enterprise'])[1 + i % 3]),
         :now, :now, :now
       FROM generate_series(1, CAST(:people AS integer)) AS i""",
    # 3% unsubscribed.
    """INSERT INTO suppression (kind, value, reason, created_at)
       SELECT 'email', email, 'unsubscribed', :now FROM person
       WHERE email IS NOT NULL AND id % 33 = 5""",
    # A year of history: about every 125 days per person, on two surveys, answered or
    # expired; the latest one scattered over the last four months.
    """INSERT INTO invitation (survey_id, person_id, account_id, channel, status, trigger,
         scheduled_at, sent_at, deadline_at, attempts, created_at, updated_at)
       SELECT 1 + (p.id + k) % 2, p.id, p.account_id, 'email',
         CASE WHEN (p.id + k) % 3 = 0 THEN 'responded' ELSE 'expired' END, 'campaign',
         t.at, t.at, t.at + interval '10 days', 0, t.at, t.at
       FROM person p CROSS JOIN generate_series(0, 2) AS k
       CROSS JOIN LATERAL (
         SELECT :now - make_interval(hours => ((p.id * 31) % (125 * 24)) + k * 125 * 24) AS at
       ) t
       WHERE t.at > :now - interval '365 days'""",
    # In-app widget displays for a third of the people, some dismissed.
    """INSERT INTO widget_display (display_id, person_id, survey_id, shown_at, dismissed_at)
       SELECT md5(p.id::text), p.id, 2, :now - make_interval(hours => (p.id * 13) % (200 * 24)),
         CASE WHEN p.id % 2 = 0
           THEN :now - make_interval(hours => (p.id * 13) % (200 * 24)) END
       FROM person p WHERE p.id % 3 = 0""",
]

FLOOR = """
WITH c AS (
  SELECT person_id, survey_id, COALESCE(sent_at, scheduled_at) AS at FROM invitation
  WHERE sent_at IS NOT NULL OR status IN ('scheduled','sending','needs_review')
  UNION ALL
  SELECT person_id, survey_id, shown_at FROM widget_display
),
agg AS (
  SELECT person_id, MAX(at) AS last_at, MAX(at) FILTER (WHERE survey_id = 1) AS last_survey,
    COUNT(*) FILTER (WHERE at > :year_since) AS in_year
  FROM c GROUP BY person_id
)
SELECT p.id FROM person p
LEFT JOIN agg ON agg.person_id = p.id
LEFT JOIN suppression s ON s.kind = 'email' AND s.value = p.email
WHERE p.email IS NOT NULL AND s.id IS NULL
  AND NOT EXISTS (SELECT 1 FROM invitation o WHERE o.person_id = p.id AND o.survey_id = 1
    AND o.channel = 'email'
    AND o.status IN ('scheduled','sending','sent','reminded_1','reminded_2'))
  AND (p.signed_up_at IS NULL OR p.signed_up_at <= :tenure_since)
  AND COALESCE(agg.in_year, 0) < :yearly_cap
  AND (agg.last_survey IS NULL OR agg.last_survey <= :recurrence_since)
  AND (agg.last_at IS NULL OR agg.last_at <= :recontact_since)
"""


class CountingBackend:
    """Counts the send jobs the fan-out enqueues instead of running them."""

    name = "counting"

    def __init__(self) -> None:
        self.jobs = 0
        self.ids = 0

    def dispatch(self, calls: Iterable[object]) -> None:
        for call in calls:
            self.jobs += 1
            args = getattr(call, "args", ())
            if args and isinstance(args[0], list):
                self.ids += len(args[0])


def _profile() -> dict[str, float]:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    totals: dict[str, float] = {}

    @event.listens_for(Engine, "before_cursor_execute")
    def before(conn, cursor, statement, params, context, executemany):
        conn.info["started"] = time.perf_counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def after(conn, cursor, statement, params, context, executemany):
        key = " ".join(statement.split())[:70]
        totals[key] = totals.get(key, 0.0) + time.perf_counter() - conn.info["started"]

    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=None, help="people per transaction")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--profile", action="store_true", help="time each SQL statement")
    args = parser.parse_args()

    from app.clock import FrozenClock, install
    from app.db import db
    from app.jobs.campaigns import run_campaign
    from app.jobs.queue import use_backend
    from app.models import Campaign, Decision, Invitation, Survey
    from app.policy.cadence import days
    from app.policy.rules import CadenceRules
    from app.vocabulary import Channel

    app = fresh_app(NAME, **({"FANOUT_CHUNK": args.chunk} if args.chunk else {}))
    install(app, FrozenClock(NOW))
    counting = CountingBackend()
    try:
        with app.app_context():
            for name in ("Product NPS", "Onboarding"):
                db.session.add(
                    Survey(name=name, question="?", channels={}, created_at=NOW, updated_at=NOW)
                )
            db.session.commit()
            started = time.perf_counter()
            params = {"now": NOW, "people": args.people, "zones": ZONES, "nzones": len(ZONES)}
            for statement in POPULATE:
                db.session.execute(text(statement), params)
            db.session.commit()
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            # Write the history out now, so that no checkpoint of it lands in what is timed.
            db.session.execute(text("CHECKPOINT"))
            db.session.commit()
            history = db.session.scalar(text("SELECT count(*) FROM invitation"))
            displays = db.session.scalar(text("SELECT count(*) FROM widget_display"))
            print(
                f"made {args.people:,} people, {history:,} invitations and {displays:,} widget "
                f"displays of history in {time.perf_counter() - started:.1f} s"
            )

            rules = CadenceRules()
            floor_params = {
                "year_since": NOW - days(365),
                "tenure_since": NOW - days(rules.min_tenure_days),
                "recurrence_since": NOW - days(rules.recurrence_days),
                "recontact_since": NOW - days(rules.recontact_days),
                "yearly_cap": rules.yearly_cap,
            }
            floors = []
            for _ in range(3):
                started = time.perf_counter()
                eligible = len(db.session.execute(text(FLOOR), floor_params).all())
                floors.append(time.perf_counter() - started)
            db.session.rollback()
            floor = min(floors)

            use_backend(app, counting)
            campaign = Campaign(
                survey_id=1,
                channel=Channel.EMAIL,
                audience={"all": True},
                status="queued",
                counts={"decided": 0, "invited": 0, "waiting": 0, "skipped": {}},
                cursor=0,
                created_at=NOW,
            )
            db.session.add(campaign)
            db.session.commit()
            campaign_id = campaign.id
            statements = _profile() if args.profile else {}
            started = time.perf_counter()
            counts = run_campaign(campaign_id)
            fan_out = time.perf_counter() - started
            invited = db.session.query(Invitation).count() - history
            refusals = db.session.query(Decision).count()
    finally:
        with app.app_context():
            db.engine.dispose()
        if not args.keep:
            drop(NAME)

    print(f"eligible (bare SQL):   {eligible:,} of {args.people:,}")
    print(f"campaign counts:       {counts}")
    print(f"invitations inserted:  {invited:,}; refusals stored: {refusals:,}")
    print(f"send jobs enqueued:    {counting.jobs:,} (carrying {counting.ids:,} invitation ids)")
    print(f"floor (bare SQL):      {floor:.3f} s  (best of 3)")
    print(f"fan-out (campaign):    {fan_out:.3f} s  ({fan_out / floor:.2f}x the floor)")
    for statement, seconds in sorted(statements.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {seconds:6.3f} s  {statement}")
    assert eligible == invited, "the fan-out and the bare SQL disagree on who is eligible"


if __name__ == "__main__":
    main()
