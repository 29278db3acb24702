"""The one check every request passes: who is asking (a session or an API key) and whether
the route's declared permission allows it. A route without a declaration is refused."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_login import LoginManager, login_user, logout_user
from werkzeug.wrappers import Response as WerkzeugResponse

from app import clock
from app.access import keys, sessions
from app.access.network import client_ip
from app.access.roles import Permission, allows
from app.errors import Forbidden, Unauthorized, wants_json
from app.models import ApiKey, StaffSession, StaffUser
from app.vocabulary import StaffRole

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

ACCESS_ATTRIBUTE = "sounding_access"
PUBLIC = "public"
SIGN_IN_ENDPOINT = "staff.sign_in"


@dataclass
class Principal:
    """Who is asking: a staff member through a browser session or an API key. This is
    Flask-Login's user object."""

    staff: StaffUser | None
    role: StaffRole
    via: str
    api_key: ApiKey | None = None
    session: StaffSession | None = None
    token: str | None = field(default=None, repr=False)

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str | None:
        return self.token

    @property
    def name(self) -> str:
        if self.staff is not None:
            return self.staff.name
        return self.api_key.name if self.api_key is not None else "?"

    @property
    def email(self) -> str:
        return self.staff.email if self.staff is not None else "api-key"

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission)


def requires(permission: Permission) -> Callable[[F], F]:
    """Declare what a route needs. Put it right under the route decorator."""

    def mark(view: F) -> F:
        setattr(view, ACCESS_ATTRIBUTE, permission)
        return view

    return mark


def public(view: F) -> F:
    """Declare a route open to anyone (survey pages, widget, webhooks, sign-in)."""
    setattr(view, ACCESS_ATTRIBUTE, PUBLIC)
    return view


def declared(app: Flask, endpoint: str) -> Permission | str | None:
    """The declaration of an endpoint (``public``, a Permission) or None if it has none."""
    if endpoint == "static" or endpoint.endswith(".static"):
        return PUBLIC
    view = app.view_functions.get(endpoint)
    return getattr(view, ACCESS_ATTRIBUTE, None)


def current_principal() -> Principal | None:
    principal: Principal | None = g.get("principal")
    return principal


def current_staff() -> StaffUser | None:
    principal = current_principal()
    return principal.staff if principal is not None else None


def current_role() -> StaffRole | None:
    principal = current_principal()
    return principal.role if principal is not None else None


def _from_api_key() -> Principal | None:
    header = request.headers.get("Authorization", "")
    scheme, _, plain = header.partition(" ")
    if scheme.lower() != "bearer" or not plain.strip():
        raise Unauthorized("Send your API key in the header 'Authorization: Bearer <key>'.")
    api_key = keys.find_usable_key(plain.strip(), clock.now())
    if api_key is None:
        raise Unauthorized("That API key is not valid (unknown, revoked or its owner left).")
    g.api_key = api_key
    return Principal(api_key.staff_user, keys.key_role(api_key), "api_key", api_key=api_key)


def _load_session(token: str) -> Principal | None:
    row = sessions.live_session(token, clock.now())
    if row is None:
        return None
    return Principal(row.staff_user, row.staff_user.role, "session", session=row, token=token)


def _session_principal() -> Principal | None:
    from flask_login import current_user

    user = current_user._get_current_object()
    return user if isinstance(user, Principal) else None


def _refuse_anonymous() -> WerkzeugResponse:
    return redirect(url_for(SIGN_IN_ENDPOINT, next=request.full_path.rstrip("?")))


def _check() -> WerkzeugResponse | None:
    endpoint = request.endpoint
    if endpoint is None:  # no route: routing answers 404/405
        return None
    rule = declared(current_app, endpoint)
    if rule is None:
        log.error("route %s declares no permission: refused", endpoint)
        raise Forbidden("This route declares no permission, so it is closed.")
    is_api = request.path.startswith("/api/")
    if rule == PUBLIC:
        if not is_api:  # pages show who is signed in, public ones too
            g.principal = _session_principal()
        return None
    principal = _from_api_key() if is_api else _session_principal()
    if principal is None:
        return _refuse_anonymous()
    g.principal = principal
    if not principal.can(Permission(rule)):
        raise Forbidden(
            "Your role does not allow this."
            if wants_json()
            else "Your role does not allow this page. Ask an admin if you need it."
        )
    return None


def demand(permission: Permission, message: str = "Your role does not allow this.") -> None:
    """Refuse (403) unless the caller also holds ``permission``: for a variant of a route that
    needs more than the route's declaration (e.g. ``?format=csv`` exports personal data)."""
    principal = current_principal()
    if principal is None or not principal.can(permission):
        raise Forbidden(message)


def sign_in(staff: StaffUser, method: str) -> None:
    """Start a fresh session for ``staff`` (a new session id: the old cookie is dropped)."""
    session.clear()
    token = sessions.start_session(
        staff,
        method,
        clock.now(),
        ip=client_ip(),
        user_agent=request.headers.get("User-Agent"),
    )
    principal = Principal(staff, staff.role, "session", token=token)
    login_user(principal)
    g.principal = principal


def sign_out() -> None:
    principal = current_principal()
    if principal is not None and principal.session is not None:
        sessions.end(principal.session, "signed_out", clock.now())
    logout_user()
    session.clear()


def init_app(app: Flask) -> None:
    manager = LoginManager()
    manager.session_protection = None  # the server-side row is the session
    manager.user_loader(_load_session)
    manager.init_app(app)
    app.before_request(_check)

    @app.context_processor
    def _principal() -> dict[str, Any]:
        return {"principal": current_principal(), "Permission": Permission}
