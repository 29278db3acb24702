"""Addresses and numbers that must not be contacted. Suppressions always win."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Model
from app.models._types import enum_column_type
from app.vocabulary import SuppressionKind, SuppressionReason


class Suppression(Model):
    __tablename__ = "suppression"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SuppressionKind] = mapped_column(enum_column_type(SuppressionKind))
    value: Mapped[str] = mapped_column(String(320))
    """A lower-cased email address or an E.164 number."""
    reason: Mapped[SuppressionReason] = mapped_column(enum_column_type(SuppressionReason))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
