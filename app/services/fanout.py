"""Set-based cadence: decide for thousands of people in one statement, then invite them in
batches (DESIGN.md, "Working at scale"). Campaigns, recurring surveys and event rules all go
through :func:`fan_out_chunk`.

One chunk (up to :data:`CHUNK` people, in person id order) is one transaction:

1. lock the chunk's people (``FOR NO KEY UPDATE``, id order), then their accounts when an
   account cap is set: the same order as a single invitation, so locks never cycle;
2. one statement computes every person's facts (contacts, this survey's latest, the yearly
   count, the dismissal, the account's other recent people) and the first refusing rule, in
   the order of ``REFUSAL_ORDER``, into a temporary table; it mirrors the rule table of
   :mod:`app.policy.cadence` (tested against the engine on random data);
3. quiet hours: for those allowed now the send time depends only on the time zone, so it is
   computed in Python once per distinct zone;
4. ``INSERT ... SELECT`` the invitations, the refusals (``decision`` rows) and the asks that
   wait (``deferred_ask``: the account cap's "asked later, not dropped");
5. send jobs are enqueued after the commit, a batch of ids per job.

For a refusal stored here, ``next_eligible_at`` is when the cadence rules pass again; the
person's send window may move the send a little later (the eligibility endpoint answers
exactly).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, column, delete, select, table, text

from app.db import UTCDateTime, db, is_postgres
from app.jobs.delivery import JOB_FOR_CHANNEL, LEASE
from app.jobs.queue import enqueue_after_commit
from app.models import Account, DeferredAsk, Person, Survey
from app.policy import lifecycle
from app.policy.cadence import days
from app.policy.deadlines import end_of_local_day
from app.policy.facts import QUIET_HOURS_CHANNELS, Reason
from app.policy.quiet_hours import SendWindow, next_send_time, resolve_zone
from app.policy.rules import YEAR_DAYS, CadenceRules
from app.services.cadence import ALREADY_INVITED, UNREACHABLE
from app.services.cadence_rules import rules_for
from app.services.invitations import reminder_plan
from app.vocabulary import Channel, Trigger

#: People decided per transaction.
CHUNK = 10_000
_CANDIDATE_IDS = select(column("person_id")).select_from(table("fanout_candidate"))
SURVEY_CLOSED = "survey_closed"
#: Refusals a recurring survey waits out (the others would only refuse again).
WAITABLE = frozenset(r.value for r in Reason) - {"ok", "quiet_hours", "suppressed"}


@dataclass(frozen=True, slots=True)
class FanOutSpec:
    survey_id: int
    channel: Channel
    trigger: Trigger
    campaign_id: int | None = None
    audience_clause: Any = None
    """A WHERE clause on Person (the audience), or None with ``deferred`` set."""
    deferred: bool = False
    """Decide for the due ``deferred_ask`` rows of this survey, channel, trigger, campaign."""
    wait_refused: bool = False
    """Refused people wait (a deferred ask at their next eligible time) instead of being
    skipped: recurring surveys ask everyone once they may."""


@dataclass(frozen=True, slots=True)
class ChunkResult:
    counts: dict[str, int]
    last_person_id: int
    done: bool


def _plus_days(expr: str, n: int, pg: bool) -> str:
    if pg:
        return f"({expr} + make_interval(secs => {int(n) * 86400}))"
    return f"(strftime('%Y-%m-%d %H:%M:%S', {expr}, '+{int(n) * 86400} seconds') || substr({expr}, 20))"


def _greatest(parts: list[str], pg: bool) -> str:
    return f"{'GREATEST' if pg else 'MAX'}({', '.join(parts)})"


def _deferred_where(spec: FanOutSpec, now: datetime) -> list[Any]:
    campaign = (
        DeferredAsk.campaign_id == spec.campaign_id
        if spec.campaign_id
        else DeferredAsk.campaign_id.is_(None)
    )
    return [
        DeferredAsk.survey_id == spec.survey_id,
        DeferredAsk.channel == spec.channel,
        DeferredAsk.trigger == spec.trigger,
        campaign,
        DeferredAsk.due_at <= now,
    ]


def _candidates(spec: FanOutSpec, now: datetime, after: int, chunk: int) -> list[int]:
    """The next chunk of people (ids > ``after``), locked in id order."""
    query = select(Person.id).where(Person.id > after)
    if spec.deferred:
        due = select(DeferredAsk.person_id).where(*_deferred_where(spec, now))
        query = query.where(Person.id.in_(due.scalar_subquery()))
    if spec.audience_clause is not None:
        query = query.where(spec.audience_clause)
    query = query.order_by(Person.id).limit(chunk).with_for_update(key_share=True)
    return list(db.session.scalars(query))


def _temp_tables(pg: bool) -> None:
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
    contact = "(i.sent_at IS NOT NULL OR i.status IN ('scheduled','sending','needs_review'))"
    cap_on = rules.account_cap is not None
    widget = channel == Channel.WIDGET and rules.dismissal_backoff_days > 0
    address = {Channel.EMAIL: "cand.email", Channel.SMS: "cand.phone"}.get(channel)
    manual = "" if channel == Channel.EMAIL else " AND se.reason = 'manual'"
    manual_phone = "" if channel == Channel.SMS else " AND sp.reason = 'manual'"
    ctes = [
        """cand AS (
  SELECT p.id AS person_id, p.account_id, p.timezone, p.signed_up_at, p.email, p.phone
  FROM person p JOIN fanout_candidate c ON c.person_id = p.id)""",
        f"""contact AS (
  SELECT i.person_id, i.survey_id, COALESCE(i.sent_at, i.scheduled_at) AS at
  FROM invitation i JOIN cand ON cand.person_id = i.person_id WHERE {contact}
  UNION ALL
  SELECT w.person_id, w.survey_id, w.shown_at FROM widget_display w
  JOIN cand ON cand.person_id = w.person_id)""",
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
  SELECT i.person_id, COALESCE(i.sent_at, i.scheduled_at) AS at
  FROM invitation i JOIN person p2 ON p2.id = i.person_id
  WHERE p2.account_id IN (SELECT account_id FROM cand) AND {contact}
  UNION ALL
  SELECT w.person_id, w.shown_at FROM widget_display w JOIN person p2 ON p2.id = w.person_id
  WHERE p2.account_id IN (SELECT account_id FROM cand))"""
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
    others_cap = "(CASE WHEN me.rn <= :account_cap THEN acct.t_cap1 ELSE acct.t_cap END)"

    refuse: list[tuple[str, str]] = []
    if address is not None:
        refuse.append((f"{address} IS NULL", UNREACHABLE))
    refuse.append(
        (
            "EXISTS (SELECT 1 FROM invitation oi WHERE oi.person_id = cand.person_id "
            "AND oi.survey_id = :survey_id AND oi.channel = :channel AND oi.status IN "
            "('scheduled','sending','sent','reminded_1','reminded_2'))",
            ALREADY_INVITED,
        )
    )
    refuse.append(("se.id IS NOT NULL OR sp.id IS NOT NULL", Reason.SUPPRESSED.value))
    until = [":now"]
    if rules.min_tenure_days:
        refuse.append(("cand.signed_up_at > :tenure_since", Reason.MIN_TENURE.value))
        until.append(
            "COALESCE(" + _plus_days("cand.signed_up_at", rules.min_tenure_days, pg) + ", :now)"
        )
    refuse.append(("per.year_count >= :yearly_cap", Reason.YEARLY_CAP.value))
    until.append("COALESCE(" + _plus_days("capped.at", YEAR_DAYS, pg) + ", :now)")
    if rules.recurrence_days:
        refuse.append(("per.last_survey_at > :recurrence_since", Reason.RECURRENCE.value))
        until.append(
            "COALESCE(" + _plus_days("per.last_survey_at", rules.recurrence_days, pg) + ", :now)"
        )
    if rules.recontact_days:
        refuse.append(("per.last_at > :recontact_since", Reason.RECONTACT_PERIOD.value))
        until.append("COALESCE(" + _plus_days("per.last_at", rules.recontact_days, pg) + ", :now)")
    if widget:
        refuse.append(("dismissed.at > :dismissal_since", Reason.DISMISSAL_BACKOFF.value))
        until.append(
            "COALESCE(" + _plus_days("dismissed.at", rules.dismissal_backoff_days, pg) + ", :now)"
        )
    if cap_on:
        refuse.append((f"{others_cap} > :acct_since", Reason.ACCOUNT_CAP.value))
        until.append(
            "COALESCE(" + _plus_days(others_cap, rules.account_cap_window_days, pg) + ", :now)"
        )
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
SELECT person_id, account_id, tz, reason, rules_ok_at, in_r, n_recent FROM decided"""


def _rule_params(rules: CadenceRules, now: datetime) -> dict[str, Any]:
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


def _stmt(sql: str, params: Mapping[str, Any]) -> Any:
    """``text(sql)`` with its time parameters typed (SQLite stores times as text)."""
    stmt = text(sql)
    binds = [bindparam(n, type_=UTCDateTime()) for n in _TIME_PARAMS if f":{n}" in sql]
    return stmt.bindparams(*binds) if binds else stmt


def decide_chunk(
    spec: FanOutSpec, rules: CadenceRules, now: datetime, person_ids: list[int]
) -> None:
    """Fill the temporary table ``fanout_result`` for ``person_ids`` (already locked)."""
    pg = is_postgres()
    if pg:
        db.session.execute(
            text("INSERT INTO fanout_candidate SELECT unnest(CAST(:ids AS integer[]))"),
            {"ids": person_ids},
        )
    else:
        db.session.execute(
            text("INSERT INTO fanout_candidate (person_id) VALUES (:id)"),
            [{"id": i} for i in person_ids],
        )
    sql = facts_sql(rules, spec.channel, pg)
    final = "reason"
    if rules.account_cap is not None:
        # Earlier people of the same run use up the account's slots (person id order).
        sql = f"""SELECT d.*, SUM(CASE WHEN d.reason = 'ok' AND d.in_r = 0 THEN 1 ELSE 0 END)
  OVER (PARTITION BY d.account_id ORDER BY d.person_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS new_before
FROM ({sql}) d"""
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
        f"{create}SELECT person_id, account_id, tz, {final} AS reason, {ok_at} AS rules_ok_at "
        f"FROM ({sql}) f"
    )
    params = {
        **_rule_params(rules, now),
        "now": now,
        "survey_id": spec.survey_id,
        "channel": spec.channel.value,
    }
    db.session.execute(_stmt(full, params), params)


def _schedules(
    survey: Survey, rules: CadenceRules, channel: Channel, now: datetime, zones: list[str]
) -> list[dict[str, Any]]:
    """Send time, reminders and deadline per distinct time zone (quiet hours per zone)."""
    window = SendWindow.from_rules(rules)
    start = max(now, survey.opens_at) if survey.opens_at else now
    rows = []
    for tz in zones:
        send_at = start
        if channel in QUIET_HOURS_CHANNELS:
            zone, _ = resolve_zone(tz or None, rules.default_timezone)
            send_at = next_send_time(start, zone, window)
        times = lifecycle.schedule(reminder_plan(survey), send_at, channel)
        deadline = end_of_local_day(times.deadline_at, tz or None)
        if survey.closes_at is not None:
            if send_at >= survey.closes_at:
                continue  # these people are skipped: the survey closes first
            deadline = min(deadline, survey.closes_at)
        due = send_at <= now
        is_link = channel == Channel.LINK
        rows.append(
            {
                "tz": tz,
                "send_at": send_at,
                "reminder_1_at": times.reminder_1_at,
                "reminder_2_at": times.reminder_2_at,
                "deadline_at": deadline,
                "next_action_at": (deadline if is_link else now + LEASE) if due else send_at,
                "status": "sent" if (is_link and due) else "scheduled",
                "sent_at": send_at if (is_link and due) else None,
            }
        )
    return rows


def fan_out_chunk(
    spec: FanOutSpec, now: datetime, after: int = 0, chunk: int = CHUNK
) -> ChunkResult:
    """Decide for and invite the next chunk of people (ids > ``after``); the caller commits."""
    survey = db.session.get(Survey, spec.survey_id)
    assert survey is not None
    person_ids = _candidates(spec, now, after, chunk)
    if not person_ids:
        return ChunkResult({}, after, True)
    rules = rules_for(spec.survey_id)
    pg = is_postgres()
    if rules.account_cap is not None:
        accounts = select(Person.account_id).where(Person.id.in_(person_ids))
        db.session.execute(
            select(Account.id)
            .where(Account.id.in_(accounts.scalar_subquery()))
            .order_by(Account.id)
            .with_for_update(key_share=True)
        )
    _temp_tables(pg)
    decide_chunk(spec, rules, now, person_ids)

    zones = list(
        db.session.scalars(text("SELECT DISTINCT tz FROM fanout_result WHERE reason = 'ok'"))
    )
    schedules = _schedules(survey, rules, spec.channel, now, zones)
    if schedules:
        db.session.execute(
            _insert_schedule(pg),
            schedules,
        )
    if zones and len(schedules) < len(zones):
        db.session.execute(
            text(
                f"UPDATE fanout_result SET reason = '{SURVEY_CLOSED}' WHERE reason = 'ok' "
                "AND tz NOT IN (SELECT tz FROM fanout_schedule)"
            )
        )
    params = {
        "now": now,
        "survey_id": spec.survey_id,
        "channel": spec.channel.value,
        "trigger": spec.trigger.value,
        "campaign_id": spec.campaign_id,
    }
    invited = db.session.execute(
        _stmt(
            """INSERT INTO invitation (survey_id, person_id, account_id, channel, status, trigger,
  sender_id, scheduled_at, sent_at, reminder_1_at, reminder_2_at, deadline_at, next_action_at,
  attempts, created_at, updated_at)
SELECT :survey_id, r.person_id, r.account_id, :channel, s.status, :trigger, a.csm_id,
  s.send_at, s.sent_at, s.reminder_1_at, s.reminder_2_at, s.deadline_at, s.next_action_at,
  0, :now, :now
FROM fanout_result r JOIN fanout_schedule s ON s.tz = r.tz
LEFT JOIN account a ON a.id = r.account_id
WHERE r.reason = 'ok' ORDER BY r.person_id
RETURNING id, CASE WHEN scheduled_at <= :now THEN 1 ELSE 0 END""",
            params,
        ),
        params,
    ).all()
    _enqueue(spec.channel, [inv_id for inv_id, due in invited if due])
    if spec.deferred:
        db.session.execute(
            delete(DeferredAsk)
            .where(*_deferred_where(spec, now), DeferredAsk.person_id.in_(_CANDIDATE_IDS))
            .execution_options(synchronize_session=False)
        )
    _store_refusals(spec, rules, now, params)
    counts = dict(
        db.session.execute(text("SELECT reason, COUNT(*) FROM fanout_result GROUP BY reason")).all()
    )
    if not pg:
        for name in ("fanout_candidate", "fanout_result", "fanout_schedule"):
            db.session.execute(text(f"DROP TABLE IF EXISTS temp.{name}"))
    return ChunkResult(
        {str(k): int(v) for k, v in counts.items()}, person_ids[-1], len(person_ids) < chunk
    )


def _insert_schedule(pg: bool) -> Any:
    return text(
        "INSERT INTO fanout_schedule (tz, send_at, reminder_1_at, reminder_2_at, deadline_at, "
        "next_action_at, status, sent_at) VALUES (:tz, :send_at, :reminder_1_at, "
        ":reminder_2_at, :deadline_at, :next_action_at, :status, :sent_at)"
    ).bindparams(
        *[
            bindparam(n, type_=UTCDateTime())
            for n in (
                "send_at",
                "reminder_1_at",
                "reminder_2_at",
                "deadline_at",
                "next_action_at",
                "sent_at",
            )
        ]
    )


def _enqueue(channel: Channel, ids: list[int]) -> None:
    if channel not in JOB_FOR_CHANNEL or not ids:
        return
    size = current_app.config["JOB_BATCH_SIZE"]
    for start in range(0, len(ids), size):
        enqueue_after_commit(
            JOB_FOR_CHANNEL[channel], ids[start : start + size], lifecycle.Step.INITIAL.value
        )


def reason_messages(rules: CadenceRules, spec: FanOutSpec) -> dict[str, str]:
    """One readable sentence per reason (the exact per-person wording is the eligibility
    endpoint's, computed live)."""
    by = f"campaign {spec.campaign_id}" if spec.campaign_id else f"the {spec.trigger.value} ask"
    cap = rules.account_cap
    return {
        UNREACHABLE: f"Not asked by {by}: no {spec.channel.value} address to send to.",
        ALREADY_INVITED: f"Not asked by {by}: already has an open invitation to this survey.",
        SURVEY_CLOSED: f"Not asked by {by}: the survey closes before the person's send window.",
        "suppressed": f"Not asked by {by}: suppressed; this person must not be contacted.",
        "min_tenure": f"Not asked by {by}: signed up less than "
        f"{rules.min_tenure_days} days ago (minimum tenure).",
        "yearly_cap": f"Not asked by {by}: already asked {rules.yearly_cap} times in the last "
        f"{YEAR_DAYS} days (yearly cap).",
        "recurrence": f"Not asked by {by}: got this survey within the last "
        f"{rules.recurrence_days} days (recurrence).",
        "recontact_period": f"Not asked by {by}: asked within the last "
        f"{rules.recontact_days} days (recontact period).",
        "dismissal_backoff": f"Not asked by {by}: dismissed a survey in the app within the "
        f"last {rules.dismissal_backoff_days} days.",
        "account_cap": f"Waiting ({by}): {cap} people of this account were already asked in "
        f"{rules.account_cap_window_days} days (account cap); asked when a slot frees.",
    }


def _store_refusals(
    spec: FanOutSpec, rules: CadenceRules, now: datetime, params: dict[str, Any]
) -> None:
    messages = reason_messages(rules, spec)
    cases = " ".join(f"WHEN '{reason}' THEN :msg_{i}" for i, reason in enumerate(messages))
    message_params = {f"msg_{i}": text_ for i, text_ in enumerate(messages.values())}
    never = f"('{UNREACHABLE}', '{ALREADY_INVITED}', '{SURVEY_CLOSED}', 'suppressed')"
    all_params = {**params, **message_params}
    db.session.execute(
        _stmt(
            f"""INSERT INTO decision (person_id, survey_id, channel, trigger, campaign_id, allowed,
  reason, message, next_eligible_at, created_at)
SELECT person_id, :survey_id, :channel, :trigger, :campaign_id, false, reason,
  CASE reason {cases} ELSE reason END,
  CASE WHEN reason IN {never} THEN NULL ELSE rules_ok_at END, :now
FROM fanout_result WHERE reason <> 'ok'""",
            all_params,
        ),
        all_params,
    )
    waiting = "('account_cap')"
    if spec.wait_refused:
        waiting = "(" + ", ".join(f"'{r}'" for r in sorted(WAITABLE)) + ")"
    db.session.execute(
        _stmt(
            f"""INSERT INTO deferred_ask (survey_id, person_id, channel, trigger, campaign_id, due_at,
  created_at)
SELECT :survey_id, person_id, :channel, :trigger, :campaign_id, rules_ok_at, :now
FROM fanout_result WHERE reason IN {waiting}""",
            params,
        ),
        params,
    )
