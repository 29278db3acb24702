"""People: upsert by external id, else email; read one; find by external id or email."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from sqlalchemy import select

from app import clock
from app.api import bp, parse_body
from app.api.pagination import page_of
from app.api.schemas import AccountIn, PersonIn
from app.api.serialize import person_json
from app.api.transaction import write
from app.db import db
from app.errors import AppError, NotFound
from app.models import Person, StaffUser
from app.services.people import AccountRef, upsert_person
from app.validation import normalize_email


def person_fields(data: PersonIn) -> dict[str, Any]:
    fields = data.fields()
    if "account" in fields and fields["account"] is not None:
        account: AccountIn = fields["account"]
        fields["account"] = AccountRef(account.external_id, account.name)
    return fields


def apply_account_csm(person: Person, data: PersonIn) -> None:
    if data.account is None or data.account.csm is None or person.account is None:
        return
    csm = db.session.scalar(select(StaffUser).where(StaffUser.email == data.account.csm))
    if csm is None:
        raise AppError(
            f"No staff user with email {data.account.csm}; create the CSM first "
            "(POST /api/v1/staff).",
            field="account.csm",
            code="not_found",
            status=404,
        )
    person.account.csm = csm


@bp.post("/people")
@write
def upsert_person_view() -> Any:
    data = parse_body(PersonIn)
    person, created = upsert_person(person_fields(data), clock.now())
    apply_account_csm(person, data)
    return jsonify(person_json(person)), 201 if created else 200


@bp.get("/people/<int:person_id>")
def get_person(person_id: int) -> Any:
    person = db.session.get(Person, person_id)
    if person is None:
        raise NotFound(f"No person with id {person_id}.", field="person_id")
    return jsonify(person_json(person))


@bp.get("/people")
def find_people() -> Any:
    """Find people by ``external_id`` or ``email``; without either, everyone, newest first,
    a page at a time (``limit``, ``cursor``)."""
    query = select(Person)
    external_id = request.args.get("external_id")
    email = request.args.get("email")
    if external_id:
        query = query.where(Person.external_id == external_id)
    if email:
        try:
            normalized = normalize_email(email)
        except ValueError as exc:
            raise AppError(str(exc), field="email") from exc
        query = query.where(Person.email == normalized)
    rows, next_cursor = page_of(query, Person.created_at, Person.id)
    return jsonify({"data": [person_json(p) for p in rows], "next_cursor": next_cursor})
