"""Choosing the delivery channels from configuration (outbox, SendGrid, Twilio)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import Flask, current_app

from app import clock
from app.db import db, table_of
from app.models import OutboxMessage
from channels.base import EmailChannel, SmsChannel
from channels.outbox import OutboxEmailChannel, OutboxEntry, OutboxSmsChannel

_EXTENSION = "sounding.transport"


@dataclass(slots=True)
class Transport:
    email: EmailChannel
    sms: SmsChannel


def store_in_outbox(entries: Sequence[OutboxEntry]) -> None:
    """Keep what the outbox "sent", committed at once on a connection of its own.

    The outbox stands in for a provider, so it behaves like one: what it accepted stays
    accepted whatever happens to the delivery job afterwards. A worker killed after the send
    but before it recorded the result leaves an outbox row *and* a claim, exactly as a real
    provider would have delivered the message; the outbox is an honest record of what went
    out, which the fault tests count.
    """
    if not entries:
        return
    now = clock.now()
    rows = [
        {
            "channel": e.channel,
            "message_id": e.message_id,
            "invitation_id": e.invitation_id,
            "step": e.step,
            "recipient": e.recipient,
            "sender": e.sender,
            "reply_to": e.reply_to,
            "subject": e.subject,
            "text": e.text,
            "html": e.html,
            "headers": dict(e.headers),
            "created_at": now,
        }
        for e in entries
    ]
    with db.engine.begin() as connection:
        connection.execute(table_of(OutboxMessage).insert(), rows)


def _email_channel(app: Flask) -> EmailChannel:
    if app.config["EMAIL_BACKEND"] == "sendgrid":
        from channels.sendgrid_email import SendGridConfig, SendGridEmailChannel

        return SendGridEmailChannel(
            SendGridConfig(
                api_key=app.config["SENDGRID_API_KEY"],
                host=app.config["SENDGRID_HOST"],
                sandbox_mode=app.config["SENDGRID_SANDBOX"],
            ),
            # Rate-limit reset times are read against the application's clock.
            clock=lambda: clock.now().timestamp(),
        )
    return OutboxEmailChannel(store_in_outbox, latency=app.config["OUTBOX_LATENCY_SECONDS"])


def _sms_channel(app: Flask) -> SmsChannel:
    if app.config["SMS_BACKEND"] == "twilio":
        from channels.twilio_sms import TwilioSmsChannel

        api_key = app.config.get("TWILIO_API_KEY_SID")
        return TwilioSmsChannel(
            account_sid=app.config["TWILIO_ACCOUNT_SID"],
            # An API key, when set, sends; the Auth Token still verifies the webhooks.
            auth_token=None if api_key else app.config["TWILIO_AUTH_TOKEN"],
            api_key_sid=api_key,
            api_key_secret=app.config.get("TWILIO_API_KEY_SECRET") if api_key else None,
            messaging_service_sid=app.config["TWILIO_MESSAGING_SERVICE_SID"],
            from_number=app.config["TWILIO_FROM_NUMBER"],
            status_callback=f"{app.config['BASE_URL']}/hooks/twilio/status",
            base_url=app.config["TWILIO_BASE_URL"],
        )
    return OutboxSmsChannel(store_in_outbox, latency=app.config["OUTBOX_LATENCY_SECONDS"])


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = Transport(email=_email_channel(app), sms=_sms_channel(app))


def transport() -> Transport:
    chosen: Transport = current_app.extensions[_EXTENSION]
    return chosen
