"""What the widget endpoints do with the database: which survey the widget shows a person
now (through the cadence engine), and recording what the person did with it: a dismissal, an
answer (upserted by the widget's response id).

Which surveys the widget may show: active surveys with the ``widget`` channel, open (after
``opens_at``, before ``closes_at``). A survey with a widget event rule (a trigger of kind
``event`` on the ``widget`` channel) is shown only when the widget reports that event; the
others are shown when the page identifies the person. When several qualify, they are tried in
the order of :func:`app.policy.widget.show_order` and the first the cadence rules allow is
shown: at most one survey at a time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from app.db import db
from app.errors import Conflict, NotFound
from app.models import (
    Decision,
    Person,
    Response,
    Survey,
    SurveyTrigger,
    WidgetDisplay,
)
from app.policy import facts
from app.policy.cadence import days
from app.policy.nps import category
from app.policy.rules import CadenceRules
from app.policy.widget import DEFAULT_POSITION, Candidate, show_order, strings_for
from app.services.cadence import Ask, Throttled, record_decision
from app.services.cadence_rules import rules_for
from app.services.invitations import lock_person
from app.services.responses import SurveyClosed, end_open_invitations
from app.services.widget_cadence import may_show_widget, record_widget_display
from app.vocabulary import Category, Channel, SurveyStatus, Trigger

#: A refusal of the widget is stored once a day per person, survey and reason: the widget asks
#: on every page view, and the decision table is an explanation, not a page-view log.
REFUSAL_MEMORY = timedelta(hours=24)


def widget_surveys(now: datetime, event: str | None = None) -> list[Survey]:
    """The surveys the widget may show now: on page load (``event`` None) those without a
    widget event rule; for an event, those with a widget rule for it."""
    rules = select(SurveyTrigger.survey_id).where(
        SurveyTrigger.kind == "event", SurveyTrigger.channel == Channel.WIDGET
    )
    query = select(Survey).where(
        Survey.status == SurveyStatus.ACTIVE,
        or_(Survey.opens_at.is_(None), Survey.opens_at <= now),
        or_(Survey.closes_at.is_(None), Survey.closes_at > now),
    )
    if event is None:
        query = query.where(Survey.id.not_in(rules))
    else:
        query = query.where(Survey.id.in_(rules.where(SurveyTrigger.event_name == event)))
    surveys = db.session.scalars(query.order_by(Survey.id)).all()
    # An empty list of channels means every channel (as everywhere else).
    return [s for s in surveys if not s.enabled_channels or "widget" in s.enabled_channels]


def _candidates(person: Person, surveys: list[Survey], now: datetime) -> list[Candidate]:
    rows = db.session.execute(
        select(WidgetDisplay.survey_id, WidgetDisplay.shown_at, WidgetDisplay.answered_at).where(
            WidgetDisplay.person_id == person.id,
            WidgetDisplay.survey_id.in_([s.id for s in surveys]),
        )
    ).all()
    by_id = {s.id: s for s in surveys}
    last: dict[int, datetime] = {}
    open_: set[int] = set()
    for survey_id, shown_at, answered_at in rows:
        last[survey_id] = max(shown_at, last.get(survey_id, shown_at))
        if answered_at is None and shown_at > now - days(by_id[survey_id].deadline_days):
            open_.add(survey_id)
    return [Candidate(s.id, last.get(s.id), s.id in open_) for s in surveys]


def _remember_refusal(ask: Ask, decision: facts.Decision, now: datetime) -> None:
    recent = db.session.scalar(
        select(Decision.id)
        .where(
            Decision.person_id == ask.person_id,
            Decision.survey_id == ask.survey_id,
            Decision.channel == Channel.WIDGET,
            Decision.reason == str(decision.reason),
            Decision.created_at > now - REFUSAL_MEMORY,
        )
        .limit(1)
    )
    if recent is None:
        record_decision(ask, decision, now)


def _person_wide(decision: facts.Decision) -> bool:
    """A refusal by a rule that is not about this survey (all but the recurrence): every
    survey under the same rules is refused too."""
    return any(r.reason != facts.Reason.RECURRENCE for r in decision.refusals)


def choose_and_show(
    person: Person, surveys: list[Survey], now: datetime, trigger: Trigger = Trigger.API
) -> tuple[Survey, WidgetDisplay] | None:
    """The survey the widget shows ``person`` now, recorded as a display (a contact; an open
    display shown again is not a new one), or None.

    The rules are read without a lock (most page views are refused: they write nothing); a
    survey allowed is recorded under the person's lock, which decides again, so two tabs
    checking at once show one display."""
    if not surveys:
        return None
    by_id = {s.id: s for s in surveys}
    refused_under: set[CadenceRules] = set()
    for survey_id in show_order(_candidates(person, surveys, now)):
        survey = by_id[survey_id]
        rules = rules_for(survey.id)
        if rules in refused_under:
            continue
        verdict = may_show_widget(person, survey, now, rules)
        ask = Ask(person.id, survey.id, Channel.WIDGET, trigger)
        if verdict.decision.allowed:
            try:
                return survey, record_widget_display(person, survey, now, rules=rules)
            except Throttled as refused:  # cannot differ under the lock; kept for safety
                _remember_refusal(ask, refused.decision, now)
                continue
        _remember_refusal(ask, verdict.decision, now)
        if _person_wide(verdict.decision):
            refused_under.add(rules)
    return None


def survey_payload(survey: Survey, display: WidgetDisplay, locale: str | None) -> dict[str, object]:
    """The survey as the widget shows it (widget/README.md, "Endpoints it calls")."""
    look = survey.widget or {}
    return {
        "display_id": display.display_id,
        "survey_id": survey.id,
        "question": survey.question,
        "follow_up": {c.value: survey.follow_up_for(c) for c in Category},
        "strings": strings_for(locale),
        "theme": dict(look.get("theme") or {}),
        "position": look.get("position") or DEFAULT_POSITION,
    }


def display_of(person: Person, display_id: str) -> WidgetDisplay:
    """The person's display with this id; another person's is as unknown as a made-up one."""
    display = db.session.scalar(
        select(WidgetDisplay).where(WidgetDisplay.display_id == display_id).with_for_update()
    )
    if display is None or display.person_id != person.id:
        raise NotFound(f"No widget display {display_id!r} for this user.", field="display_id")
    return display


def record_dismissal(person: Person, display_id: str, now: datetime) -> WidgetDisplay:
    """The person closed the survey without answering: the dismissal backoff starts now (a
    display already answered stays as it is)."""
    lock_person(person.id)
    display = display_of(person, display_id)
    if display.answered_at is None:
        display.dismissed_at = now
    return display


def _closed(survey: Survey, display: WidgetDisplay, now: datetime) -> str | None:
    if survey.status == SurveyStatus.ARCHIVED:
        return "This survey is archived."
    if survey.closes_at is not None and now >= survey.closes_at:
        return "This survey has closed."
    if now >= display.shown_at + days(survey.deadline_days):
        return "This survey was shown too long ago to be answered now."
    return None


def record_answer(
    person: Person,
    display_id: str,
    response_id: str,
    score: int,
    comment: str | None,
    now: datetime,
) -> tuple[Response, bool]:
    """Record (or update) the answer given in a display, by the widget's ``response_id``: a
    retried request finds the response it made. The score is always written; a ``None``
    comment keeps the stored one. Ends the person's open invitations to the survey (their
    reminders stop). Returns the response and whether it was created. The caller commits."""
    lock_person(person.id)
    display = display_of(person, display_id)
    survey = db.session.get(Survey, display.survey_id)
    assert survey is not None  # the display's foreign key
    response = db.session.scalar(select(Response).where(Response.client_id == response_id))
    if response is not None and (
        response.person_id != person.id or response.survey_id != survey.id
    ):
        raise Conflict(
            "This response_id belongs to another answer; make a new one.", field="response_id"
        )
    if response is None and display.response_id is not None:
        response = db.session.get(Response, display.response_id)
    closed = _closed(survey, display, now)
    if closed is not None:
        raise SurveyClosed(f"{closed} The answer was not recorded.", field="display_id")
    created = response is None
    if response is None:
        response = Response(
            invitation_id=None,
            survey_id=survey.id,
            person_id=person.id,
            client_id=response_id,
            answered_at=now,
        )
        db.session.add(response)
    response.score = score
    response.category = category(score)
    if comment is not None:
        response.comment = comment.strip() or None
    response.role = person.role
    response.account_id = person.account_id
    response.channel = Channel.WIDGET
    response.updated_at = now
    db.session.flush()
    display.response_id = response.id
    display.answered_at = display.answered_at or now
    # Its email or SMS invitations to the same survey end at once (their reminders stop).
    end_open_invitations(
        person.id, survey.id, now, reason=f"answered in the widget (response {response.id})"
    )
    return response, created
