"""Single sign-on with OpenID Connect (Authlib's Flask client), configured by environment:

- ``OIDC_ISSUER`` (discovery at ``<issuer>/.well-known/openid-configuration``),
  ``OIDC_CLIENT_ID``, ``OIDC_CLIENT_SECRET``;
- ``OIDC_ALLOWED_DOMAINS``: comma-separated email domains that may sign in (required);
- ``OIDC_ROLE_CLAIM``: the ID-token claim holding the role (``admin``, ``csm`` or
  ``analyst``; a list is searched in that order), ``OIDC_DEFAULT_ROLE`` when it has none
  (default ``analyst``);
- ``OIDC_PROVIDER_NAME``: the button's words ("Sign in with ...").

Authlib checks the ID token: signature against the provider's JWKS, issuer, audience (our
client id), expiry, and the nonce and state kept in the session for this sign-in only (a
replayed token or callback is refused). We then require an email in an allowed domain (and
not ``email_verified: false``). A first sign-in provisions the staff member; later ones
follow the role claim when it is present. A deactivated staff member is refused.
"""

from __future__ import annotations

import logging
from typing import Any

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, redirect, render_template, request, session, url_for
from joserfc.errors import JoseError

from app import clock
from app.access import public
from app.audit.services import Actor, record
from app.db import db
from app.staff import services
from app.staff.blueprint import bp
from app.validation import normalize_email
from app.vocabulary import StaffRole

log = logging.getLogger(__name__)

_EXTENSION = "sounding.oidc"
_NEXT = "sounding_sso_next"


class Refused(Exception):
    """The provider's answer does not let this person in; the message says why."""


def allowed_domains(config: Any) -> set[str]:
    return {
        d.strip().lower()
        for d in (config.get("OIDC_ALLOWED_DOMAINS") or "").split(",")
        if d.strip()
    }


def role_from_claims(claims: dict[str, Any], claim: str | None, default: str) -> StaffRole:
    """The role the claim names (a string, or a list searched admin, csm, analyst)."""
    value = claims.get(claim) if claim else None
    values = value if isinstance(value, list) else [value]
    for role in (StaffRole.ADMIN, StaffRole.CSM, StaffRole.ANALYST):
        if role.value in values:
            return role
    return StaffRole(default)


def check_claims(claims: dict[str, Any], config: Any) -> tuple[str, str, StaffRole]:
    """Email, name and role from verified ID-token claims, or :class:`Refused`."""
    raw = claims.get("email")
    if not isinstance(raw, str) or not raw:
        raise Refused("Your single sign-on account has no email address.")
    if claims.get("email_verified") is False:
        raise Refused("Your single sign-on email address is not verified.")
    try:
        email = normalize_email(raw)
    except ValueError as exc:
        raise Refused("Your single sign-on email address is not valid.") from exc
    domain = email.rsplit("@", 1)[1]
    if domain not in allowed_domains(config):
        raise Refused(f"Accounts at {domain} may not sign in here.")
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    role = role_from_claims(claims, config.get("OIDC_ROLE_CLAIM"), config["OIDC_DEFAULT_ROLE"])
    return email, (name or email.split("@")[0]), role


def init_app(app: Flask) -> None:
    if not app.config.get("OIDC_ISSUER"):
        return
    oauth = OAuth(app)
    issuer = app.config["OIDC_ISSUER"].rstrip("/")
    oauth.register(
        "oidc",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile"},
    )
    app.extensions[_EXTENSION] = oauth


def _client() -> Any:
    oauth = current_app.extensions.get(_EXTENSION)
    return oauth.oidc if oauth is not None else None


def _refused(message: str, email: str | None = None) -> Any:
    record(
        "staff.sign_in_failed",
        after={"method": "sso", "email": email, "reason": message},
        actor=Actor(email or "anonymous", "anonymous"),
    )
    db.session.commit()
    return render_template("staff/sso_refused.html", message=message), 403


@bp.get("/sign-in/sso")
@public
def sso_start() -> Any:
    client = _client()
    if client is None:
        return redirect(url_for(".sign_in"))
    session[_NEXT] = request.args.get("next", "")
    return client.authorize_redirect(current_app.config["BASE_URL"] + url_for(".sso_callback"))


@bp.get("/sign-in/sso/callback")
@public
def sso_callback() -> Any:
    from app.staff.views import safe_next, start_signed_in

    client = _client()
    if client is None:
        return redirect(url_for(".sign_in"))
    if request.args.get("error"):
        return _refused("The sign-in was cancelled or refused by your provider.")
    try:
        token = client.authorize_access_token()
    except (AuthlibBaseError, JoseError, ValueError, KeyError) as exc:
        log.warning("OIDC sign-in refused: %s", exc)
        return _refused("Your provider's answer could not be verified. Please try again.")
    claims = dict(token.get("userinfo") or {})
    try:
        email, name, role = check_claims(claims, current_app.config)
    except Refused as exc:
        return _refused(
            str(exc), claims.get("email") if isinstance(claims.get("email"), str) else None
        )
    staff = services.find_by_email(email)
    if staff is None:
        staff = services.create_staff(email, name, role, clock.now(), actor=Actor(email, "sso"))
    elif not staff.is_active:
        return _refused("Your Sounding account is deactivated.", email)
    elif (
        current_app.config.get("OIDC_ROLE_CLAIM")
        and current_app.config["OIDC_ROLE_CLAIM"] in claims
    ):
        services.change_role(staff, role, actor=Actor(email, "sso"))
    return start_signed_in(staff, "sso", safe_next(session.pop(_NEXT, "")))
