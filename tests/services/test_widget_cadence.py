"""The cadence side of the widget: a display is a contact, a dismissal starts the widget's
backoff, an open display may come back after the backoff without being a new contact."""

from __future__ import annotations

import pytest
from flask import Flask

from app.clock import FrozenClock
from app.db import db
from app.errors import NotFound
from app.models import Decision, Person, Survey, WidgetDisplay
from app.services.cadence import Throttled, decide_for, store_refusal
from app.services.widget_cadence import (
    may_show_widget,
    record_dismissal,
    record_widget_answer,
    record_widget_display,
)
from app.vocabulary import Channel
from tests.support.factories import person_row, survey_row


def _setup(clock: FrozenClock) -> tuple[Person, Survey, Survey]:
    now = clock.now()
    person = person_row(now, external_id="u-1")
    surveys = [survey_row(now, n) for n in ("A", "B")]
    db.session.flush()
    return person, surveys[0], surveys[1]


def test_display_dismissal_and_redisplay(app: Flask, clock: FrozenClock) -> None:
    with app.app_context():
        person, survey, other = _setup(clock)
        assert may_show_widget(person, survey, clock.now()).decision.allowed
        display = record_widget_display(person, survey, clock.now())
        db.session.commit()
        # A display is a contact: no email survey of any kind for the recontact period.
        assert decide_for(person, other.id, Channel.LINK, clock.now()).reason == "recontact_period"
        # The same open display may show again at once (like a reminder)...
        assert record_widget_display(person, survey, clock.now()).id == display.id
        # ...until the person dismisses it: then the widget waits 7 days.
        record_dismissal(display.display_id, clock.now())
        db.session.commit()
        clock.advance(days=3)
        verdict = may_show_widget(person, survey, clock.now())
        assert verdict.open_display is not None
        assert verdict.decision.reason == "dismissal_backoff"
        with pytest.raises(Throttled) as refused:
            record_widget_display(person, survey, clock.now())
        assert refused.value.body()["error"]["rule"] == "dismissal_backoff"
        db.session.rollback()
        store_refusal(refused.value)
        db.session.commit()
        assert db.session.query(Decision).one().channel == Channel.WIDGET
        clock.advance(days=4)
        assert record_widget_display(person, survey, clock.now()).id == display.id
        record_widget_answer(display.display_id, clock.now())
        db.session.commit()
        # Answered: a new display is a new contact, refused by the recurrence (90 days).
        assert may_show_widget(person, survey, clock.now()).decision.reason == "recurrence"
        assert db.session.query(WidgetDisplay).count() == 1
        with pytest.raises(NotFound):
            record_dismissal("nope", clock.now())
