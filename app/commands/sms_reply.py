"""``sounding sms-reply NUMBER TEXT`` (development): text Sounding as NUMBER, without
Twilio, through the same code as the incoming-text webhook, and print what it answers."""

from __future__ import annotations

import uuid

import click
from flask import current_app
from flask.cli import with_appcontext

from app.hooks.twilio import reply_to
from channels.twilio_webhooks import InboundSms


@click.command("sms-reply")
@click.argument("number")
@click.argument("text")
@with_appcontext
def sms_reply_command(number: str, text: str) -> None:
    """Text Sounding as NUMBER (development, no Twilio needed): prints what it answers."""
    from app.validation import normalize_phone

    try:
        e164 = normalize_phone(number)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="NUMBER") from exc
    inbound = InboundSms(
        provider_id=f"SMdev{uuid.uuid4().hex}",
        from_number=e164,
        to_number=current_app.config.get("TWILIO_FROM_NUMBER") or "sounding",
        body=text,
        opt_out_type=None,
    )
    result = reply_to(inbound)
    click.echo(f"[{result.outcome.value}] " + (result.answer or "(no answer)"))
