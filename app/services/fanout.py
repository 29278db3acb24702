"""Set-based cadence: decide for thousands of people in one statement, then invite them in
batches (docs/architecture.md, "Working at scale"). Campaigns, recurring surveys and event rules
all go through :func:`fan_out_chunk`.

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

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, column, delete, select, table, text

from app.db import UTCDateTime, db, is_postgres
from app.jobs.delivery import enqueue_delivery, lease
from app.models import Account, DeferredAsk, Person, Survey
from app.policy.facts import QUIET_HOURS_CHANNELS, Reason
from app.policy.planner import plan
from app.policy.quiet_hours import SendWindow, next_send_time, resolve_zone
from app.policy.rulebook import RULES
from app.policy.rules import CadenceRules
from app.services.cadence import ALREADY_INVITED, UNREACHABLE
from app.services.cadence_rules import rules_for
from app.services.fanout_sql import decide_chunk, stmt, temp_tables
from app.services.invitations import reminder_plan
from app.vocabulary import Channel, Step, Trigger

#: People decided per transaction.
CHUNK = 10_000
_CANDIDATE_IDS: Select[tuple[Any]] = select(column("person_id")).select_from(
    table("fanout_candidate")
)
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


def _schedules(
    survey: Survey, rules: CadenceRules, channel: Channel, now: datetime, zones: list[str]
) -> list[dict[str, Any]]:
    """The plan per distinct time zone (the send window depends only on the zone); a zone
    whose send comes after the survey closes has none (these people are skipped)."""
    window = SendWindow.from_rules(rules)
    start = max(now, survey.opens_at) if survey.opens_at else now
    rows = []
    for tz in zones:
        send_at = start
        if channel in QUIET_HOURS_CHANNELS:
            zone, _ = resolve_zone(tz or None, rules.default_timezone)
            send_at = next_send_time(start, zone, window)
        planned = plan(
            reminder_plan(survey),
            rules,
            channel,
            send_at,
            timezone=tz or None,
            closes_at=survey.closes_at,
            now=now,
            lease=lease(),
        )
        if planned is not None:
            rows.append({"tz": tz, **dataclasses.asdict(planned), "status": planned.status.value})
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
    temp_tables(pg)
    decide_chunk(spec.survey_id, spec.channel, rules, now, person_ids)

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
                f"UPDATE fanout_result SET reason = '{SURVEY_CLOSED}' WHERE reason = 'ok' "  # noqa: S608
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
        stmt(
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
    enqueue_delivery(spec.channel, Step.INITIAL, [inv_id for inv_id, due in invited if due])
    if spec.deferred:
        db.session.execute(
            delete(DeferredAsk)
            .where(*_deferred_where(spec, now), DeferredAsk.person_id.in_(_CANDIDATE_IDS))
            .execution_options(synchronize_session=False)
        )
    _store_refusals(spec, rules, now, params)
    counts: dict[str, int] = dict(
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


def reason_messages(rules: CadenceRules, spec: FanOutSpec) -> dict[str, str]:
    """One readable sentence per reason (the exact per-person wording is the eligibility
    endpoint's, computed live): the fan-out's own reasons, then each rule's sentence."""
    by = f"campaign {spec.campaign_id}" if spec.campaign_id else f"the {spec.trigger.value} ask"
    return {
        UNREACHABLE: f"Not asked by {by}: no {spec.channel.value} address to send to.",
        ALREADY_INVITED: f"Not asked by {by}: already has an open invitation to this survey.",
        SURVEY_CLOSED: f"Not asked by {by}: the survey closes before the person's send window.",
        **{rule.reason.value: rule.says(rules, by) for rule in RULES},
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
        stmt(
            f"""INSERT INTO decision (person_id, survey_id, channel, trigger, campaign_id, allowed,
  reason, message, next_eligible_at, created_at)
SELECT person_id, :survey_id, :channel, :trigger, :campaign_id, false, reason,
  CASE reason {cases} ELSE reason END,
  CASE WHEN reason IN {never} THEN NULL ELSE rules_ok_at END, :now
FROM fanout_result WHERE reason <> 'ok'""",  # noqa: S608
            all_params,
        ),
        all_params,
    )
    waiting = "('account_cap')"
    if spec.wait_refused:
        waiting = "(" + ", ".join(f"'{r}'" for r in sorted(WAITABLE)) + ")"
    db.session.execute(
        stmt(
            f"""INSERT INTO deferred_ask (survey_id, person_id, channel, trigger, campaign_id,
  due_at, created_at)
SELECT :survey_id, person_id, :channel, :trigger, :campaign_id, rules_ok_at, :now
FROM fanout_result WHERE reason IN {waiting}""",  # noqa: S608
            params,
        ),
        params,
    )
