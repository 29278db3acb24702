"""Cadence rules as admins set them: one workspace row (``survey_id`` NULL) and optional
per-survey overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.db import db


class CadencePolicy(db.Model):
    __tablename__ = "cadence_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey.id", ondelete="CASCADE"), unique=True
    )
    """NULL: the workspace's rules (all of them); else the survey's overrides (only the
    fields it sets)."""
    rules: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
