"""What the email channel keeps beyond messages: score-link clicks waiting to become answers,
and the provider events already processed (so a webhook retried by the provider changes
nothing twice)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model
from app.models._types import enum_column_type
from app.vocabulary import ClickState

PENDING_SQL = "state = 'pending'"


class ScoreClick(Model):
    """A GET of a score link from an email (``/s/<token>?score=N``). It becomes the answer
    only after a quiet period without clicks on other scores of the same invitation (mail
    scanners open every link at once); see :mod:`app.policy.clicks`."""

    __tablename__ = "score_click"
    __table_args__ = (
        Index(
            "ix_score_click_pending",
            "clicked_at",
            postgresql_where=text(PENDING_SQL),
            sqlite_where=text(PENDING_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[int] = mapped_column(SmallInteger)
    state: Mapped[ClickState] = mapped_column(enum_column_type(ClickState))
    clicked_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class ProviderEvent(Model):
    """A provider's webhook event already applied, by the provider's own event id."""

    __tablename__ = "provider_event"

    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
