"""Cadence mechanism: a person's history from the database into the pure engine
(:mod:`app.policy.cadence`), the decision for one ask, and what is stored about it.

What counts as a survey contact (one definition, :func:`app.vocabulary.contact_sql`, also
written into the fan-out's SQL and read by recurring planning):

- an invitation on any channel at ``coalesce(sent_at, scheduled_at)``, if it went out
  (``sent_at`` set), may still go out (``scheduled``, ``sending``, scheduled in the future
  included) or may have gone out (``needs_review``); invitations canceled, failed, suppressed
  or expired before going out are not contacts; reminders are not contacts;
- a widget display at ``shown_at``.

Suppressions, by channel (they always win):

- email: any suppression of the person's email address (unsubscribed, bounced, spam report,
  dropped, manual);
- SMS: any suppression of the person's phone number (STOP, undeliverable, manual);
- every channel (link and widget too): a ``manual`` suppression of either, an admin's
  "do not contact this person".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, literal, literal_column, or_, select, text, union_all

from app.db import UTCDateTime, db
from app.errors import Conflict
from app.models import Account, Decision, Invitation, Person, Suppression, Survey
from app.models.widget import WidgetDisplay
from app.policy import cadence as engine
from app.policy import facts
from app.policy.cadence import days
from app.policy.rules import CadenceRules
from app.policy.wording import iso
from app.services.cadence_rules import rules_for
from app.vocabulary import (
    Channel,
    SuppressionKind,
    SuppressionReason,
    Trigger,
    contact_at_sql,
    contact_sql,
)

#: Reasons outside the engine's: nothing to send to, or already asked on this channel.
UNREACHABLE = "unreachable"
_ADDRESS = {Channel.EMAIL: "email address", Channel.SMS: "phone number"}
ALREADY_INVITED = "already_invited"


def invitation_is_contact() -> Any:
    """Whether an ``invitation`` row is a survey contact (:func:`app.vocabulary.contact_sql`)."""
    return text(contact_sql(Invitation.__tablename__))


def invitation_contact_at() -> Any:
    """When an ``invitation`` row counts as a contact (:func:`app.vocabulary.contact_at_sql`)."""
    return literal_column(contact_at_sql(Invitation.__tablename__), type_=UTCDateTime())


def contact_rows(person_ids: Any) -> Any:
    """``(person_id, survey_id, at, kind)`` of every contact of the given people (a list or a
    subquery of ids)."""
    invitations = select(
        Invitation.person_id,
        Invitation.survey_id,
        invitation_contact_at().label("at"),
        literal(facts.ContactKind.INVITATION.value).label("kind"),
    ).where(Invitation.person_id.in_(person_ids), invitation_is_contact())
    displays = select(
        WidgetDisplay.person_id,
        WidgetDisplay.survey_id,
        WidgetDisplay.shown_at.label("at"),
        literal(facts.ContactKind.WIDGET_DISPLAY.value).label("kind"),
    ).where(WidgetDisplay.person_id.in_(person_ids))
    return union_all(invitations, displays)


def suppression_reason(person: Person, channel: Channel) -> str | None:
    """The reason of a suppression that covers ``person`` on ``channel`` (see module doc)."""
    conditions = []
    if person.email:
        email = and_(Suppression.kind == SuppressionKind.EMAIL, Suppression.value == person.email)
        if channel != Channel.EMAIL:
            email = and_(email, Suppression.reason == SuppressionReason.MANUAL)
        conditions.append(email)
    if person.phone:
        phone = and_(Suppression.kind == SuppressionKind.PHONE, Suppression.value == person.phone)
        if channel != Channel.SMS:
            phone = and_(phone, Suppression.reason == SuppressionReason.MANUAL)
        conditions.append(phone)
    if not conditions:
        return None
    reason = db.session.scalar(
        select(Suppression.reason).where(or_(*conditions)).order_by(Suppression.id).limit(1)
    )
    return reason.value if reason is not None else None


def load_history(person: Person, rules: CadenceRules, now: datetime) -> facts.History:
    """Everything the rules read about ``person``, from the database."""
    rows = db.session.execute(contact_rows([person.id])).all()
    contacts = tuple(
        facts.Contact(at=at, survey_id=survey_id, kind=facts.ContactKind(kind))
        for _, survey_id, at, kind in rows
    )
    last_dismissed = db.session.scalar(
        select(func.max(WidgetDisplay.dismissed_at)).where(WidgetDisplay.person_id == person.id)
    )
    asked: tuple[datetime, ...] = ()
    if rules.account_cap is not None and person.account_id is not None:
        others = (
            select(Person.id)
            .where(Person.account_id == person.account_id, Person.id != person.id)
            .scalar_subquery()
        )
        recent = contact_rows(others).subquery()
        since = now - days(rules.account_cap_window_days)
        asked = tuple(
            db.session.scalars(
                select(func.max(recent.c.at))
                .where(recent.c.at > since)
                .group_by(recent.c.person_id)
            )
        )
    return facts.History(
        contacts=contacts, last_dismissed_at=last_dismissed, account_asked_at=asked
    )


def engine_person(person: Person, channel: Channel) -> facts.Person:
    return facts.Person(
        timezone=person.timezone,
        signed_up_at=person.signed_up_at,
        suppression=suppression_reason(person, channel),
    )


def decide_for(
    person: Person,
    survey_id: int,
    channel: Channel,
    now: datetime,
    rules: CadenceRules | None = None,
) -> facts.Decision:
    """The engine's decision for a new ask of ``person`` now, from the stored history."""
    rules = rules if rules is not None else rules_for(survey_id)
    return engine.decide(
        rules,
        engine_person(person, channel),
        load_history(person, rules, now),
        survey_id=survey_id,
        channel=channel,
        now=now,
    )


