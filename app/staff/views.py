"""Signing in and out: password, magic link, password reset, invitation links.

Every answer to a sign-in attempt that fails says the same thing, whether the email is
unknown, the password wrong or the account deactivated, and costs the same argon2 check.
Attempts are limited per email and per client IP.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from app import clock
from app.access import Permission, current_principal, guard, public, requires
from app.access.network import client_ip
from app.audit.services import Actor, record
from app.db import db
from app.staff import services
from app.staff.blueprint import bp
from app.staff.forms import EmailForm, NewPasswordForm, SignInForm
from app.staff.mail import queue_staff_email
from app.staff.throttle import over_limit

BAD_SIGN_IN = "That email and password do not match an active staff account."
LINK_SENT = (
    "If that email belongs to an active staff account, a link is on its way. "
    "It works once, for {minutes} minutes."
)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site under /dashboard, else the overview."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/dashboard"):
            return target
    return url_for("dashboard.overview")


def _anonymous(email: str) -> Actor:
    return Actor(email[:320] or "anonymous", "anonymous")


def _sso_enabled() -> bool:
    return bool(current_app.config.get("OIDC_ISSUER"))


def _sign_in_page(form: SignInForm, *, error: str | None = None, status: int = 200) -> Any:
    return (
        render_template(
            "staff/sign_in.html",
            form=form,
            link_form=EmailForm(formdata=None),
            error=error,
            sso=_sso_enabled(),
            sso_name=current_app.config.get("OIDC_PROVIDER_NAME"),
            next=request.args.get("next", ""),
        ),
        status,
    )


def start_signed_in(staff: Any, method: str, target: str) -> WerkzeugResponse:
    """Start the session (a fresh session id), record the sign-in, go to ``target``."""
    guard.sign_in(staff, method)
    record("staff.signed_in", "staff", staff.id, after={"method": method})
    db.session.commit()
    return redirect(target)


def _signed_in(staff: Any, method: str) -> WerkzeugResponse:
    return start_signed_in(staff, method, safe_next(request.args.get("next")))


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> Any:
    form = SignInForm()
    if request.method == "GET":
        if current_principal() is not None:
            return redirect(safe_next(request.args.get("next")))
        return _sign_in_page(form)
    if not form.validate():
        return _sign_in_page(form, status=400)
    email = form.email.data or ""
    wait = over_limit(email, client_ip())
    if wait is not None:
        record("staff.sign_in_throttled", after={"email": email}, actor=_anonymous(email))
        db.session.commit()
        page, _ = _sign_in_page(
            form, error=f"Too many attempts. Please wait {wait} seconds and try again."
        )
        return page, 429, {"Retry-After": str(wait)}
    staff = services.check_password(email, form.password.data or "")
    if staff is None:
        record(
            "staff.sign_in_failed", after={"email": email}, actor=Actor(email[:320], "anonymous")
        )
        db.session.commit()
        return _sign_in_page(form, error=BAD_SIGN_IN, status=401)
    return _signed_in(staff, "password")


@bp.post("/sign-out")
@requires(Permission.SIGNED_IN)
def sign_out() -> Any:
    record("staff.signed_out")
    guard.sign_out()
    db.session.commit()
    return redirect(url_for(".sign_in"))


def _link_requested(purpose: str, template: str) -> Any:
    form = EmailForm()
    if not form.validate():
        return render_template(template, form=form), 400
    email = form.email.data or ""
    wait = over_limit(email, client_ip())
    if wait is None:
        staff = services.find_by_email(email)
        if staff is not None and staff.is_active:
            queue_staff_email(staff, purpose)
            record(f"staff.{purpose}_link_requested", "staff", staff.id)
            db.session.commit()
    minutes = int(services.TOKEN_LIFETIMES[purpose].total_seconds() // 60)
    return render_template(template, form=form, sent=LINK_SENT.format(minutes=minutes))


@bp.route("/sign-in/link", methods=["GET", "POST"])
@public
def request_link() -> Any:
    if request.method == "GET":
        return render_template("staff/request_link.html", form=EmailForm())
    return _link_requested("sign_in", "staff/request_link.html")


@bp.route("/sign-in/link/<token>", methods=["GET", "POST"])
@public
def use_link(token: str) -> Any:
    """GET shows a button (so a mail scanner opening the link does not use it); POST signs in."""
    now = clock.now()
    if request.method == "GET":
        live = services.peek_token(token, "sign_in", now) is not None
        return render_template("staff/use_link.html", live=live), 200 if live else 410
    staff = services.use_token(token, "sign_in", now)
    if staff is None:
        return render_template("staff/use_link.html", live=False), 410
    return _signed_in(staff, "link")


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
def forgot_password() -> Any:
    if request.method == "GET":
        return render_template("staff/forgot.html", form=EmailForm())
    return _link_requested("reset", "staff/forgot.html")


def _set_password_page(token: str, purpose: str) -> Any:
    now = clock.now()
    row = services.peek_token(token, purpose, now)
    form = NewPasswordForm()
    if row is None:
        return render_template("staff/set_password.html", live=False, purpose=purpose), 410
    if request.method == "GET" or not form.validate():
        status = 400 if request.method == "POST" else 200
        return render_template(
            "staff/set_password.html", live=True, form=form, staff=row.staff_user, purpose=purpose
        ), status
    staff = services.use_token(token, purpose, now)
    if staff is None:
        return render_template("staff/set_password.html", live=False, purpose=purpose), 410
    services.set_password(
        staff, form.password.data or "", now, actor=Actor(staff.email, "link", staff)
    )
    return _signed_in(staff, "invitation" if purpose == "invite" else "reset")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> Any:
    return _set_password_page(token, "reset")


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str) -> Any:
    return _set_password_page(token, "invite")
