"""Upserting people and accounts, by external id, else by email."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.db import db
from app.errors import Conflict
from app.models import Account, Person
from app.vocabulary import Role


@dataclass(frozen=True, slots=True)
class AccountRef:
    external_id: str | None
    name: str | None


def find_account(ref: AccountRef) -> Account | None:
    """The account by external id, else by exact name."""
    if ref.external_id:
        return db.session.scalar(select(Account).where(Account.external_id == ref.external_id))
    if ref.name:
        return db.session.scalar(
            select(Account).where(Account.name == ref.name).order_by(Account.id).limit(1)
        )
    return None


def upsert_account(ref: AccountRef, now: datetime) -> Account:
    """Find the account by external id (else by exact name) and update its name, or create it."""
    account = find_account(ref)
    if account is None:
        account = Account(
            external_id=ref.external_id, name=ref.name or ref.external_id or "", created_at=now
        )
        db.session.add(account)
        db.session.flush()
    elif ref.name and account.name != ref.name:
        account.name = ref.name
    return account


UPDATABLE = ("email", "phone", "name", "role", "timezone", "locale", "properties", "signed_up_at")


def find_person(fields: dict[str, Any]) -> Person | None:
    """The person an upsert of ``fields`` would update: by external id, else by email."""
    person = None
    if fields.get("external_id"):
        person = db.session.scalar(
            select(Person).where(Person.external_id == fields["external_id"])
        )
    if person is None and fields.get("email"):
        person = db.session.scalar(select(Person).where(Person.email == fields["email"]))
    return person


def upsert_person(fields: dict[str, Any], now: datetime) -> tuple[Person, bool]:
    """Create or update a person from already-validated ``fields`` (only the keys present are
    written). Returns the person and whether it was created.

    Matching: by ``external_id`` when given, else by ``email``. A person found by email with
    no external id adopts the one given. An email that already belongs to a person with a
    different external id is a conflict, not a silent merge.
    """
    external_id = fields.get("external_id")
    email = fields.get("email")
    person = None
    if external_id:
        person = db.session.scalar(select(Person).where(Person.external_id == external_id))
    if person is None and email:
        by_email = db.session.scalar(select(Person).where(Person.email == email))
        if by_email is not None:
            if external_id and by_email.external_id and by_email.external_id != external_id:
                raise Conflict(
                    f"{email} already belongs to the person with external id "
                    f"{by_email.external_id!r}",
                    field="email",
                )
            person = by_email
    if person is not None and email and person.email != email:
        owner = db.session.scalar(select(Person).where(Person.email == email))
        if owner is not None and owner.id != person.id:
            raise Conflict(
                f"{email} already belongs to another person (id {owner.id})", field="email"
            )

    created = person is None
    if person is None:
        person = Person(first_seen_at=now, created_at=now, updated_at=now, properties={})
        db.session.add(person)
    if external_id and not person.external_id:
        person.external_id = external_id
    for key in UPDATABLE:
        if key not in fields:
            continue
        value = fields[key]
        if key == "properties":
            value = {**(person.properties or {}), **(value or {})} if value is not None else {}
        if key == "role" and value is not None:
            value = Role(value)
        setattr(person, key, value)
    if "account" in fields:
        ref = fields["account"]
        person.account = upsert_account(ref, now) if ref is not None else None
    # Only a change is an update: the widget upserts on every page view, unchanged.
    if created or db.session.is_modified(person):
        person.updated_at = now
    db.session.flush()
    return person, created
