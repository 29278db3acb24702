"""What every widget request passes before its view: CORS (only the origins an admin allowed
for the key), the preflight answer, and the rate limit per key and client IP.

- A preflight (``OPTIONS``) carries no body, so no key: it is answered for an origin that some
  active key allows (204 with ``Access-Control-Allow-Methods: POST``,
  ``Access-Control-Allow-Headers: Content-Type``), else 403 without CORS headers.
- A ``POST`` whose ``Origin`` its key does not allow is a 403 ``origin_not_allowed`` without
  CORS headers (the browser hides it from the page). The answers to allowed origins carry
  ``Access-Control-Allow-Origin: <that origin>``, errors included, so the widget sees them
  (and does not retry a refusal). Every answer says ``Vary: Origin``. A request without an
  ``Origin`` header does not come from a web page's script (curl, a server): CORS does not
  apply, and the signature still does.
- The rate limit (``WIDGET_RATE_LIMIT``, default ``600/minute``) counts per key and client
  IP (the address ``TRUSTED_PROXY_HOPS`` proxies in front forwarded, else the peer's), in
  Redis when ``REDIS_URL`` is set (shared by every web process), else in memory. Over it: 429
  ``rate_limited`` with ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from typing import Any

from flask import Response, current_app, g, jsonify, request
from limits import parse

from app.access.network import client_ip
from app.errors import AppError, Forbidden
from app.models import WidgetKey
from app.ratelimit import limiter
from app.services.widget_keys import active_key, origin_allowed_anywhere
from app.widget_api import bp

SCRIPT_ENDPOINT = "widget.script"
PREFLIGHT_MAX_AGE = 600


def _json_body() -> Any:
    try:
        return request.get_json(silent=True)
    except RecursionError:  # nested deeper than the decoder goes: the view refuses it
        return None


def current_widget_key() -> WidgetKey | None:
    key: WidgetKey | None = g.get("widget_key")
    return key


def _refuse_origin() -> Forbidden:
    return Forbidden(
        "This page's origin is not allowed to use this widget key; an admin adds it to the "
        "key's allowed origins.",
        code="origin_not_allowed",
        field="Origin",
    )


def _preflight(origin: str | None) -> Response:
    if not origin or not origin_allowed_anywhere(origin):
        raise _refuse_origin()
    g.cors_origin = origin
    response = current_app.response_class(status=204)
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    response.vary.update(("Access-Control-Request-Method", "Access-Control-Request-Headers"))
    return response


def _rate_limited(key: WidgetKey | None) -> Response | None:
    item = parse(current_app.config.get("WIDGET_RATE_LIMIT") or "600/minute")
    bucket = (str(key.id) if key is not None else "no-key", client_ip())
    counter = limiter()
    if counter.hit(item, "widget", *bucket):
        return None
    reset_at = counter.get_window_stats(item, "widget", *bucket).reset_time
    retry_after = max(1, math.ceil(reset_at - time.time()))
    error = AppError(
        f"Too many widget requests from this address; try again in {retry_after} s.",
        code="rate_limited",
        status=429,
    )
    response = jsonify(error.body())
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.before_request
def _guard() -> Response | None:
    g.cors_origin = None
    if request.endpoint == SCRIPT_ENDPOINT:
        return None
    origin = request.headers.get("Origin")
    if request.method == "OPTIONS":
        return _preflight(origin)
    body = _json_body()
    key = active_key(body.get("key")) if isinstance(body, dict) else None
    g.widget_key = key
    allowed = True
    if origin is not None:
        if key is not None:
            allowed = origin in (key.allowed_origins or [])
        else:  # no valid key: the view refuses it; let an allowed page see why
            allowed = origin_allowed_anywhere(origin)
        if allowed:
            g.cors_origin = origin
    limited = _rate_limited(key)  # refused origins count too
    if limited is not None:
        return limited
    if not allowed:
        raise _refuse_origin()
    return None


@bp.after_request
def _cors(response: Response) -> Response:
    if request.endpoint == SCRIPT_ENDPOINT:
        return response
    response.vary.add("Origin")
    origin = g.get("cors_origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Cache-Control"] = "no-store"
    return response
