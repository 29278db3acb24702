"""An answer: the score, the why, and who gave it (role and account as they were then)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model
from app.models._types import enum_column_type
from app.vocabulary import Category, Channel, Role

if TYPE_CHECKING:
    from app.models.invitations import Invitation
    from app.models.people import Account, Person
    from app.models.surveys import Survey


class Response(Model):
    __tablename__ = "response"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 10", name="score_range"),
        Index("ix_response_survey_answered", "survey_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="SET NULL"), unique=True
    )
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), index=True
    )
    score: Mapped[int] = mapped_column(SmallInteger)
    category: Mapped[Category] = mapped_column(enum_column_type(Category))
    comment: Mapped[str | None] = mapped_column(Text)
    role: Mapped[Role | None] = mapped_column(enum_column_type(Role))
    channel: Mapped[Channel] = mapped_column(enum_column_type(Channel))
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    """An id made by the client (the widget) so a retried request records one response."""
    answered_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]

    invitation: Mapped[Invitation | None] = relationship()
    survey: Mapped[Survey] = relationship()
    person: Mapped[Person] = relationship()
    account: Mapped[Account | None] = relationship()
