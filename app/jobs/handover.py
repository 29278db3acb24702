"""Between a step's claim and the provider call (see :mod:`app.jobs.delivery`).

Both writes here go on a connection of their own and commit at once, so the delivery job's
session holds no lock and no write while the provider is called, and what they record
survives the worker:

- :func:`drop_ended`: a claimed invitation answered, canceled or suppressed since its claim
  is not sent (its message says so);
- :func:`hand_over`: messages are marked ``sending`` right before their provider request. A
  worker that dies leaves its claims behind; the sweep releases those still ``claimed``
  (certainly not sent) and puts the ``sending`` ones in review (they may have gone out).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update

from app.db import db
from app.models import Invitation, Message
from app.vocabulary import InvitationStatus, MessageStatus, Step


def hand_over(message_ids: Sequence[int], now: datetime) -> set[int]:
    """Mark claimed messages as handed to the provider, committed at once on a connection of
    its own, right before the provider is called; returns those marked. A message the sweep
    released meanwhile (its worker looked dead) is not marked, and so not sent."""
    if not message_ids:
        return set()
    with db.engine.begin() as connection:
        return set(
            connection.scalars(
                update(Message)
                .where(Message.id.in_(message_ids), Message.status == MessageStatus.CLAIMED)
                .values(status=MessageStatus.SENDING, updated_at=now)
                .returning(Message.id)
            )
        )


def drop_ended(
    invitations: Sequence[Invitation], message_ids: dict[int, int], step: Step, now: datetime
) -> tuple[list[Invitation], dict[int, int]]:
    """Invitations answered, canceled or suppressed between the claim and now are not sent:
    their message rows say so (written on a connection of its own: the job's session holds
    no lock and no write while the provider is called)."""
    keep = [
        inv
        for inv in invitations
        if inv.status == InvitationStatus.SENDING and inv.sending_step == step.value
    ]
    ended = [inv for inv in invitations if inv not in keep]
    if ended:
        with db.engine.begin() as connection:
            for inv in ended:
                connection.execute(
                    update(Message)
                    .where(
                        Message.id == message_ids[inv.id],
                        Message.status == MessageStatus.CLAIMED,
                    )
                    .values(
                        status=MessageStatus.SKIPPED,
                        error_code="ended",
                        error=f"not sent: the invitation ended ({inv.status.value}) "
                        "before it went out",
                        updated_at=now,
                    )
                )
    return keep, {inv.id: message_ids[inv.id] for inv in keep}
