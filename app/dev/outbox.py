"""``/dev/outbox``: every message the outbox channel kept, as it would have been sent."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import select

from app.access import public
from app.db import db
from app.models import OutboxMessage

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.get("/outbox")
@public
def outbox() -> Any:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(100)
    to = request.args.get("to")
    if to:
        query = query.where(OutboxMessage.recipient == to.strip().lower())
    return render_template("dev/outbox.html", messages=db.session.scalars(query).all(), to=to)


@bp.get("/outbox/<int:message_id>")
@public
def outbox_message(message_id: int) -> Any:
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template("dev/outbox_message.html", message=message)
