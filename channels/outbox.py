"""The outbox channel: messages are kept, not sent, so a developer (``sounding outbox``, the
/dev pages) and the tests see exactly what would have gone out. It needs no account anywhere.

It imitates the providers it stands in for: email goes in batches, one "request" per
``send`` (like SendGrid's Mail Send), texts one request per message (like Twilio). A request
takes ``latency`` seconds (``OUTBOX_LATENCY_SECONDS``, 0 by default) and the "provider"
accepts it halfway through: its messages are stored then, committed at once, whatever
happens to the caller afterwards. A worker that dies mid-request leaves exactly the messages
that "went out" -- what fault tests need.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from channels.base import (
    Address,
    EmailMessage,
    Outcome,
    SendResult,
    SmsMessage,
    render_email,
)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    channel: str
    message_id: int
    invitation_id: int | None
    step: str
    recipient: str
    text: str
    sender: str | None = None
    reply_to: str | None = None
    subject: str | None = None
    html: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


Store = Callable[[Sequence[OutboxEntry]], None]


def format_address(address: Address | None) -> str | None:
    if address is None:
        return None
    return f"{address.name} <{address.email}>" if address.name else address.email


class OutboxEmailChannel:
    name = "outbox"
    max_batch = 1000

    def __init__(self, store: Store, latency: float = 0.0) -> None:
        self._store = store
        self.latency = latency

    def send(self, messages: Sequence[EmailMessage]) -> list[SendResult]:
        _wait(self.latency / 2)
        entries = []
        for message in messages:
            rendered = render_email(message)
            entries.append(
                OutboxEntry(
                    channel="email",
                    message_id=message.message_id,
                    invitation_id=message.invitation_id,
                    step=str(message.step),
                    recipient=message.to.email,
                    sender=format_address(message.sender),
                    reply_to=format_address(message.reply_to),
                    subject=rendered.subject,
                    text=rendered.text,
                    html=rendered.html,
                    headers=dict(message.headers),
                )
            )
        self._store(entries)
        _wait(self.latency / 2)
        return [
            SendResult(m.message_id, Outcome.ACCEPTED, provider_id=f"outbox-{m.message_id}")
            for m in messages
        ]


class OutboxSmsChannel:
    name = "outbox"
    max_batch = 100

    def __init__(self, store: Store, latency: float = 0.0) -> None:
        self._store = store
        self.latency = latency

    def send(self, messages: Sequence[SmsMessage]) -> list[SendResult]:
        results = []
        for m in messages:
            _wait(self.latency / 2)
            self._store(
                [
                    OutboxEntry(
                        channel="sms",
                        message_id=m.message_id,
                        invitation_id=m.invitation_id,
                        step=str(m.step),
                        recipient=m.to,
                        text=m.body,
                    )
                ]
            )
            _wait(self.latency / 2)
            results.append(
                SendResult(m.message_id, Outcome.ACCEPTED, provider_id=f"outbox-{m.message_id}")
            )
        return results


def _wait(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)
