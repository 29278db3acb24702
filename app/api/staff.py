"""Staff users (admins and CSMs): who surveys are sent as."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from sqlalchemy import select

from app import clock
from app.access import Permission, requires
from app.api import bp, parse_body
from app.api.schemas import StaffIn
from app.api.serialize import staff_json
from app.api.transaction import write
from app.audit.services import record
from app.db import db
from app.errors import Conflict
from app.models import StaffUser


@bp.post("/staff")
@requires(Permission.MANAGE)
@write
def create_staff() -> Any:
    data = parse_body(StaffIn)
    if db.session.scalar(select(StaffUser).where(StaffUser.email == data.email)):
        raise Conflict(f"A staff user with email {data.email} already exists.", field="email")
    staff = StaffUser(
        email=data.email,
        name=data.name,
        role=data.role,
        sender_name=data.sender_name,
        sender_email=data.sender_email,
        created_at=clock.now(),
    )
    db.session.add(staff)
    db.session.flush()
    record("staff.created", "staff", staff.id, after=staff_json(staff))
    return jsonify(staff_json(staff)), 201


@bp.get("/staff")
@requires(Permission.READ)
def list_staff() -> Any:
    staff = db.session.scalars(select(StaffUser).order_by(StaffUser.id))
    return jsonify({"data": [staff_json(s) for s in staff], "next_cursor": None})
