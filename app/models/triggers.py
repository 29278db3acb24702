"""What makes invitations besides a single API call: campaigns, events and survey triggers
(a recurrence with an audience, or "N days after event X")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model
from app.models._types import enum_column_type
from app.vocabulary import Channel


class Campaign(Model):
    """One fan-out of a survey to an audience, run in the worker; ``counts`` says how many were
    invited, are waiting for a slot, and were skipped per reason."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column_type(Channel))
    audience: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    """``queued``, ``running``, ``done``."""
    counts: Mapped[dict[str, Any]]
    cursor: Mapped[int] = mapped_column(default=0)
    """The highest person id decided so far: a retried job goes on from here."""
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class PersonEvent(Model):
    """Something that happened to a person in the product (``trial_ended``, ``upgraded``)."""

    __tablename__ = "person_event"
    __table_args__ = (Index("ix_person_event_person_occurred", "person_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), index=True)
    occurred_at: Mapped[datetime]
    properties: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class SurveyTrigger(Model):
    """A survey's automatic asks: ``recurring`` (every ``every_days`` to an audience) or
    ``event`` (``delay_days`` after the event ``event_name``)."""

    __tablename__ = "survey_trigger"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[Channel] = mapped_column(enum_column_type(Channel))
    audience: Mapped[dict[str, Any]]
    every_days: Mapped[int | None]
    event_name: Mapped[str | None] = mapped_column(String(100), index=True)
    delay_days: Mapped[int | None]
    last_run_at: Mapped[datetime | None]
    """Recurring: the start (UTC midnight) of the last day whose asks were planned."""
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
