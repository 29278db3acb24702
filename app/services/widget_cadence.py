"""The cadence side of the in-app widget: may the widget show a survey to this person now,
recording a display (a survey contact) and a dismissal (which starts the widget's backoff).

The widget's own endpoints (:mod:`app.widget_api.views`) call these. A display that is still
open (neither answered nor past the survey's deadline) may be shown again like a reminder: only
the suppression and the dismissal backoff apply (``decide_redisplay``). A new display is a new
contact and passes every rule.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.db import db
from app.errors import NotFound
from app.models import Person, Survey
from app.models.widget import WidgetDisplay
from app.policy import cadence as engine
from app.policy import facts
from app.policy.rules import CadenceRules
from app.services.cadence import Ask, Throttled, check_cadence, decide_for, engine_person
from app.services.cadence_rules import rules_for
from app.services.invitations import lock_person
from app.vocabulary import Channel, Trigger


@dataclass(frozen=True, slots=True)
class WidgetVerdict:
    decision: facts.Decision
    open_display: WidgetDisplay | None
    """The display that would be shown again, when the decision is a redisplay."""


def open_display(person: Person, survey: Survey, now: datetime) -> WidgetDisplay | None:
    """The person's latest unanswered display of ``survey`` still before its deadline."""
    return db.session.scalar(
        select(WidgetDisplay)
        .where(
            WidgetDisplay.person_id == person.id,
            WidgetDisplay.survey_id == survey.id,
            WidgetDisplay.answered_at.is_(None),
            WidgetDisplay.shown_at > now - timedelta(days=survey.deadline_days),
        )
        .order_by(WidgetDisplay.shown_at.desc())
        .limit(1)
    )


def may_show_widget(
    person: Person, survey: Survey, now: datetime, rules: CadenceRules | None = None
) -> WidgetVerdict:
    """May the widget show ``survey`` to ``person`` now (again, or as a new contact)?
    ``rules``: the survey's effective rules, when the caller has them already."""
    rules = rules if rules is not None else rules_for(survey.id)
    shown = open_display(person, survey, now)
    if shown is not None:
        return WidgetVerdict(_redisplay(person, rules, now), shown)
    return WidgetVerdict(decide_for(person, survey.id, Channel.WIDGET, now, rules), None)


def _redisplay(person: Person, rules: CadenceRules, now: datetime) -> facts.Decision:
    """Showing an open display again: only the suppression and the dismissal backoff."""
    last_dismissed = db.session.scalar(
        select(func.max(WidgetDisplay.dismissed_at)).where(WidgetDisplay.person_id == person.id)
    )
    return engine.decide_redisplay(
        rules, engine_person(person, Channel.WIDGET), last_dismissed_at=last_dismissed, now=now
    )


def record_widget_display(
    person: Person,
    survey: Survey,
    now: datetime,
    invitation_id: int | None = None,
    rules: CadenceRules | None = None,
) -> WidgetDisplay:
    """Record that the widget shows ``survey`` to ``person`` now, after the cadence check
    (under the person's lock; one decision). An open display allowed again is returned as
    it is (not a new contact). Raises :class:`~app.services.cadence.Throttled` when refused
    (stored). ``rules``: the survey's effective rules, when the caller has them already."""
    lock_person(person.id)
    rules = rules if rules is not None else rules_for(survey.id)
    ask = Ask(person.id, survey.id, Channel.WIDGET, Trigger.API)
    shown = open_display(person, survey, now)
    if shown is not None:
        decision = _redisplay(person, rules, now)
        if not decision.allowed:
            raise Throttled(ask, decision, now)
        return shown
    check_cadence(person, ask, now, rules)
    display = WidgetDisplay(
        display_id=uuid.uuid4().hex,
        person_id=person.id,
        survey_id=survey.id,
        invitation_id=invitation_id,
        shown_at=now,
    )
    db.session.add(display)
    db.session.flush()
    return display


def _display(display_id: str) -> WidgetDisplay:
    display = db.session.scalar(select(WidgetDisplay).where(WidgetDisplay.display_id == display_id))
    if display is None:
        raise NotFound(f"No widget display {display_id!r}.", field="display_id")
    return display


def record_dismissal(display_id: str, now: datetime) -> WidgetDisplay:
    """The person closed the widget without answering: the dismissal backoff starts now."""
    display = _display(display_id)
    display.dismissed_at = now
    return display


def record_widget_answer(display_id: str, now: datetime) -> WidgetDisplay:
    display = _display(display_id)
    display.answered_at = display.answered_at or now
    return display
