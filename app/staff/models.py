"""Staff sign-in records: server-side sessions and single-use links (magic sign-in, password
reset, invitation). The staff member is ``app.models.people.StaffUser``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model

if TYPE_CHECKING:
    from app.models.people import StaffUser


class StaffSession(Model):
    """One signed-in browser. The cookie carries only a random token naming this row; ending
    the row (sign-out, deactivation, password change, "sign out everywhere") ends the session
    at once, whatever copies of the cookie exist."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    method: Mapped[str] = mapped_column(String(16))
    """How they signed in: password, link, sso."""
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(32))

    staff_user: Mapped[StaffUser] = relationship(lazy="joined")


class StaffToken(Model):
    """A single-use link sent by email: sign in (15 minutes), reset the password, or accept
    an invitation (72 hours). Only the token's hash is stored."""

    __tablename__ = "staff_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    staff_user: Mapped[StaffUser] = relationship(lazy="joined")


class StaffEmail(Model):
    """An email to a staff member (sign-in link, password reset, invitation): a row first,
    claimed before the provider is called, recorded after (docs/architecture.md, "Decisions",
    8). The link's token is made when the email is sent, so it is never stored in plain text."""

    __tablename__ = "staff_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), index=True)
    """queued → sending → sent | failed."""
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)

    staff_user: Mapped[StaffUser] = relationship(lazy="joined")
