"""``sounding staff create|list|deactivate``: staff accounts from the server's shell."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app import clock
from app.access.roles import ROLE_LABELS
from app.audit.services import CLI
from app.db import db
from app.errors import AppError
from app.models import StaffUser
from app.vocabulary import StaffRole

ROLES = [r.value for r in StaffRole]


@click.group("staff")
def staff_group() -> None:
    """Staff accounts: create (with a one-time set-password link), list, deactivate."""


@staff_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@with_appcontext
def create_command(email: str, name: str, role: str) -> None:
    """Create a staff member and print a one-time link to set their password (72 hours)."""
    from app.staff.mail import link_for
    from app.staff.services import create_staff, issue_token

    now = clock.now()
    try:
        staff = create_staff(email, name, StaffRole(role), now, actor=CLI)
    except AppError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{exc.field or 'email'}") from exc
    token = issue_token(staff, "invite", now)
    db.session.commit()
    click.echo(f"Created {staff.name} <{staff.email}> ({ROLE_LABELS[staff.role]}).")
    click.echo("Send them this link to set their password (it works once, for 72 hours):")
    click.echo(link_for("invite", token))


@staff_group.command("list")
@with_appcontext
def list_command() -> None:
    """Every staff member: email, role, status, name."""
    members = db.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    if not members:
        click.echo("No staff yet: `sounding staff create --email E --name N --role admin`.")
    for m in members:
        status = "deactivated" if not m.is_active else ("active" if m.password_hash else "invited")
        click.echo(f"{m.email}\t{m.role.value}\t{status}\t{m.name}")


@staff_group.command("deactivate")
@click.argument("email")
@with_appcontext
def deactivate_command(email: str) -> None:
    """Deactivate a staff member: their sessions end and their API keys are revoked."""
    from app.staff.services import deactivate, find_by_email

    staff = find_by_email(email)
    if staff is None:
        raise click.BadParameter(f"no staff member with email {email}", param_hint="EMAIL")
    done = deactivate(staff, clock.now(), actor=CLI)
    db.session.commit()
    click.echo(
        f"Deactivated {staff.email}: {done.sessions_ended} session(s) ended, "
        f"{done.keys_revoked} API key(s) revoked."
    )
