"""An invitation is one ask of one person by one channel; a message is one delivery attempt."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model
from app.models._types import enum_column_type
from app.vocabulary import (
    OPEN_SQL,
    OPEN_STATUSES,
    Channel,
    InvitationStatus,
    MessageStatus,
    Trigger,
)

if TYPE_CHECKING:
    from app.models.people import Account, Person, StaffUser
    from app.models.surveys import Survey


class Invitation(Model):
    __tablename__ = "invitation"
    __table_args__ = (
        Index("ix_invitation_person_created", "person_id", "created_at"),
        Index("ix_invitation_survey_status", "survey_id", "status"),
        # At most one open invitation per person, survey and channel.
        Index(
            "uq_invitation_open_per_person",
            "survey_id",
            "person_id",
            "channel",
            unique=True,
            postgresql_where=text(OPEN_SQL),
            sqlite_where=text(OPEN_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[Channel] = mapped_column(enum_column_type(Channel))
    status: Mapped[InvitationStatus] = mapped_column(enum_column_type(InvitationStatus))
    trigger: Mapped[Trigger] = mapped_column(enum_column_type(Trigger))
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    scheduled_at: Mapped[datetime]
    """When the first message is to go out (``send_at``)."""
    sent_at: Mapped[datetime | None]
    reminder_1_at: Mapped[datetime | None]
    reminder_2_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime]
    reminded_1_at: Mapped[datetime | None]
    reminded_2_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    next_action_at: Mapped[datetime | None] = mapped_column(index=True)
    """When the sweep must look at this invitation next; NULL once nothing more is due."""
    sending_step: Mapped[str | None] = mapped_column(String(16))
    claimed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    """Failed attempts of the current step (reset when a step succeeds)."""
    last_error: Mapped[str | None] = mapped_column(Text)
    """The provider's answer to the last failed attempt, while a retry is pending."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    survey: Mapped[Survey] = relationship()
    person: Mapped[Person] = relationship()
    account: Mapped[Account | None] = relationship()
    sender: Mapped[StaffUser | None] = relationship()
    messages: Mapped[list[Message]] = relationship(
        back_populates="invitation", order_by="Message.id"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Message(Model):
    """One delivery step of an invitation. The unique (invitation, step) pair is the last line
    of defence against sending a step twice; the claim on the invitation is the first."""

    __tablename__ = "message"
    __table_args__ = (UniqueConstraint("invitation_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(16))
    channel: Mapped[Channel] = mapped_column(enum_column_type(Channel))
    status: Mapped[MessageStatus] = mapped_column(enum_column_type(MessageStatus))
    recipient: Mapped[str] = mapped_column(String(320))
    provider_id: Mapped[str | None] = mapped_column(String(255), index=True)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    last_event_at: Mapped[datetime | None]

    invitation: Mapped[Invitation] = relationship(back_populates="messages")
