"""Every text a person sent us: what it said, what Sounding made of it, what it answered.

It is also the conversation's memory (the score that opens the comment window, the last hint)
and the guard against Twilio delivering the same webhook twice: the MessageSid is unique, so a
retried delivery finds its first answer and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model
from app.models._types import enum_column_type
from app.policy.sms_conversation import ReplyOutcome


class SmsReply(Model):
    __tablename__ = "sms_reply"
    __table_args__ = (
        Index("ix_sms_reply_invitation_outcome", "invitation_id", "outcome", "created_at"),
        Index("ix_sms_reply_from_created", "from_number", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    """Twilio's MessageSid of the incoming text."""
    from_number: Mapped[str] = mapped_column(String(32))
    to_number: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="SET NULL")
    )
    """The SMS invitation the text was read as a reply to, if any."""
    outcome: Mapped[ReplyOutcome] = mapped_column(enum_column_type(ReplyOutcome))
    answer: Mapped[str | None] = mapped_column(Text)
    """What Sounding texted back (TwiML), replayed as is to a retried delivery."""
    created_at: Mapped[datetime]
