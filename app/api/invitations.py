"""Invitations: create (one person, one channel), read, list, cancel."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from sqlalchemy import select

from app import clock
from app.access import Permission, current_role, requires, scope
from app.api import bp, parse_body
from app.api.auth import principal_name
from app.api.pagination import page_of
from app.api.people import upsert_within_reach
from app.api.schemas import CancelIn, InvitationIn
from app.api.serialize import invitation_json, message_json
from app.api.surveys import get_survey_or_404
from app.api.transaction import write
from app.db import db
from app.errors import AppError, Forbidden, NotFound
from app.models import Invitation, Person, StaffUser
from app.services.invitations import InvitationRequest, cancel_invitation, create_invitation
from app.vocabulary import Channel, InvitationStatus, StaffRole, Trigger


def _sender(value: int | str | None) -> StaffUser | None:
    """The CSM to send as. A CSM may only send as themselves."""
    csm = scope.scoped_staff()
    if value is None:
        return csm
    if isinstance(value, int):
        staff = db.session.get(StaffUser, value)
    else:
        staff = db.session.scalar(select(StaffUser).where(StaffUser.email == value))
    if staff is None:
        raise NotFound(f"No staff user {value!r} to send as.", field="sender")
    if csm is not None and staff.id != csm.id:
        raise Forbidden("A CSM can only send as themselves.", field="sender")
    return staff


def get_invitation_or_404(invitation_id: int) -> Invitation:
    return scope.invitation_or_404(invitation_id)


def person_of(data: InvitationIn | Any) -> Person:
    """The person a request names (``person_id``) or describes (``person``, upserted),
    within the caller's reach."""
    if data.person is not None:
        person, _ = upsert_within_reach(data.person)
        return person
    return scope.person_or_404(data.person_id)


@bp.post("/invitations")
@requires(Permission.SEND)
@write
def create_invitation_view() -> Any:
    data = parse_body(InvitationIn)
    if data.channel == Channel.WIDGET:
        raise AppError(
            "Widget surveys are shown by the widget; invite by email, sms or link.", field="channel"
        )
    survey = get_survey_or_404(data.survey_id)
    now = clock.now()
    person = person_of(data)
    sender = _sender(data.sender)
    trigger = Trigger.CSM if current_role() == StaffRole.CSM else Trigger.API
    invitation = create_invitation(
        InvitationRequest(
            survey=survey,
            person=person,
            channel=data.channel,
            trigger=trigger,
            sender=sender,
            send_at=data.send_at,
        ),
        now,
    )
    return jsonify(invitation_json(invitation)), 201


@bp.get("/invitations/<int:invitation_id>")
@requires(Permission.READ)
def get_invitation(invitation_id: int) -> Any:
    return jsonify(invitation_detail(get_invitation_or_404(invitation_id)))


def invitation_detail(invitation: Invitation) -> dict[str, Any]:
    """One invitation with its messages (each step: channel, status, times, reasons)."""
    body = invitation_json(invitation)
    body["messages"] = [message_json(m) for m in invitation.messages]
    return body


@bp.get("/invitations")
@requires(Permission.READ)
def list_invitations() -> Any:
    query = select(Invitation).where(scope.invitations_clause())
    args = request.args
    if "survey_id" in args:
        query = query.where(Invitation.survey_id == _int_arg("survey_id"))
    if "person_id" in args:
        query = query.where(Invitation.person_id == _int_arg("person_id"))
    if "status" in args:
        try:
            status = InvitationStatus(args["status"])
        except ValueError as exc:
            raise AppError(f"unknown status {args['status']!r}", field="status") from exc
        query = query.where(Invitation.status == status)
    items, cursor = page_of(query, Invitation.created_at, Invitation.id)
    return jsonify({"data": [invitation_json(i) for i in items], "next_cursor": cursor})


@bp.post("/invitations/<int:invitation_id>/cancel")
@requires(Permission.SEND)
@write
def cancel_invitation_view(invitation_id: int) -> Any:
    invitation = get_invitation_or_404(invitation_id)
    data = parse_body(CancelIn) if request.get_data() else CancelIn()
    who = principal_name()
    cancel_invitation(invitation, clock.now(), data.reason or f"canceled by {who}")
    return jsonify(invitation_detail(invitation))


def _int_arg(name: str) -> int:
    try:
        return int(request.args[name])
    except ValueError as exc:
        raise AppError(f"{name} must be a whole number", field=name) from exc
