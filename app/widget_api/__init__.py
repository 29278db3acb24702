"""The in-app widget's public endpoints under ``/widget/v1`` (the script and the four POSTs
it calls). Its development page ``/dev/widget`` is in :mod:`app.dev.widget`, the
``sounding widget-key`` commands in :mod:`app.commands.widget_keys`.

The endpoints take no session and no CSRF token: a widget request is authenticated by the
public key (which names the workspace's widget key and its allowed origins) and the HMAC
signature of the user id; CORS answers only the origins an admin allowed.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("widget", __name__, url_prefix="/widget/v1")


def init_app(app: Flask) -> None:
    from app import csrf
    from app.widget_api import guard, views  # noqa: F401  (routes and hooks on bp)

    app.register_blueprint(bp)
    csrf.exempt(bp)
