"""A cadence change's dry run: over a survey's audience, how many people the fan-out would
ask today under the current rules and under the proposed ones, and how many each rule refuses.

It runs the fan-out's own set-based decision (:func:`app.services.fanout_sql.decide_chunk`,
one statement for everyone) inside a savepoint that is rolled back: nothing is invited,
stored or sent, and the caller's transaction is left as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text

from app.db import db, is_postgres
from app.models import Person
from app.policy.facts import Reason
from app.policy.rules import CadenceRules
from app.services.cadence import ALREADY_INVITED, UNREACHABLE
from app.services.fanout_sql import decide_chunk, temp_tables
from app.vocabulary import Channel

#: What each refusal means, for people reading the dry run.
REASON_LABELS = {
    Reason.SUPPRESSED.value: "suppressed (must not be contacted)",
    UNREACHABLE: "no address on this channel",
    ALREADY_INVITED: "already have an open invitation to this survey",
    Reason.MIN_TENURE.value: "signed up too recently (minimum tenure)",
    Reason.YEARLY_CAP.value: "asked too often this year (yearly cap)",
    Reason.RECURRENCE.value: "got this survey too recently (recurrence)",
    Reason.RECONTACT_PERIOD.value: "asked any survey too recently (recontact period)",
    Reason.DISMISSAL_BACKOFF.value: "dismissed the widget recently (dismissal backoff)",
    Reason.ACCOUNT_CAP.value: "their account has had its share (account cap)",
}


@dataclass(frozen=True, slots=True)
class ReasonCount:
    reason: str
    label: str
    now: int
    proposed: int

    @property
    def change(self) -> int:
        return self.proposed - self.now


@dataclass(frozen=True, slots=True)
class DryRun:
    audience: int
    asked_now: int
    asked_proposed: int
    refusals: tuple[ReasonCount, ...]


def _counts(
    survey_id: int, channel: Channel, rules: CadenceRules, now: datetime, ids: list[int]
) -> dict[str, int]:
    savepoint = db.session.begin_nested()
    try:
        temp_tables(is_postgres())
        decide_chunk(survey_id, channel, rules, now, ids)
        rows = db.session.execute(
            text("SELECT reason, COUNT(*) FROM fanout_result GROUP BY reason")
        ).all()
        return {str(reason): int(n) for reason, n in rows}
    finally:
        savepoint.rollback()


def dry_run(
    survey_id: int,
    channel: Channel,
    current: CadenceRules,
    proposed: CadenceRules,
    now: datetime,
) -> DryRun:
    """The fan-out's decision for everyone, under ``current`` and ``proposed`` rules."""
    ids = list(db.session.scalars(select(Person.id).order_by(Person.id)))
    if not ids:
        return DryRun(0, 0, 0, ())
    before = _counts(survey_id, channel, current, now, ids)
    after = _counts(survey_id, channel, proposed, now, ids)
    ok = Reason.OK.value
    reasons = sorted((set(before) | set(after)) - {ok}, key=lambda r: -after.get(r, 0))
    refusals = tuple(
        ReasonCount(r, REASON_LABELS.get(r, r), before.get(r, 0), after.get(r, 0)) for r in reasons
    )
    return DryRun(len(ids), before.get(ok, 0), after.get(ok, 0), refusals)
