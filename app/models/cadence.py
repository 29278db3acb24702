"""Cadence: the rules admins set, what the engine decided, and asks that wait for their time
(deferred asks). The other contact the engine reads, a widget display, is in
:mod:`app.models.widget`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model
from app.models._types import enum_column_type
from app.vocabulary import Channel, Trigger


class CadencePolicy(Model):
    __tablename__ = "cadence_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), unique=True
    )
    """NULL: the workspace's rules (all of them); else the survey's overrides (only the
    fields it sets)."""
    rules: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class Decision(Model):
    """A stored answer to "may we ask this person?": every refusal is one row; allowed
    decisions of campaigns are kept as counts on the campaign, not as rows.

    A log written in bulk by campaigns (tens of thousands of rows per fan-out): only the
    person is a foreign key (deleting a person deletes their decisions); the survey and the
    campaign are plain ids, which keeps each inserted row cheap."""

    __tablename__ = "decision"
    __table_args__ = (Index("ix_decision_person_created", "person_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    survey_id: Mapped[int | None]
    channel: Mapped[Channel] = mapped_column(enum_column_type(Channel))
    trigger: Mapped[Trigger] = mapped_column(enum_column_type(Trigger))
    campaign_id: Mapped[int | None]
    allowed: Mapped[bool]
    reason: Mapped[str] = mapped_column(String(32))
    """A ``app.policy.facts.Reason`` value, or ``unreachable`` / ``already_invited``."""
    message: Mapped[str] = mapped_column(Text)
    next_eligible_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class DeferredAsk(Model):
    """An ask that waits for its time: an event rule's "N days later", a recurring survey's
    slot in the day, or a person held back by the account cap. The sweep decides for the due
    ones in sets, like a campaign."""

    __tablename__ = "deferred_ask"
    __table_args__ = (Index("ix_deferred_ask_survey_person", "survey_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(enum_column_type(Channel))
    trigger: Mapped[Trigger] = mapped_column(enum_column_type(Trigger))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime]
