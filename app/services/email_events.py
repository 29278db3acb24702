"""Applying a verified batch of SendGrid events: message statuses and suppressions.

Each event is applied once: its ``sg_event_id`` is inserted into ``provider_event`` in the
same transaction as its effects (``ON CONFLICT DO NOTHING``), so a batch SendGrid posts
again, or a duplicate inside one batch, changes nothing twice; a concurrent duplicate waits
on the key and then finds it taken. Events are matched to messages by our own custom
argument ``sounding_message_id`` (``X-Message-Id`` is shared by up to 1,000 messages of a
request), and applied in their own time order; statuses only move forward
(:mod:`app.policy.delivery_status`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.db import affected, db, is_postgres
from app.models import Message, ProviderEvent, ScoreClick
from app.policy import delivery_status
from app.services.suppressions import suppress
from app.vocabulary import Channel, ClickState, MessageStatus, SuppressionKind
from channels.sendgrid_events import EventAction, SendGridEvent

PROVIDER = "sendgrid"
#: Processed event ids are kept this long; SendGrid retries a failed post for 24 hours.
EVENT_TTL = timedelta(days=3)
#: Decided score clicks are kept this long (to explain an answer), then pruned.
CLICK_TTL = timedelta(days=30)
_FAILURE_STATUSES = frozenset({"bounced", "blocked", "dropped"})


def _claim_new(events: Sequence[SendGridEvent], now: datetime) -> list[SendGridEvent]:
    """The events not seen before, recording them as seen."""
    unique: dict[str, SendGridEvent] = {}
    for event in events:
        unique.setdefault(event.dedupe_key[:255], event)
    if not unique:
        return []
    insert = pg_insert if is_postgres() else sqlite_insert
    fresh = set(
        db.session.scalars(
            insert(ProviderEvent)
            .values([{"provider": PROVIDER, "event_id": k, "received_at": now} for k in unique])
            .on_conflict_do_nothing()
            .returning(ProviderEvent.event_id)
        )
    )
    return [event for k, event in unique.items() if k in fresh]


def apply_events(events: Sequence[SendGridEvent], now: datetime) -> dict[str, int]:
    """Apply a verified batch; returns counts. The caller commits."""
    stats = {"received": len(events), "applied": 0, "duplicate": 0, "ignored": 0, "suppressed": 0}
    new = _claim_new(events, now)
    stats["duplicate"] = len(events) - len(new)
    ids = {e.message_id for e in new if e.message_id is not None}
    messages = {
        m.id: m
        for m in db.session.scalars(
            select(Message).where(Message.id.in_(ids), Message.channel == Channel.EMAIL)
        )
    }
    far_past = datetime.min.replace(tzinfo=now.tzinfo)
    for event in sorted(new, key=lambda e: e.timestamp or far_past):
        message = messages.get(event.message_id) if event.message_id is not None else None
        if (
            message is None
            or event.action == EventAction.IGNORE
            or (event.invitation_id is not None and event.invitation_id != message.invitation_id)
        ):
            stats["ignored"] += 1
            continue
        _apply(message, event, now)
        stats["applied"] += 1
        reason = delivery_status.suppression_reason(event.suppress)
        if event.action == EventAction.SUPPRESS and reason is not None and message.recipient:
            suppress(
                SuppressionKind.EMAIL,
                message.recipient,
                reason,
                now,
                detail=f"SendGrid {event.event}" + (f": {event.reason}" if event.reason else ""),
            )
            stats["suppressed"] += 1
    return stats


def _apply(message: Message, event: SendGridEvent, now: datetime) -> None:
    status = delivery_status.advance(message.status, event.status)
    delivered = delivery_status.RANK[MessageStatus.DELIVERED]
    if event.status in _FAILURE_STATUSES and delivery_status.RANK[message.status] < delivered:
        message.error_code = (event.smtp_status or event.status or "")[:64] or None
        message.error = event.reason
    message.status = status
    when = event.timestamp or now
    if message.last_event_at is None or when > message.last_event_at:
        message.last_event_at = when
    message.updated_at = now


def prune(now: datetime) -> dict[str, int]:
    """Forget processed event ids and decided clicks past their time. The caller commits."""
    events = db.session.execute(
        delete(ProviderEvent).where(ProviderEvent.received_at < now - EVENT_TTL)
    )
    clicks = db.session.execute(
        delete(ScoreClick).where(
            ScoreClick.state != ClickState.PENDING, ScoreClick.decided_at < now - CLICK_TTL
        )
    )
    return {"provider_events": affected(events), "score_clicks": affected(clicks)}
