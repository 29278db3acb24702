"""``/u/<token>``: unsubscribe an address from surveys.

GET shows a confirmation button and changes nothing (scanners follow links). POST
suppresses the address and ends its open invitations at once; it also serves RFC 8058
one-click unsubscribes (``List-Unsubscribe-Post: List-Unsubscribe=One-Click``), which mail
providers send without a CSRF token, so this view is exempt: the signed token is the proof.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from app import clock
from app.access import public
from app.db import db
from app.messages import links
from app.services.suppressions import is_suppressed, suppress
from app.vocabulary import SuppressionKind, SuppressionReason

bp = Blueprint("unsubscribe", __name__)


def _address(token: str) -> str | None:
    try:
        data = links.verify(links.Purpose.UNSUBSCRIBE, token)
    except (links.BadToken, links.ExpiredToken):
        return None
    value = data.get("v")
    return value if data.get("k") == "email" and isinstance(value, str) else None


@bp.get("/u/<token>")
@public
def confirm(token: str) -> Any:
    address = _address(token)
    if address is None:
        return render_template("survey/invalid.html"), 404
    done = is_suppressed(SuppressionKind.EMAIL, address) is not None
    return render_template("unsubscribe.html", address=address, token=token, done=done)


@bp.post("/u/<token>")
@public
def unsubscribe(token: str) -> Any:
    address = _address(token)
    if address is None:
        return render_template("survey/invalid.html"), 404
    suppress(
        SuppressionKind.EMAIL,
        address,
        SuppressionReason.UNSUBSCRIBED,
        clock.now(),
        detail="unsubscribe link",
    )
    db.session.commit()
    return render_template("unsubscribe.html", address=address, token=token, done=True)
