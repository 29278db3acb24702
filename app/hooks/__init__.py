"""Provider webhooks under ``/hooks/``: verified, JSON errors, CSRF-exempt."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.hooks import sendgrid, twilio

    sendgrid.init_app(app)  # POST /hooks/sendgrid
    twilio.init_app(app)  # POST /hooks/twilio/sms, /hooks/twilio/status
