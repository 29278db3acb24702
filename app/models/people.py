"""Who is asked (person), the customer company (account) and our own staff (staff user)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Model
from app.models._types import enum_column_type
from app.vocabulary import Role, StaffRole


class StaffUser(Model):
    """An admin, a customer-success manager or an analyst; a CSM sends surveys under their own
    name. Deactivated, never deleted (the audit log names them)."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = mapped_column(enum_column_type(StaffRole))
    sender_name: Mapped[str | None] = mapped_column(String(255))
    sender_email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime]
    password_hash: Mapped[str | None] = mapped_column(String(255))
    """argon2 hash; None until they set a password (an invitation, SSO only)."""
    password_changed_at: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:
        return self.deactivated_at is None

    @property
    def from_name(self) -> str:
        return self.sender_name or self.name

    @property
    def from_email(self) -> str:
        return self.sender_email or self.email


class Account(Model):
    """A customer company; its owner CSM is who surveys come from by default."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    csm_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime]

    csm: Mapped[StaffUser | None] = relationship(lazy="joined")


class Person(Model):
    """A respondent: a user of the product at a customer account."""

    __tablename__ = "person"
    __table_args__ = (
        Index("ix_person_created", "created_at", "id"),
        # Finding people by any part of these (the workspace's search): trigram indexes on
        # PostgreSQL, plain ones on SQLite.
        *(
            Index(
                f"ix_person_{name}_trgm",
                name,
                postgresql_using="gin",
                postgresql_ops={name: "gin_trgm_ops"},
            )
            for name in ("email", "name", "external_id")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role | None] = mapped_column(enum_column_type(Role), index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), index=True
    )
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(35))
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    signed_up_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    account: Mapped[Account | None] = relationship(lazy="joined")

    @property
    def first_name(self) -> str | None:
        return self.name.split()[0] if self.name and self.name.strip() else None
