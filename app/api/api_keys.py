"""API keys through the API: make one (shown once), list, revoke.

Every staff member manages their own keys; an admin sees and revokes everyone's and may make
a key for another staff member (``staff_id``). A key carries its owner's role.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import jsonify
from pydantic import Field, StringConstraints

from app import clock
from app.access import Permission, current_principal, requires
from app.access.keys import create_key, key_or_404, key_role, keys_query, revoke_key
from app.api import bp, parse_body
from app.api.pagination import page_of
from app.api.schemas import Strict
from app.api.transaction import write
from app.db import db
from app.errors import AppError, Forbidden, NotFound
from app.models import ApiKey, StaffUser
from app.policy.wording import iso


class ApiKeyIn(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    staff_id: int | None = Field(None, gt=0)


def key_json(api_key: ApiKey) -> dict[str, Any]:
    owner = api_key.staff_user
    return {
        "id": api_key.id,
        "name": api_key.name,
        "prefix": api_key.prefix,
        "role": key_role(api_key).value,
        "owner": {"id": owner.id, "email": owner.email, "name": owner.name} if owner else None,
        "created_at": iso(api_key.created_at),
        "last_used_at": iso(api_key.last_used_at),
        "revoked_at": iso(api_key.revoked_at),
    }


def _viewer() -> tuple[StaffUser | None, bool]:
    principal = current_principal()
    assert principal is not None
    return principal.staff, principal.can(Permission.MANAGE)


@bp.post("/api-keys")
@requires(Permission.OWN_KEYS)
@write
def create_api_key() -> Any:
    data = parse_body(ApiKeyIn)
    me, admin = _viewer()
    owner = me
    if data.staff_id is not None and (me is None or data.staff_id != me.id):
        if not admin:
            raise Forbidden("Only an admin makes keys for someone else.", field="staff_id")
        owner = db.session.get(StaffUser, data.staff_id)
        if owner is None:
            raise NotFound(f"No staff member with id {data.staff_id}.", field="staff_id")
    if owner is None:
        raise AppError(
            "This key has no owner; name the staff member the new key is for.", field="staff_id"
        )
    api_key, plain = create_key(owner, data.name, clock.now())
    return jsonify({**key_json(api_key), "key": plain}), 201


@bp.get("/api-keys")
@requires(Permission.OWN_KEYS)
def list_api_keys() -> Any:
    me, admin = _viewer()
    items, cursor = page_of(keys_query(me, everyone=admin), ApiKey.created_at, ApiKey.id)
    return jsonify({"data": [key_json(k) for k in items], "next_cursor": cursor})


@bp.post("/api-keys/<int:key_id>/revoke")
@requires(Permission.OWN_KEYS)
@write
def revoke_api_key(key_id: int) -> Any:
    me, admin = _viewer()
    api_key = key_or_404(key_id, me, everyone=admin)
    revoke_key(api_key, clock.now())
    return jsonify(key_json(api_key))
