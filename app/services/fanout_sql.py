"""The SQL of the set-based cadence decision (see :mod:`app.services.fanout`), for PostgreSQL
and SQLite.

The statement computes each person's facts, then refuses with each rule's own clause, taken
from the rule's entry in :mod:`app.policy.rulebook` (each rule refuses at ``now`` when a fact is
newer than ``now - D(n)``; it passes again at that fact ``+ D(n)``). Only validated whole
numbers of days and fixed reason codes are written into the SQL text; every other value is a
bound parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text

from app.db import UTCDateTime, db, is_postgres
from app.policy.facts import Reason
from app.policy.rulebook import RULES, days
from app.policy.rules import YEAR_DAYS, CadenceRules
from app.services.cadence import ALREADY_INVITED, UNREACHABLE
from app.vocabulary import OPEN_STATUSES, Channel, contact_at_sql, contact_sql, status_sql


def _greatest(parts: list[str], pg: bool) -> str:
    return f"{'GREATEST' if pg else 'MAX'}({', '.join(parts)})"


def temp_tables(pg: bool) -> None:
    drop = "DROP TABLE IF EXISTS {}" if pg else "DROP TABLE IF EXISTS temp.{}"
    suffix = " ON COMMIT DROP" if pg else ""
    for name in ("fanout_candidate", "fanout_result", "fanout_schedule"):
        db.session.execute(text(drop.format(name)))
    db.session.execute(text(f"CREATE TEMPORARY TABLE fanout_candidate (person_id INTEGER){suffix}"))
    db.session.execute(
        text(
            "CREATE TEMPORARY TABLE fanout_schedule (tz VARCHAR(64), send_at {t}, "
            "reminder_1_at {t}, reminder_2_at {t}, deadline_at {t}, next_action_at {t}, "
            "status VARCHAR(32), sent_at {t}){s}".format(
                t="TIMESTAMPTZ" if pg else "DATETIME", s=suffix
            )
        )
    )


def facts_sql(rules: CadenceRules, channel: Channel, pg: bool) -> str:
    """The SELECT deciding for everyone in ``fanout_candidate`` (see the module doc). Rules
    that are off are left out of the statement altogether."""
    contact, contact_at = contact_sql("i"), contact_at_sql("i")
    clauses = {rule.reason: rule.sql(rules, channel, pg) for rule in RULES}
    cap_on = clauses[Reason.ACCOUNT_CAP] is not None
    widget = clauses[Reason.DISMISSAL_BACKOFF] is not None
    address = {Channel.EMAIL: "cand.email", Channel.SMS: "cand.phone"}.get(channel)
    manual = "" if channel == Channel.EMAIL else " AND se.reason = 'manual'"
    manual_phone = "" if channel == Channel.SMS else " AND sp.reason = 'manual'"
    ctes = [
        """cand AS (
  SELECT p.id AS person_id, p.account_id, p.timezone, p.signed_up_at, p.email, p.phone
  FROM person p JOIN fanout_candidate c ON c.person_id = p.id
  WHERE p.id BETWEEN :lo AND :hi)""",
        f"""contact AS (
  SELECT i.person_id, i.survey_id, {contact_at} AS at
  FROM invitation i JOIN cand ON cand.person_id = i.person_id
  WHERE i.person_id BETWEEN :lo AND :hi AND {contact}
  UNION ALL
  SELECT w.person_id, w.survey_id, w.shown_at FROM widget_display w
  JOIN cand ON cand.person_id = w.person_id WHERE w.person_id BETWEEN :lo AND :hi)""",  # noqa: S608
        """per AS (
  SELECT person_id, MAX(at) AS last_at,
    MAX(CASE WHEN survey_id = :survey_id THEN at END) AS last_survey_at,
    SUM(CASE WHEN at > :year_since THEN 1 ELSE 0 END) AS year_count
  FROM contact GROUP BY person_id)""",
        """capped AS (
  SELECT person_id, at FROM (
    SELECT c.person_id, c.at,
      ROW_NUMBER() OVER (PARTITION BY c.person_id ORDER BY c.at DESC) AS rn
    FROM contact c JOIN per ON per.person_id = c.person_id AND per.year_count >= :yearly_cap
  ) ranked WHERE rn = :yearly_cap)""",
    ]
    joins = [
        "LEFT JOIN per ON per.person_id = cand.person_id",
        "LEFT JOIN capped ON capped.person_id = cand.person_id",
        f"LEFT JOIN suppression se ON se.kind = 'email' AND se.value = cand.email{manual}",
        f"LEFT JOIN suppression sp ON sp.kind = 'phone' AND sp.value = cand.phone{manual_phone}",
    ]
    if widget:
        ctes.append(
            """dismissed AS (
  SELECT w.person_id, MAX(w.dismissed_at) AS at FROM widget_display w
  JOIN cand ON cand.person_id = w.person_id WHERE w.dismissed_at IS NOT NULL
  GROUP BY w.person_id)"""
        )
        joins.append("LEFT JOIN dismissed ON dismissed.person_id = cand.person_id")
    if cap_on:
        ctes.append(
            f"""acct_contact AS (
  SELECT i.person_id, {contact_at} AS at
  FROM invitation i JOIN person p2 ON p2.id = i.person_id
  WHERE p2.account_id IN (SELECT account_id FROM cand) AND {contact}
  UNION ALL
  SELECT w.person_id, w.shown_at FROM widget_display w JOIN person p2 ON p2.id = w.person_id
  WHERE p2.account_id IN (SELECT account_id FROM cand))"""  # noqa: S608
        )
        ctes.append(
            """acct_ranked AS (
  SELECT p2.account_id, ac.person_id, MAX(ac.at) AS last_at,
    ROW_NUMBER() OVER (PARTITION BY p2.account_id ORDER BY MAX(ac.at) DESC) AS rn
  FROM acct_contact ac JOIN person p2 ON p2.id = ac.person_id
  WHERE ac.at > :acct_since GROUP BY p2.account_id, ac.person_id)"""
        )
        ctes.append(
            """acct AS (
  SELECT account_id, COUNT(*) AS n_recent,
    MAX(CASE WHEN rn = :account_cap THEN last_at END) AS t_cap,
    MAX(CASE WHEN rn = :account_cap + 1 THEN last_at END) AS t_cap1
  FROM acct_ranked GROUP BY account_id)"""
        )
        joins.append("LEFT JOIN acct ON acct.account_id = cand.account_id")
        joins.append(
            "LEFT JOIN acct_ranked me ON me.account_id = cand.account_id "
            "AND me.person_id = cand.person_id"
        )
    refuse: list[tuple[str, str]] = []
    if address is not None:
        refuse.append((f"{address} IS NULL", UNREACHABLE))
    refuse.append(
        (
            "EXISTS (SELECT 1 FROM invitation oi WHERE oi.person_id = cand.person_id "  # noqa: S608
            "AND oi.person_id BETWEEN :lo AND :hi "
            "AND oi.survey_id = :survey_id AND oi.channel = :channel AND "
            f"{status_sql(OPEN_STATUSES, 'oi.status')})",
            ALREADY_INVITED,
        )
    )
    # The rules, one clause each, in precedence order (app.policy.rulebook).
    until = [":now"]
    for reason, clause in clauses.items():
        if clause is not None:
            refuse.append((clause.condition, reason.value))
            if clause.until is not None:
                until.append(clause.until)
    cases = "\n    ".join(f"WHEN {cond} THEN '{reason}'" for cond, reason in refuse)
    in_r = "CASE WHEN me.person_id IS NULL THEN 0 ELSE 1 END" if cap_on else "0"
    n_recent = "COALESCE(acct.n_recent, 0)" if cap_on else "0"
    return f"""WITH {", ".join(ctes)},
