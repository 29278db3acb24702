"""``POST /hooks/sendgrid``: SendGrid's signed Event Webhook.

Set the webhook's URL to ``BASE_URL/hooks/sendgrid`` with the signed webhook on, and its
verification key in ``SENDGRID_WEBHOOK_PUBLIC_KEY``. A request that is unsigned, signed with
another key, altered, or older than ten minutes is refused with a 403 before anything is
read or written; a verified batch is applied once (:mod:`app.services.email_events`) and
answered 200, so SendGrid does not post it again. Without a key configured every request is
refused with a 503 (SendGrid retries for a day, so events survive a late configuration).

No CSRF token (the signature is the proof); errors are JSON like every ``/hooks/`` path.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request

from app import clock
from app.access import public
from app.config import ConfigError
from app.db import db
from app.errors import AppError, Forbidden
from app.services.email_events import apply_events
from channels.sendgrid_events import SendGridWebhookVerifier, WebhookRejected, parse_events

bp = Blueprint("sendgrid_hooks", __name__)
_EXTENSION = "sounding.sendgrid_webhook"


@bp.post("/hooks/sendgrid")
@public
def events() -> Any:
    verifier: SendGridWebhookVerifier | None = current_app.extensions.get(_EXTENSION)
    if verifier is None:
        raise AppError(
            "The SendGrid event webhook is not configured: set SENDGRID_WEBHOOK_PUBLIC_KEY.",
            code="not_configured",
            status=503,
        )
    body = request.get_data()
    try:
        verifier.verify_headers(body, dict(request.headers), clock.now().timestamp())
    except WebhookRejected as exc:
        raise Forbidden(f"Not a verified SendGrid request: {exc}", code=exc.code) from exc
    try:
        parsed = parse_events(body)
    except WebhookRejected as exc:
        raise AppError(str(exc), code=exc.code, field="body") from exc
    stats = apply_events(parsed, clock.now())
    db.session.commit()
    return jsonify(stats)


def init_app(app: Flask) -> None:
    from app import csrf

    key = app.config.get("SENDGRID_WEBHOOK_PUBLIC_KEY")
    if key:
        try:
            app.extensions[_EXTENSION] = SendGridWebhookVerifier(key)
        except ValueError as exc:
            raise ConfigError(
                f"SENDGRID_WEBHOOK_PUBLIC_KEY is not a valid verification key: {exc}. Copy "
                "it from SendGrid: Settings > Mail Settings > Event Webhook > Signed Event "
                "Webhook."
            ) from exc
    app.register_blueprint(bp)
    csrf.exempt(bp)
