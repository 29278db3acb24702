"""Emails to staff (sign-in link, password reset, invitation), through the same email channel
as surveys (outbox in development, SendGrid in production).

``queue_staff_email`` writes the row in the caller's transaction and enqueues
``send_staff_email`` after the commit. The job claims the row (``queued → sending``) before
it makes the link and calls the channel, then records what the channel said; a row claimed
by a worker that died is left ``sending`` (not sent again: when in doubt, do not send) and the
staff member asks for a new link. ``requeue_lost`` (run by the periodic sweep) enqueues rows
still queued after a minute, whose job was lost with Redis.

Staff emails pass ``invitation_id=0`` to the channel: provider events for them never match a
survey message (they are checked against the message's invitation).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app, render_template
from sqlalchemy import select, update

from app import clock
from app.db import db
from app.jobs import enqueue_after_commit
from app.jobs.runtime import job
from app.models import StaffEmail, StaffUser
from app.transport import transport
from channels.base import Address, EmailContent, EmailMessage, Outcome, Step

SUBJECTS = {
    "sign_in": "Your sign-in link for Sounding",
    "reset": "Reset your Sounding password",
    "invite": "You are invited to Sounding",
}
PATHS = {
    "sign_in": "/dashboard/sign-in/link/",
    "reset": "/dashboard/password/reset/",
    "invite": "/dashboard/invitation/",
}
LOST_AFTER = timedelta(minutes=1)


def link_for(purpose: str, token: str) -> str:
    return str(current_app.config["BASE_URL"]) + PATHS[purpose] + token


def queue_staff_email(
    staff: StaffUser, purpose: str, details: dict[str, Any] | None = None
) -> StaffEmail:
    row = StaffEmail(
        staff_user=staff,
        purpose=purpose,
        recipient=staff.email,
        status="queued",
        details=details or {},
        created_at=clock.now(),
    )
    db.session.add(row)
    db.session.flush()
    enqueue_after_commit(send_staff_email, row.id)
    return row


def _claim(email_id: int, now: datetime) -> StaffEmail | None:
    claimed = db.session.execute(
        update(StaffEmail)
        .where(StaffEmail.id == email_id, StaffEmail.status == "queued")
        .values(status="sending", claimed_at=now)
    )
    db.session.commit()
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return None
    return db.session.get(StaffEmail, email_id)


def _content(row: StaffEmail, link: str) -> EmailContent:
    values = {
        "staff": row.staff_user,
        "link": link,
        "details": row.details,
        "company": current_app.config["COMPANY_NAME"],
    }
    return EmailContent(
        subject=SUBJECTS[row.purpose],
        text=render_template(f"staff/email/{row.purpose}.txt", **values),
        html=render_template(f"staff/email/{row.purpose}.html", **values),
    )


@job("email")
def send_staff_email(email_id: int) -> None:
    """The job: claim, make the single-use link, send, record."""
    from app.staff.services import issue_token

    now = clock.now()
    row = _claim(email_id, now)
    if row is None:
        return
    staff = row.staff_user
    if not staff.is_active:
        row.status, row.error = "failed", "the staff member was deactivated"
        db.session.commit()
        return
    token = issue_token(staff, row.purpose, now)
    db.session.commit()
    config = current_app.config
    message = EmailMessage(
        message_id=row.id,
        invitation_id=0,
        step=Step.INITIAL,
        to=Address(row.recipient, staff.name),
        sender=Address(
            config["DEFAULT_SENDER_EMAIL"],
            config.get("DEFAULT_SENDER_NAME") or f"{config['COMPANY_NAME']} Sounding",
        ),
        reply_to=None,
        content=_content(row, link_for(row.purpose, token)),
    )
    (result,) = transport().email.send([message])
    if result.outcome == Outcome.ACCEPTED:
        row.status, row.sent_at, row.provider_id = "sent", clock.now(), result.provider_id
    elif result.outcome == Outcome.TRANSIENT:
        row.status, row.claimed_at, row.error = "queued", None, result.error
        db.session.commit()
        raise RuntimeError(f"staff email {row.id} not sent yet: {result.error}")
    else:
        row.status, row.error = "failed", result.error or str(result.outcome)
    db.session.commit()


def requeue_lost(now: datetime) -> int:
    """Enqueue staff emails still queued a minute after they were written."""
    ids = list(
        db.session.scalars(
            select(StaffEmail.id).where(
                StaffEmail.status == "queued", StaffEmail.created_at < now - LOST_AFTER
            )
        )
    )
    for email_id in ids:
        enqueue_after_commit(send_staff_email, email_id)
    return len(ids)
