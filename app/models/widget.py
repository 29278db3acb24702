"""The in-app widget's rows: the workspace's credentials (a public key, the script tag's
``data-key``; the secret that signs user ids, HMAC; the web origins allowed to call the widget
endpoints) and each display of a survey to a person (a survey contact)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import JSONType, Model


class WidgetKey(Model):
    __tablename__ = "widget_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    secret: Mapped[str] = mapped_column(String(128))
    """Kept as is: the server computes the HMAC with it. Shown once, when made or rotated."""
    previous_secret: Mapped[str | None] = mapped_column(String(128))
    """The secret before the last rotation, still accepted until ``previous_secret_until``."""
    previous_secret_until: Mapped[datetime | None]
    allowed_origins: Mapped[list[str]] = mapped_column(JSONType)
    """Exact origins (``https://app.example.com``), normalized as browsers send them."""
    created_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def secrets_at(self, now: datetime) -> list[str]:
        """The secrets a signature may be made with at ``now``: the current one, and the
        previous one during its grace period."""
        out = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_until is not None
            and now < self.previous_secret_until
        ):
            out.append(self.previous_secret)
        return out


class WidgetDisplay(Model):
    """The widget showing a survey to a person: a survey contact. Its dismissal starts the
    widget's backoff; ``display_id`` is what the widget sends back (dismiss, answer)."""

    __tablename__ = "widget_display"
    __table_args__ = (
        Index("ix_widget_display_person_shown", "person_id", "shown_at"),
        Index("ix_widget_display_person_dismissed", "person_id", "dismissed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    display_id: Mapped[str] = mapped_column(String(36), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="SET NULL"), index=True
    )
    shown_at: Mapped[datetime]
    dismissed_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("response.id", ondelete="SET NULL"), unique=True
    )
    """The answer given in this display (at most one; answering again updates it)."""
