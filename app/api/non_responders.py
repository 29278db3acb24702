"""GET /api/v1/surveys/<id>/non-responders: who was asked and never answered.

An invitation counts when its first message went out (``sent_at`` is set) and it was never
answered: it expired, or it is still open (waiting for a reminder or its deadline), or it is
in review. Answered, canceled (withdrawn, or answered on another channel), suppressed and
failed invitations are not non-responses. Each row carries the reminders: every reminder
step with its channel, status and the time it went out (none when it was skipped, with the
reason).

JSON is cursor-paginated, newest first (by the time the first message went out);
``?format=csv`` streams the whole list. Filters: ``role`` (the person's role today, or
``unknown``), ``account`` (external id) or ``account_id``, ``channel``, ``since``/``until``
(on ``sent_at``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from flask import Response, jsonify, request, stream_with_context
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.access import Permission, demand, requires, scope
from app.api import bp
from app.api.filters import report_filter
from app.api.pagination import page_of
from app.api.surveys import get_survey_or_404
from app.db import db
from app.errors import AppError
from app.models import Invitation, Message, Person
from app.policy.wording import iso
from app.reports import UNKNOWN_ROLE, ReportFilter
from app.vocabulary import NOT_ANSWERED, InvitationStatus, Role, Step

S = InvitationStatus
REMINDER_STEPS = (Step.REMINDER_1.value, Step.REMINDER_2.value)
CSV_BATCH = 1000


def non_responders_query(survey_id: int, f: ReportFilter) -> Select[Any]:
    query = (
        select(Invitation)
        .join(Person, Person.id == Invitation.person_id)
        .where(
            Invitation.survey_id == survey_id,
            Invitation.sent_at.is_not(None),
            Invitation.status.in_(NOT_ANSWERED),
        )
        .options(
            joinedload(Invitation.person),
            joinedload(Invitation.account),
            selectinload(Invitation.messages),
        )
    )
    if f.role is not None:
        query = query.where(
            Person.role.is_(None) if f.role == UNKNOWN_ROLE else Person.role == Role(f.role)
        )
    if f.account_id is not None:
        query = query.where(Invitation.account_id == f.account_id)
    if f.channel is not None:
        query = query.where(Invitation.channel == f.channel)
    if f.since is not None:
        query = query.where(Invitation.sent_at >= f.since)
    if f.until is not None:
        query = query.where(Invitation.sent_at < f.until)
    return query


def reminders_of(invitation: Invitation) -> list[Message]:
    return [m for m in invitation.messages if m.step in REMINDER_STEPS]


def non_responder_json(invitation: Invitation) -> dict[str, Any]:
    person, account = invitation.person, invitation.account
    return {
        "invitation_id": invitation.id,
        "status": invitation.status.value,
        "channel": invitation.channel.value,
        "sent_at": iso(invitation.sent_at),
        "deadline_at": iso(invitation.deadline_at),
        "ended_at": iso(invitation.ended_at),
        "person": {
            "id": person.id,
            "external_id": person.external_id,
            "email": person.email,
            "phone": person.phone,
            "name": person.name,
            "role": person.role.value if person.role else None,
        },
        "account": (
            {"id": account.id, "external_id": account.external_id, "name": account.name}
            if account is not None
            else None
        ),
        "reminders": [
            {
                "step": m.step,
                "channel": m.channel.value,
                "status": m.status.value,
                "sent_at": iso(m.sent_at),
                "reason": m.error,
            }
            for m in reminders_of(invitation)
        ],
    }


@bp.get("/surveys/<int:survey_id>/non-responders")
@requires(Permission.READ)
def non_responders(survey_id: int) -> Any:
    survey = get_survey_or_404(survey_id)
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise AppError("format must be json or csv", field="format")
    query = non_responders_query(survey.id, report_filter()).where(scope.invitations_clause())
    if fmt == "csv":
        demand(Permission.EXPORT_PERSONAL, "Your role does not allow exports of personal data.")
        name = f"survey-{survey.id}-non-responders.csv"
        return Response(
            stream_with_context(_csv_lines(query)),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    items, cursor = page_of(query, Invitation.sent_at, Invitation.id)
    return jsonify({"data": [non_responder_json(i) for i in items], "next_cursor": cursor})


CSV_COLUMNS = [
    "invitation_id",
    "status",
    "channel",
    "sent_at",
    "deadline_at",
    "person_id",
    "external_id",
    "name",
    "email",
    "phone",
    "role",
    "account_external_id",
    "account_name",
    "reminder_1_channel",
    "reminder_1_status",
    "reminder_1_sent_at",
    "reminder_2_channel",
    "reminder_2_status",
    "reminder_2_sent_at",
]


def _cell(value: str | None) -> str:
    """Text as a spreadsheet shows it, never as a formula (CSV injection)."""
    if not value:
        return ""
    return f"'{value}" if value[0] in "=+-@\t\r" else value


def csv_row(invitation: Invitation) -> list[str]:
    person, account = invitation.person, invitation.account
    row = [
        str(invitation.id),
        invitation.status.value,
        invitation.channel.value,
        iso(invitation.sent_at) or "",
        iso(invitation.deadline_at) or "",
        str(person.id),
        _cell(person.external_id),
        _cell(person.name),
        _cell(person.email),
        person.phone or "",
        person.role.value if person.role else "",
        _cell(account.external_id) if account else "",
        _cell(account.name) if account else "",
    ]
    by_step = {m.step: m for m in reminders_of(invitation)}
    for step in REMINDER_STEPS:
        m = by_step.get(step)
        row += [m.channel.value, m.status.value, iso(m.sent_at) or ""] if m else ["", "", ""]
    return row


def _csv_lines(query: Select[Any]) -> Iterator[str]:
    """The whole list, newest first, read in batches by keyset (no OFFSET)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    last: tuple[Any, int] | None = None
    while True:
        page = query
        if last is not None:
            page = page.where(
                or_(
                    Invitation.sent_at < last[0],
                    and_(Invitation.sent_at == last[0], Invitation.id < last[1]),
                )
            )
        batch = list(
            db.session.scalars(
                page.order_by(Invitation.sent_at.desc(), Invitation.id.desc()).limit(CSV_BATCH)
            )
        )
        for invitation in batch:
            writer.writerow(csv_row(invitation))
        if batch:
            yield flush()
        if len(batch) < CSV_BATCH:
            return
        last = (batch[-1].sent_at, batch[-1].id)
        db.session.expunge_all()
