"""``sounding widget-key``: create, list, rotate and revoke the widget's keys, and set their
allowed origins (the same as ``/api/v1/widget/keys`` for admins)."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from app import clock
from app.db import db
from app.errors import AppError
from app.models import WidgetKey
from app.services.widget_keys import (
    create_key,
    find_key,
    list_keys,
    revoke_key,
    rotate_secret,
    set_origins,
    snippet,
)


@click.group("widget-key")
def widget_key_group() -> None:
    """The in-app widget's keys: public key, secret and allowed origins."""


def _base_url() -> str:
    return str(current_app.config["BASE_URL"])


def _find(public_key: str) -> WidgetKey:
    key = find_key(public_key.strip())
    if key is None:
        raise click.BadParameter(f"no widget key {public_key!r}", param_hint="PUBLIC_KEY")
    return key


def _print_secret(key: WidgetKey) -> None:
    click.echo(f"public key: {key.public_key}")
    click.echo(f"secret:     {key.secret}")
    click.echo("The secret is shown only now: keep it on your backend, never in a page.")


@widget_key_group.command("create")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    required=True,
    help="An origin allowed to show the widget, like https://app.example.com (repeatable).",
)
@click.option("--name", default="widget", show_default=True, help="What the key is for.")
@with_appcontext
def create_command(origins: tuple[str, ...], name: str) -> None:
    """Create a key; print the public key, the secret (once) and the embed snippet."""
    try:
        key = create_key(name, origins, clock.now())
    except AppError as exc:
        raise click.BadParameter(exc.message, param_hint="--origin") from exc
    db.session.commit()
    _print_secret(key)
    click.echo(f"allowed origins: {', '.join(key.allowed_origins)}")
    click.echo("")
    click.echo("Embed it before </body> on every page of your app:")
    click.echo("")
    click.echo(snippet(key, _base_url()))


@widget_key_group.command("list")
@with_appcontext
def list_command() -> None:
    """Every key, with its origins (secrets are not shown)."""
    keys = list_keys()
    if not keys:
        click.echo("No widget keys yet: sounding widget-key create --origin https://...")
    for key in keys:
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        click.echo(f"{key.public_key}  {key.name}  ({state})  {', '.join(key.allowed_origins)}")


@widget_key_group.command("rotate")
@click.argument("public_key")
@click.option(
    "--grace-hours",
    default=24,
    show_default=True,
    type=click.IntRange(0, 720),
    help="How long the old secret keeps working.",
)
@with_appcontext
def rotate_command(public_key: str, grace_hours: int) -> None:
    """A new secret for the key (the public key and the snippet stay the same)."""
    key = _find(public_key)
    try:
        rotate_secret(key, clock.now(), timedelta(hours=grace_hours))
    except AppError as exc:
        raise click.BadParameter(exc.message, param_hint="PUBLIC_KEY") from exc
    db.session.commit()
    _print_secret(key)
    if key.previous_secret_until:
        click.echo(f"The old secret works until {key.previous_secret_until:%Y-%m-%d %H:%M} UTC.")


@widget_key_group.command("origins")
@click.argument("public_key")
@click.option("--origin", "origins", multiple=True, required=True, help="Repeatable.")
@with_appcontext
def origins_command(public_key: str, origins: tuple[str, ...]) -> None:
    """Replace the key's allowed origins."""
    key = _find(public_key)
    try:
        set_origins(key, origins)
    except AppError as exc:
        raise click.BadParameter(exc.message, param_hint="--origin") from exc
    db.session.commit()
    click.echo(f"allowed origins: {', '.join(key.allowed_origins)}")


@widget_key_group.command("revoke")
@click.argument("public_key")
@with_appcontext
def revoke_command(public_key: str) -> None:
    """Stop the key: the widget shows nothing on pages that use it."""
    key = _find(public_key)
    revoke_key(key, clock.now())
    db.session.commit()
    click.echo(f"revoked {key.public_key}")
