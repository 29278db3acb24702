"""A CSM's reach: the people of the accounts they own, plus people without an account when
``CSM_SEES_UNASSIGNED_PEOPLE`` allows. Admins and analysts reach everybody (analysts only read:
their routes declare so). Outside the reach a person, invitation or response is a 404.

Use the clauses in queries (``select(Person).where(people_clause())``) and the ``*_or_404``
getters for one row; ``check_person_write`` guards an upsert from a CSM.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, or_, select, true

from app.access.guard import current_principal
from app.access.roles import is_scoped
from app.db import db
from app.errors import Forbidden, NotFound
from app.models import Account, Invitation, Person, Response, StaffUser


def scoped_staff() -> StaffUser | None:
    """The CSM whose reach limits this request, or None when nothing limits it."""
    principal = current_principal()
    if principal is None or not is_scoped(principal.role):
        return None
    return principal.staff


def _unassigned_allowed() -> bool:
    return bool(current_app.config.get("CSM_SEES_UNASSIGNED_PEOPLE"))


def accounts_clause() -> ColumnElement[bool]:
    staff = scoped_staff()
    return true() if staff is None else Account.csm_id == staff.id


def account_ids_clause(column: Any) -> ColumnElement[bool]:
    """``column`` (an account id) is within reach."""
    staff = scoped_staff()
    if staff is None:
        return true()
    owned = column.in_(select(Account.id).where(Account.csm_id == staff.id))
    return or_(owned, column.is_(None)) if _unassigned_allowed() else owned


def people_clause() -> ColumnElement[bool]:
    return account_ids_clause(Person.account_id)


def person_ids_clause(column: Any) -> ColumnElement[bool]:
    """``column`` (a person id) names a person within reach."""
    if scoped_staff() is None:
        return true()
    clause: ColumnElement[bool] = column.in_(select(Person.id).where(people_clause()))
    return clause


def invitations_clause() -> ColumnElement[bool]:
    return person_ids_clause(Invitation.person_id)


def responses_clause() -> ColumnElement[bool]:
    return person_ids_clause(Response.person_id)


def can_reach_account(account: Account | None) -> bool:
    staff = scoped_staff()
    if staff is None:
        return True
    if account is None:
        return _unassigned_allowed()
    return account.csm_id == staff.id


def can_reach(person: Person) -> bool:
    return can_reach_account(person.account)


def person_or_404(person_id: int | None, field: str = "person_id") -> Person:
    person = db.session.get(Person, person_id) if person_id is not None else None
    if person is None or not can_reach(person):
        raise NotFound(f"No person with id {person_id}.", field=field)
    return person


def invitation_or_404(invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or not can_reach(invitation.person):
        raise NotFound(f"No invitation with id {invitation_id}.", field="invitation_id")
    return invitation


def response_or_404(response_id: int) -> Response:
    response = db.session.get(Response, response_id)
    if response is None or not can_reach(response.person):
        raise NotFound(f"No response with id {response_id}.", field="response_id")
    return response


def check_person_before_write(existing: Person | None) -> None:
    """A CSM may update only a person within reach."""
    if existing is not None and not can_reach(existing):
        raise Forbidden(
            "That person belongs to an account you do not own; ask its CSM or an admin.",
            field="external_id" if existing.external_id else "email",
        )


def check_person_after_write(person: Person, *, account_is_new: bool) -> None:
    """After a CSM's upsert (same transaction, rolled back on refusal): an account the CSM
    just created becomes theirs; the person must still be within reach."""
    staff = scoped_staff()
    if staff is None:
        return
    if person.account is not None and account_is_new and person.account.csm_id is None:
        person.account.csm = staff
        db.session.flush()
    if not can_reach(person):
        raise Forbidden(
            "A CSM can only keep people in accounts they own"
            + ("." if person.account is not None else " (people without an account: not allowed)."),
            field="account",
        )


def check_account_csm_change(account: Account | None, new_csm: StaffUser) -> None:
    """Only an admin changes who owns an account."""
    if scoped_staff() is None or account is None or account.csm_id == new_csm.id:
        return
    raise Forbidden("Only an admin can change an account's owner CSM.", field="account.csm")
