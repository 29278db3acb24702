"""Choosing the delivery channels from configuration (outbox, SendGrid, Twilio)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import Flask, current_app

from app import clock
from app.db import db
from app.models import OutboxMessage
from channels.base import EmailChannel, SmsChannel
from channels.outbox import OutboxEmailChannel, OutboxEntry, OutboxSmsChannel

_EXTENSION = "sounding.transport"


@dataclass(slots=True)
class Transport:
    email: EmailChannel
    sms: SmsChannel


def store_in_outbox(entries: Sequence[OutboxEntry]) -> None:
    """Add outbox rows to the current session; they commit with the send's results."""
    now = clock.now()
    db.session.add_all(
        [
            OutboxMessage(
                channel=e.channel,
                message_id=e.message_id,
                invitation_id=e.invitation_id,
                step=e.step,
                recipient=e.recipient,
                sender=e.sender,
                reply_to=e.reply_to,
                subject=e.subject,
                text=e.text,
                html=e.html,
                headers=dict(e.headers),
                created_at=now,
            )
            for e in entries
        ]
    )


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
    return OutboxEmailChannel(store_in_outbox)


def _sms_channel(app: Flask) -> SmsChannel:
    if app.config["SMS_BACKEND"] == "twilio":
        from channels.twilio_sms import TwilioSmsChannel

        return TwilioSmsChannel(
            account_sid=app.config["TWILIO_ACCOUNT_SID"],
            auth_token=app.config["TWILIO_AUTH_TOKEN"],
            messaging_service_sid=app.config["TWILIO_MESSAGING_SERVICE_SID"],
            from_number=app.config["TWILIO_FROM_NUMBER"],
            status_callback=f"{app.config['BASE_URL']}/hooks/twilio/status",
            base_url=app.config["TWILIO_BASE_URL"],
        )
    return OutboxSmsChannel(store_in_outbox)


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = Transport(email=_email_channel(app), sms=_sms_channel(app))


def transport() -> Transport:
    return current_app.extensions[_EXTENSION]
