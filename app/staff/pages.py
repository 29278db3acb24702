"""Staff pages: your account (password, sessions), the staff list (invite, role,
deactivate), a staff member's page with their API keys, the API-key page.

Forms that fail show their errors inline and change nothing; a new key is shown once, on the
answer to the form that made it.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app import clock
from app.access import Permission, current_principal, requires
from app.access import keys as api_keys
from app.access.passwords import verify_password
from app.access.roles import ROLE_LABELS
from app.access.sessions import live_sessions
from app.db import db
from app.errors import AppError, NotFound
from app.models import ApiKey, StaffUser
from app.staff import services
from app.staff.blueprint import bp
from app.staff.forms import ChangePasswordForm, InviteForm, KeyForm, RoleForm
from app.staff.mail import queue_staff_email
from app.vocabulary import StaffRole


def _me() -> StaffUser:
    principal = current_principal()
    assert principal is not None and principal.staff is not None
    return principal.staff


def _member_or_404(staff_id: int) -> StaffUser:
    staff = db.session.get(StaffUser, staff_id)
    if staff is None:
        raise NotFound(f"No staff member with id {staff_id}.")
    return staff


# --- your account ----------------------------------------------------------------------------


def _account_page(form: ChangePasswordForm | None = None, status: int = 200) -> Any:
    me = _me()
    principal = current_principal()
    return render_template(
        "staff/account.html",
        me=me,
        role_label=ROLE_LABELS[me.role],
        form=form or ChangePasswordForm(formdata=None),
        sessions=live_sessions(me),
        current_session=principal.session.id if principal and principal.session else None,
    ), status


@bp.get("/account")
@requires(Permission.SIGNED_IN)
def account() -> Any:
    return _account_page()


@bp.post("/account/password")
@requires(Permission.SIGNED_IN)
def change_password() -> Any:
    form = ChangePasswordForm()
    me = _me()
    if not form.validate():
        return _account_page(form, 400)
    if not verify_password(me.password_hash, form.current.data or ""):
        form.current.errors = ["That is not your current password."]
        return _account_page(form, 400)
    principal = current_principal()
    keep = principal.session.id if principal and principal.session else None
    services.set_password(me, form.password.data or "", clock.now(), keep_session=keep)
    db.session.commit()
    flash("Your password is changed. Your other sessions are signed out.")
    return redirect(url_for(".account"))


@bp.post("/account/sign-out-everywhere")
@requires(Permission.SIGNED_IN)
def sign_out_everywhere() -> Any:
    services.sign_out_everywhere(_me(), clock.now())
    db.session.commit()
    flash("You are signed out everywhere, here too.")
    return redirect(url_for(".sign_in"))


# --- the staff list ----------------------------------------------------------------------------


def _staff_page(invite: InviteForm | None = None, status: int = 200) -> Any:
    members = db.session.scalars(
        select(StaffUser).order_by(StaffUser.deactivated_at.is_not(None), StaffUser.name)
    ).all()
    return render_template(
        "staff/staff_list.html",
        members=members,
        invite=invite or InviteForm(formdata=None, role=StaffRole.CSM.value),
        role_labels=ROLE_LABELS,
    ), status


@bp.get("/staff")
@requires(Permission.MANAGE)
def staff_list() -> Any:
    return _staff_page()


@bp.post("/staff/invite")
@requires(Permission.MANAGE)
def invite() -> Any:
    form = InviteForm()
    if not form.validate():
        return _staff_page(form, 400)
    role = StaffRole(form.role.data)
    try:
        staff = services.create_staff(
            form.email.data or "", form.name.data or "", role, clock.now()
        )
    except AppError as exc:
        getattr(form, exc.field or "email").errors = [exc.message]
        db.session.rollback()
        return _staff_page(form, 400 if exc.status != 409 else 409)
    queue_staff_email(staff, "invite", {"invited_by": _me().name, "role_label": ROLE_LABELS[role]})
    db.session.commit()
    flash(f"Invitation sent to {staff.email}. The link works once, for 72 hours.")
    return redirect(url_for(".staff_member", staff_id=staff.id))


# --- one staff member --------------------------------------------------------------------------


def _member_page(
    staff: StaffUser,
    *,
    role_form: RoleForm | None = None,
    key_form: KeyForm | None = None,
    new_key: str | None = None,
    status: int = 200,
) -> Any:
    keys = db.session.scalars(
        select(ApiKey).where(ApiKey.staff_user_id == staff.id).order_by(ApiKey.id.desc())
    ).all()
    return render_template(
        "staff/member.html",
        staff=staff,
        role_label=ROLE_LABELS[staff.role],
        role_form=role_form or RoleForm(formdata=None, role=staff.role.value),
        key_form=key_form or KeyForm(formdata=None),
        keys=keys,
        new_key=new_key,
        sessions=live_sessions(staff),
        is_me=staff.id == _me().id,
        key_role=api_keys.key_role,
    ), status


@bp.get("/staff/<int:staff_id>")
@requires(Permission.MANAGE)
def staff_member(staff_id: int) -> Any:
    return _member_page(_member_or_404(staff_id))


@bp.post("/staff/<int:staff_id>/role")
@requires(Permission.MANAGE)
def change_role(staff_id: int) -> Any:
    staff = _member_or_404(staff_id)
    form = RoleForm()
    if not form.validate():
        return _member_page(staff, role_form=form, status=400)
    role = StaffRole(form.role.data)
    if staff.id == _me().id and role != StaffRole.ADMIN:
        form.role.errors = ["You cannot take away your own admin role; ask another admin."]
        return _member_page(staff, role_form=form, status=400)
    services.change_role(staff, role)
    db.session.commit()
    flash(f"{staff.name} is now: {ROLE_LABELS[role]}.")
    return redirect(url_for(".staff_member", staff_id=staff.id))


@bp.post("/staff/<int:staff_id>/deactivate")
@requires(Permission.MANAGE)
def deactivate(staff_id: int) -> Any:
    staff = _member_or_404(staff_id)
    if staff.id == _me().id:
        flash("You cannot deactivate yourself; ask another admin.")
        return _member_page(staff, status=400)
    done = services.deactivate(staff, clock.now())
    db.session.commit()
    flash(
        f"{staff.name} is deactivated: {done.sessions_ended} session(s) ended, "
        f"{done.keys_revoked} API key(s) revoked."
    )
    return redirect(url_for(".staff_member", staff_id=staff.id))


@bp.post("/staff/<int:staff_id>/keys")
@requires(Permission.MANAGE)
def create_member_key(staff_id: int) -> Any:
    staff = _member_or_404(staff_id)
    form = KeyForm()
    if not form.validate():
        return _member_page(staff, key_form=form, status=400)
    try:
        _, plain = api_keys.create_key(staff, form.name.data or "", clock.now())
    except AppError as exc:
        form.name.errors = [exc.message]
        db.session.rollback()
        return _member_page(staff, key_form=form, status=400)
    db.session.commit()
    return _member_page(staff, new_key=plain, status=201)


# --- API keys ------------------------------------------------------------------------------------


def _keys_page(form: KeyForm | None = None, new_key: str | None = None, status: int = 200) -> Any:
    principal = current_principal()
    assert principal is not None
    everyone = principal.can(Permission.MANAGE)
    keys = db.session.scalars(
        api_keys.keys_query(principal.staff, everyone=everyone).order_by(ApiKey.id.desc())
    ).all()
    return render_template(
        "staff/api_keys.html",
        keys=keys,
        everyone=everyone,
        form=form or KeyForm(formdata=None),
        new_key=new_key,
        key_role=api_keys.key_role,
    ), status


@bp.get("/api-keys")
@requires(Permission.OWN_KEYS)
def api_keys_page() -> Any:
    return _keys_page()


@bp.post("/api-keys")
@requires(Permission.OWN_KEYS)
def create_own_key() -> Any:
    form = KeyForm()
    if not form.validate():
        return _keys_page(form, status=400)
    try:
        _, plain = api_keys.create_key(_me(), form.name.data or "", clock.now())
    except AppError as exc:
        form.name.errors = [exc.message]
        db.session.rollback()
        return _keys_page(form, status=400)
    db.session.commit()
    return _keys_page(new_key=plain, status=201)


@bp.post("/api-keys/<int:key_id>/revoke")
@requires(Permission.OWN_KEYS)
def revoke_key(key_id: int) -> Any:
    principal = current_principal()
    assert principal is not None
    api_key = api_keys.key_or_404(
        key_id, principal.staff, everyone=principal.can(Permission.MANAGE)
    )
    api_keys.revoke_key(api_key, clock.now())
    db.session.commit()
    flash(f"The key “{api_key.name}” is revoked: it is refused from now on.")
    back = request.form.get("back", "")
    return redirect(back if back.startswith("/dashboard/") else url_for(".api_keys_page"))
