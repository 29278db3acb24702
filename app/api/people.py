"""People: upsert by external id, else email; read one; find by external id or email."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from sqlalchemy import select

from app import clock
from app.access import Permission, requires, scope
from app.api import bp, parse_body
from app.api.pagination import page_of
from app.api.schemas import AccountIn, PersonIn
from app.api.serialize import person_json
from app.api.transaction import write
from app.audit.services import record
from app.db import db
from app.errors import AppError
from app.models import Person, StaffUser
from app.services.people import AccountRef, find_account, find_person, upsert_person
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
    scope.check_account_csm_change(person.account, csm)
    if person.account.csm_id != csm.id:
        record(
            "account.csm_changed",
            "account",
            person.account.id,
            before={"csm": person.account.csm.email if person.account.csm else None},
            after={"csm": csm.email},
        )
    person.account.csm = csm


def upsert_within_reach(data: PersonIn) -> tuple[Person, bool]:
    """Create or update a person from the request, within the caller's reach: a CSM updates
    only their accounts' people, keeps them there, and never changes an account's owner."""
    fields = person_fields(data)
    scope.check_person_before_write(find_person(fields))
    ref = fields.get("account")
    account_is_new = ref is not None and find_account(ref) is None
    person, created = upsert_person(fields, clock.now())
    scope.check_person_after_write(person, account_is_new=account_is_new)
    apply_account_csm(person, data)
    return person, created


@bp.post("/people")
@requires(Permission.EDIT_PEOPLE)
@write
def upsert_person_view() -> Any:
    person, created = upsert_within_reach(parse_body(PersonIn))
    return jsonify(person_json(person)), 201 if created else 200


@bp.get("/people/<int:person_id>")
@requires(Permission.READ)
def get_person(person_id: int) -> Any:
    return jsonify(person_json(scope.person_or_404(person_id)))


@bp.get("/people")
@requires(Permission.READ)
def find_people() -> Any:
    """Find people by ``external_id`` or ``email``; without either, everyone (a CSM: their
    accounts' people), newest first, a page at a time (``limit``, ``cursor``)."""
    query = select(Person).where(scope.people_clause())
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
