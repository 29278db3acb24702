"""The workspace's widget credentials: a public key (the script tag's ``data-key``), the
secret that signs user ids (HMAC), and the web origins allowed to call the widget endpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import JSONType, db


class WidgetKey(db.Model):
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
