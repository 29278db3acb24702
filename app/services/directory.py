"""Listing and finding people and accounts, a page at a time, in id order (keyset
pagination on the primary key: every page is an index range scan, however far in)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, or_, select

from app.db import db
from app.models import Account, Person

T = TypeVar("T")
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: list[T]
    next_after: int | None
    """The id to pass as ``after`` for the next page; None on the last page."""


def page_of(query: Select[Any], id_col: Any, after: int | None, size: int) -> Page[Any]:
    if after:
        query = query.where(id_col > after)
    rows = list(db.session.scalars(query.order_by(id_col).limit(size + 1)))
    if len(rows) > size:
        rows = rows[:size]
        return Page(rows, rows[-1].id)
    return Page(rows, None)


def _matching(query: Select[Any], search: str | None, *columns: Any) -> Select[Any]:
    """``query`` narrowed to rows where one of ``columns`` contains ``search`` (any case; its
    own % and _ taken literally)."""
    if not search:
        return query
    escaped = search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = f"%{escaped}%"
    return query.where(or_(*(column.ilike(like, escape="\\") for column in columns)))


def people_query(
    search: str | None = None, account_id: int | None = None, reach: Any = None
) -> Select[Any]:
    """People whose email, name or external id contains ``search`` (case-insensitive), within
    ``reach`` (a condition on Person: a CSM's accounts) when given."""
    query = select(Person)
    if reach is not None:
        query = query.where(reach)
    if account_id is not None:
        query = query.where(Person.account_id == account_id)
    return _matching(query, search, Person.email, Person.name, Person.external_id)


def people(
    search: str | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
    account_id: int | None = None,
    reach: Any = None,
) -> Page[Person]:
    return page_of(people_query(search, account_id, reach), Person.id, after, size)


def accounts(
    search: str | None = None, after: int | None = None, size: int = PAGE_SIZE, reach: Any = None
) -> Page[Account]:
    """Accounts whose name or external id contains ``search``, within ``reach`` if given."""
    query = select(Account)
    if reach is not None:
        query = query.where(reach)
    query = _matching(query, search, Account.name, Account.external_id)
    return page_of(query, Account.id, after, size)
