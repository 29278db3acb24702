"""Widget keys in the workspace: create (the secret shown once), allowed origins, rotate the
secret (the old one keeps working for a grace period), revoke, and the snippet to paste. All
through :mod:`app.services.widget_keys`, as the API and the CLI."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired

from app import clock
from app.access import Permission, requires
from app.errors import AppError
from app.models import WidgetKey
from app.services import widget_keys
from app.workspace.forms import blank_to_none, save

bp = Blueprint(
    "workspace_widget_keys",
    __name__,
    url_prefix="/dashboard/widget-keys",
    template_folder="templates",
)


class KeyForm(FlaskForm):
    name = StringField("Name", filters=[blank_to_none], description="E.g. the product's name.")
    allowed_origins = TextAreaField(
        "Allowed origins",
        description=(
            "One per line, e.g. https://app.example.com. Only these pages may show the widget."
        ),
    )


class OriginsForm(FlaskForm):
    allowed_origins = TextAreaField("Allowed origins", description="One per line.")


class RotateForm(FlaskForm):
    grace_hours = IntegerField(
        "Old secret keeps working for (hours)", [InputRequired()], default=24
    )


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _page(
    create: KeyForm | None = None,
    *,
    shown: WidgetKey | None = None,
    forms: dict[int, tuple[OriginsForm, RotateForm]] | None = None,
    status: int = 200,
) -> Any:
    keys = widget_keys.list_keys()
    forms = forms or {}
    per_key = {
        k.id: forms.get(k.id)
        or (
            OriginsForm(
                formdata=None, prefix=f"k{k.id}", allowed_origins="\n".join(k.allowed_origins or [])
            ),
            RotateForm(formdata=None, prefix=f"r{k.id}"),
        )
        for k in keys
    }
    base = current_app.config["BASE_URL"]
    return (
        render_template(
            "workspace/widget_keys/index.html",
            keys=keys,
            create=create or KeyForm(formdata=None),
            per_key=per_key,
            shown=shown,
            snippets={k.id: widget_keys.snippet(k, base) for k in keys},
        ),
        status,
    )


@bp.get("")
@requires(Permission.MANAGE)
def index() -> Any:
    return _page()


@bp.post("")
@requires(Permission.MANAGE)
def create() -> Any:
    form = KeyForm()
    if form.validate_on_submit():
        key = save(
            form,
            lambda: widget_keys.create_key(
                form.name.data, _lines(form.allowed_origins.data), clock.now()
            ),
        )
        if key is not None:
            return _page(shown=key)
    return _page(form, status=400)


@bp.post("/<int:key_id>/origins")
@requires(Permission.MANAGE)
def origins(key_id: int) -> Any:
    key = widget_keys.get_key(key_id)
    form = OriginsForm(prefix=f"k{key_id}")
    if form.validate_on_submit() and save(
        form, lambda: widget_keys.set_origins(key, _lines(form.allowed_origins.data))
    ):
        flash(f"Allowed origins of “{key.name}” saved.")
        return redirect(url_for(".index"))
    return _page(forms={key_id: (form, RotateForm(formdata=None, prefix=f"r{key_id}"))}, status=400)


@bp.post("/<int:key_id>/rotate")
@requires(Permission.MANAGE)
def rotate(key_id: int) -> Any:
    key = widget_keys.get_key(key_id)
    form = RotateForm(prefix=f"r{key_id}")
    if form.validate_on_submit():
        hours = form.grace_hours.data or 0
        if hours < 0 or hours > 720:
            form.grace_hours.errors = ["From 0 to 720 hours."]
        elif save(
            form, lambda: widget_keys.rotate_secret(key, clock.now(), timedelta(hours=hours))
        ):
            return _page(shown=key)
    origins_form = OriginsForm(
        formdata=None, prefix=f"k{key_id}", allowed_origins="\n".join(key.allowed_origins or [])
    )
    return _page(forms={key_id: (origins_form, form)}, status=400)


@bp.post("/<int:key_id>/revoke")
@requires(Permission.MANAGE)
def revoke(key_id: int) -> Any:
    key = widget_keys.get_key(key_id)
    form = FlaskForm()
    if not form.validate_on_submit():
        raise AppError("The form could not be checked; reload the page.")
    widget_keys.revoke_key(key, clock.now())
    save(form, lambda: key)
    flash(f"“{key.name}” is revoked: the widget no longer shows with it.")
    return redirect(url_for(".index"))