@dataclass(frozen=True, slots=True)
class Ask:
    """Who is asked what, how and why: the context stored with a decision."""

    person_id: int
    survey_id: int
    channel: Channel
    trigger: Trigger
    campaign_id: int | None = None


def record_decision(ask: Ask, decision: facts.Decision, now: datetime) -> Decision:
    row = Decision(
        person_id=ask.person_id,
        survey_id=ask.survey_id,
        channel=ask.channel,
        trigger=ask.trigger,
        campaign_id=ask.campaign_id,
        allowed=decision.allowed,
        reason=str(decision.reason),
        message=decision.message,
        next_eligible_at=decision.next_eligible_at,
        created_at=now,
    )
    db.session.add(row)
    return row


class Throttled(Conflict):
    """A cadence rule refused the ask: HTTP 409 ``throttled`` with ``rule`` and
    ``next_eligible_at``. It carries the refusal (``ask``, ``decision``, ``at``); whoever
    rolls the request back stores it with :func:`store_refusal` (the API's write
    transaction, :func:`app.api.transaction.write`)."""

    code = "throttled"

    def __init__(self, ask: Ask, decision: facts.Decision, at: datetime) -> None:
        body = decision.to_dict()
        super().__init__(
            decision.message,
            field="person_id",
            extra={"rule": body["reason"], "next_eligible_at": body["next_eligible_at"]},
        )
        self.ask = ask
        self.decision = decision
        self.at = at


def store_refusal(refused: Throttled) -> None:
    """Store the refusal of a request whose own work was rolled back: the one way a refused
    ask is recorded outside a fan-out. After the rollback the person may not exist (created
    inline by the refused request): there is then nobody to explain the refusal to."""
    if db.session.get(Person, refused.ask.person_id) is not None:
        record_decision(refused.ask, refused.decision, refused.at)


def lock_account(account_id: int) -> None:
    """Serialize asks within an account while an account cap is set (taken after the
    person's lock: people first, then accounts, everywhere, so no two locks ever cycle)."""
    db.session.execute(
        select(Account.id).where(Account.id == account_id).with_for_update(key_share=True)
    )


def check_cadence(
    person: Person, ask: Ask, now: datetime, rules: CadenceRules | None = None
) -> facts.Decision:
    """Decide for one ask after the person's lock is held; raise :class:`Throttled` on a
    refusal (stored), else return the decision (its ``send_at`` respects quiet hours).
    ``rules``: the survey's effective rules, when the caller has them already."""
    rules = rules if rules is not None else rules_for(ask.survey_id)
    if rules.account_cap is not None and person.account_id is not None:
        lock_account(person.account_id)
    decision = decide_for(person, ask.survey_id, ask.channel, now, rules)
    if not decision.allowed:
        raise Throttled(ask, decision, now)
    return decision


def recent_refusals(person_id: int, limit: int = 20) -> list[Decision]:
    return list(
        db.session.scalars(
            select(Decision)
            .where(Decision.person_id == person_id, Decision.allowed.is_(False))
            .order_by(Decision.created_at.desc(), Decision.id.desc())
            .limit(limit)
        )
    )


def explain(
    person: Person, survey: Survey | None, channel: Channel, now: datetime
) -> dict[str, Any]:
    """May we ask ``person`` now (``survey`` or any survey), and if not, why and when; plus
    the recent stored refusals. JSON-ready."""
    survey_id = survey.id if survey is not None else 0
    rules = rules_for(survey.id if survey is not None else None)
    decision = decide_for(person, survey_id, channel, now, rules)
    body = decision.to_dict()
    if survey is not None and channel in (Channel.EMAIL, Channel.SMS):
        address = person.email if channel == Channel.EMAIL else person.phone
        if not address:
            body.update(
                allowed=False,
                reason=UNREACHABLE,
                message=f"This person has no {_ADDRESS[channel]} to send to.",
                send_at=None,
                next_eligible_at=None,
            )
    return {
        "person_id": person.id,
        "survey_id": survey.id if survey is not None else None,
        "channel": channel.value,
        "at": iso(now),
        **body,
        "rules": rules.to_dict(),
        "recent_refusals": [
            {
                "at": iso(d.created_at),
                "survey_id": d.survey_id,
                "channel": d.channel.value,
                "trigger": d.trigger.value,
                "campaign_id": d.campaign_id,
                "reason": d.reason,
                "message": d.message,
                "next_eligible_at": iso(d.next_eligible_at),
            }
            for d in recent_refusals(person.id)
        ],
    }