decided AS (
  SELECT cand.person_id, cand.account_id, COALESCE(cand.timezone, '') AS tz,
    CASE {cases}
    ELSE 'ok' END AS reason,
    {_greatest(until, pg)} AS rules_ok_at,
    {in_r} AS in_r, {n_recent} AS n_recent
  FROM cand {" ".join(joins)})
SELECT person_id, account_id, tz, reason, rules_ok_at, in_r, n_recent FROM decided"""  # noqa: S608


def rule_params(rules: CadenceRules, now: datetime) -> dict[str, Any]:
    window = rules.account_cap_window_days
    return {
        "year_since": now - days(YEAR_DAYS),
        "tenure_since": now - days(rules.min_tenure_days),
        "recurrence_since": now - days(rules.recurrence_days),
        "recontact_since": now - days(rules.recontact_days),
        "dismissal_since": now - days(rules.dismissal_backoff_days),
        "acct_since": now - days(window),
        "acct_next": now + days(window),
        "yearly_cap": rules.yearly_cap,
        "account_cap": rules.account_cap or 0,
    }


_TIME_PARAMS = (
    "now",
    "year_since",
    "tenure_since",
    "recurrence_since",
    "recontact_since",
    "dismissal_since",
    "acct_since",
    "acct_next",
)


def stmt(sql: str, params: Mapping[str, Any]) -> Any:
    """``text(sql)`` with its time parameters typed (SQLite stores times as text)."""
    stmt = text(sql)
    binds = [bindparam(n, type_=UTCDateTime()) for n in _TIME_PARAMS if f":{n}" in sql]
    return stmt.bindparams(*binds) if binds else stmt


def decide_chunk(
    survey_id: int, channel: Channel, rules: CadenceRules, now: datetime, person_ids: list[int]
) -> None:
    """Fill the temporary table ``fanout_result`` for ``person_ids`` (already locked)."""
    pg = is_postgres()
    if pg:
        db.session.execute(
            text("INSERT INTO fanout_candidate SELECT unnest(CAST(:ids AS integer[]))"),
            {"ids": person_ids},
        )
        # Temporary tables are never analyzed on their own: without this the planner
        # guesses a thousand people and picks nested loops for a hundred thousand.
        db.session.execute(text("ANALYZE fanout_candidate"))
    else:
        db.session.execute(
            text("INSERT INTO fanout_candidate (person_id) VALUES (:id)"),
            [{"id": i} for i in person_ids],
        )
    sql = facts_sql(rules, channel, pg)
    final = "reason"
    if rules.account_cap is not None:
        # Earlier people of the same run use up the account's slots (person id order).
        sql = f"""SELECT d.*, SUM(CASE WHEN d.reason = 'ok' AND d.in_r = 0 THEN 1 ELSE 0 END)
  OVER (PARTITION BY d.account_id ORDER BY d.person_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS new_before
FROM ({sql}) d"""  # noqa: S608
        final = (
            "CASE WHEN reason = 'ok' AND account_id IS NOT NULL AND in_r = 0 "
            "AND n_recent + COALESCE(new_before, 0) >= :account_cap THEN 'account_cap' "
            "ELSE reason END"
        )
        ok_at = (
            "CASE WHEN reason = 'ok' AND account_id IS NOT NULL AND in_r = 0 "
            "AND n_recent + COALESCE(new_before, 0) >= :account_cap THEN :acct_next "
            "ELSE rules_ok_at END"
        )
    else:
        ok_at = "rules_ok_at"
    create = "CREATE TEMPORARY TABLE fanout_result{} AS ".format(" ON COMMIT DROP" if pg else "")
    full = (
        f"{create}SELECT person_id, account_id, tz, {final} AS reason, {ok_at} AS rules_ok_at "  # noqa: S608
        f"FROM ({sql}) f"
    )
    params = {
        **rule_params(rules, now),
        "now": now,
        "survey_id": survey_id,
        "lo": min(person_ids),
        "hi": max(person_ids),
        "channel": channel.value,
    }
    db.session.execute(stmt(full, params), params)
