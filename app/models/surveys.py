"""A survey: the question, its follow-ups, its channels and its reminder plan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model
from app.models._types import enum_column_type
from app.vocabulary import Category, SurveyStatus

DEFAULT_FOLLOW_UP = "What is the main reason for your score?"


class Survey(Model):
    __tablename__ = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    question: Mapped[str] = mapped_column(Text)
    follow_up_question: Mapped[str] = mapped_column(Text, default=DEFAULT_FOLLOW_UP)
    follow_up_promoter: Mapped[str | None] = mapped_column(Text)
    follow_up_passive: Mapped[str | None] = mapped_column(Text)
    follow_up_detractor: Mapped[str | None] = mapped_column(Text)
    channels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """``{"enabled": ["email", "sms", "link", "widget"]}``; a dict so it can grow."""
    reminder_1_days: Mapped[int] = mapped_column(default=3)
    reminder_2_days: Mapped[int] = mapped_column(default=7)
    deadline_days: Mapped[int] = mapped_column(default=10)
    escalate_to_sms: Mapped[bool] = mapped_column(default=False, server_default=false())
    """Send reminder 2 by SMS to people asked by email who have a mobile number, when the
    survey has the sms channel (see :func:`app.policy.reminders.step_channel`)."""
    status: Mapped[SurveyStatus] = mapped_column(
        enum_column_type(SurveyStatus), default=SurveyStatus.ACTIVE
    )
    email_subject: Mapped[str | None] = mapped_column(Text)
    """The survey's own email templates (Jinja2, rendered sandboxed); None: the default."""
    email_html: Mapped[str | None] = mapped_column(Text)
    email_text: Mapped[str | None] = mapped_column(Text)
    widget: Mapped[dict[str, Any] | None]
    """The widget's look for this survey: ``{"theme": {...}, "position": ...}`` (None: the
    defaults); see :func:`app.policy.widget.normalize_look`."""
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def enabled_channels(self) -> list[str]:
        return list((self.channels or {}).get("enabled", []))

    def follow_up_for(self, category: Category | None) -> str:
        specific = (
            {
                Category.PROMOTER: self.follow_up_promoter,
                Category.PASSIVE: self.follow_up_passive,
                Category.DETRACTOR: self.follow_up_detractor,
            }.get(category)
            if category
            else None
        )
        return specific or self.follow_up_question or DEFAULT_FOLLOW_UP
