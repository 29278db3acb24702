"""``/dev/widget`` (development only, like the outbox): ``widget/example.html``, a sample
product page, served with a real public key and a signature Sounding computes for a demo
user, so a newcomer sees the widget ask, answer and back off locally.

The page uses the development widget key (made on first visit, allowing this server's own
origin). ``?user=ID`` signs in as someone else; the page links to a fresh user, since a user
who answered is not asked again for the recontact period.
"""

from __future__ import annotations

import re
import secrets
from importlib import resources
from typing import Any

from flask import Blueprint, redirect, request, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import escape

from app import clock
from app.access import public
from app.db import db
from app.errors import AppError
from app.models import DEFAULT_FOLLOW_UP, Survey, WidgetKey
from app.policy.widget import normalize_origin, signature_of
from app.services.surveys import default_question
from app.services.widget_keys import create_key, list_keys
from app.services.widget_surveys import widget_surveys
from app.widget_api.views import SCRIPT

bp = Blueprint("widget_dev", __name__, url_prefix="/dev")

DEV_KEY_NAME = "development"
DEMO_USER = "user-1001"
DEMO_EMAIL = "ada@example.com"
_USER = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _example_html() -> str:
    path = SCRIPT.with_name("example.html")
    if path.is_file():
        return path.read_text(encoding="utf-8")
    return resources.files("widget").joinpath("example.html").read_text(encoding="utf-8")


def _origin() -> str:
    """This server's origin as the browser sends it in ``Origin``."""
    return normalize_origin(request.host_url)


def development_key(origin: str) -> WidgetKey:
    """The development key, allowing ``origin`` (made or extended as needed)."""
    key = next((k for k in list_keys() if k.active and k.name == DEV_KEY_NAME), None)
    if key is None:
        key = create_key(DEV_KEY_NAME, [origin], clock.now())
    elif origin not in key.allowed_origins:
        key.allowed_origins = [*key.allowed_origins, origin]
    db.session.commit()
    return key


def _banner(key: WidgetKey, user: str, has_survey: bool) -> str:
    fresh = f"dev-{secrets.token_hex(3)}"
    parts = [
        '<aside style="margin:16px 0;padding:12px 16px;border:1px dashed #0f766e;'
        'border-radius:8px;background:#f0fdfa;font-size:14px">',
        "<strong>Sounding development page.</strong> This sample product page embeds the "
        f"widget with the development key <code>{escape(key.public_key)}</code>, signed in as "
        f"<code>{escape(user)}</code>: Sounding computed the signature with the key's secret, "
        "as your backend would. ",
        f'<a href="{url_for("widget_dev.page", user=fresh)}">Sign in as a new user</a> '
        "(someone who answered is not asked again for a while); why not: "
        f"<code>sounding explain {escape(user)} --channel widget</code>.",
    ]
    if not has_survey:
        parts.append(
            f'<form method="post" action="{url_for("widget_dev.create_survey")}" '
            'style="margin-top:8px">No active survey has the widget channel, so the widget '
            f'shows nothing. <input type="hidden" name="csrf_token" value="{generate_csrf()}">'
            '<button type="submit">Create a widget survey</button></form>'
        )
    parts.append("</aside>")
    return "".join(parts)


@bp.get("/widget")
@public
def page() -> Any:
    user = request.args.get("user", DEMO_USER)
    if not _USER.match(user):
        raise AppError("user: letters, digits and _ . - only (up to 64)", field="user")
    key = development_key(_origin())
    html = _example_html()
    html = html.replace("YOUR_PUBLIC_KEY", key.public_key)
    html = html.replace("SIGNATURE_FROM_YOUR_BACKEND", signature_of(key.secret, user))
    if user != DEMO_USER:
        html = html.replace(DEMO_USER, user).replace(DEMO_EMAIL, f"{user}@example.com")
    has_survey = bool(widget_surveys(clock.now()))
    html = html.replace("<main>", "<main>" + _banner(key, user, has_survey), 1)
    return html, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}


@bp.post("/widget/survey")
@public
def create_survey() -> Any:
    """A survey shown by the widget (and sent by email, SMS or link), with the defaults."""
    now = clock.now()
    db.session.add(
        Survey(
            name="Product NPS (widget)",
            question=default_question(),
            follow_up_question=DEFAULT_FOLLOW_UP,
            channels={"enabled": ["widget", "email", "sms", "link"]},
            created_at=now,
            updated_at=now,
        )
    )
    db.session.commit()
    return redirect(url_for("widget_dev.page"), code=303)
