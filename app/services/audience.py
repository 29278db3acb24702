"""Who a campaign or a recurring survey is for: everybody, or people filtered by role,
account (external id), person id or a custom property. Stored as JSON; turned into SQL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, select, true

from app.errors import AppError
from app.models import Account, Person
from app.vocabulary import Role

KEYS = ("all", "roles", "accounts", "person_ids", "properties")
MAX_LIST = 10_000


def validate_audience(data: object, field: str = "audience") -> dict[str, Any]:
    """The audience in its stored form, or a 400 naming the bad field."""
    if data is None:
        return {"all": True}
    if not isinstance(data, Mapping):
        raise AppError(f"{field} must be an object", field=field)
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{field}.{key}"
        if key not in KEYS:
            raise AppError(
                f"{name} is not a known filter (use {', '.join(KEYS)})", field=name, code="invalid"
            )
        if key == "all":
            if value is not True:
                raise AppError(f"{name} must be true", field=name)
            continue
        if key == "properties":
            if not isinstance(value, Mapping) or not value:
                raise AppError(f"{name} must be a non-empty object", field=name)
            for prop, wanted in value.items():
                if not isinstance(wanted, str) or not isinstance(prop, str) or not prop:
                    raise AppError(f"{name}.{prop} must be a string value", field=f"{name}.{prop}")
            out[key] = dict(value)
            continue
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            raise AppError(f"{name} must be a list of 1 to {MAX_LIST} items", field=name)
        if key == "roles":
            try:
                out[key] = sorted({Role(v).value for v in value})
            except (ValueError, TypeError):
                raise AppError(
                    f"{name}: roles are {', '.join(r.value for r in Role)}", field=name
                ) from None
        elif key == "accounts":
            if not all(isinstance(v, str) and v for v in value):
                raise AppError(f"{name} must list account external ids", field=name)
            out[key] = sorted(set(value))
        else:
            if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
                raise AppError(f"{name} must list person ids", field=name)
            out[key] = sorted(set(value))
    return out or {"all": True}


def audience_filter(audience: Mapping[str, Any]) -> Any:
    """A WHERE clause on :class:`Person` for a validated audience."""
    clauses = []
    if "roles" in audience:
        clauses.append(Person.role.in_([Role(r) for r in audience["roles"]]))
    if "accounts" in audience:
        accounts = select(Account.id).where(Account.external_id.in_(audience["accounts"]))
        clauses.append(Person.account_id.in_(accounts.scalar_subquery()))
    if "person_ids" in audience:
        clauses.append(Person.id.in_(audience["person_ids"]))
    for prop, wanted in (audience.get("properties") or {}).items():
        clauses.append(Person.properties[prop].as_string() == wanted)
    return and_(true(), *clauses)
