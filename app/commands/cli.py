"""The ``sounding`` command: a Flask CLI group with Sounding's own commands.

``sounding dev``, ``sounding demo``, ``sounding create-api-key``, ``sounding outbox`` and
``sounding sweep`` are here; ``sounding explain`` (:mod:`app.commands.explain`),
``sounding staff`` (:mod:`app.commands.staff`), ``sounding widget-key``
(:mod:`app.commands.widget_keys`), ``sounding sms-reply`` (:mod:`app.commands.sms_reply`,
development only) and (from Flask-Migrate) ``sounding db upgrade``.
"""

from __future__ import annotations

import sys
from datetime import datetime
from importlib.metadata import version

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import func, or_, select

from app import clock
from app.config import quiet_development_key
from app.db import db
from app.models import Invitation, OutboxMessage, Person, StaffUser
from app.vocabulary import Channel, InvitationStatus, StaffRole

#: Asking for help runs nothing: no warning about the development key then.
_HELP = frozenset({"--help", "-h", "--version"})


def cli_group() -> FlaskGroup:
    """The ``sounding`` group: Sounding's commands and Flask's (``db``, ``routes``, ``shell``),
    without Flask's ``--app``/``--env-file`` (the app is always Sounding's) and with
    Sounding's own ``--version``."""
    from app import create_app

    group = FlaskGroup(
        create_app=lambda: create_app(), add_version_option=False, help="Sounding: NPS surveys."
    )
    group.params = [p for p in group.params if p.name not in ("app", "env_file")]
    click.version_option(
        version("sounding"), "--version", prog_name="sounding", message="%(prog)s %(version)s"
    )(group)
    return group


def main() -> None:
    args = sys.argv[1:]
    if not args or _HELP & set(args):
        quiet_development_key()
    cli_group()(prog_name="sounding")


@click.command("dev")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def dev_command(host: str, port: int) -> None:
    """Run the web app and the jobs in one process (no Redis needed)."""
    from app.commands.devserver import migrate, serve

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    migrate(app)
    serve(app, host, port, f"Sounding is running on http://{host}:{port}/  (outbox: /dev/outbox)")


@click.command("demo")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--serve/--no-serve", default=True, help="Serve after creating the data.")
@click.option("--seed", default=7, show_default=True, help="Random seed for the demo data.")
def demo_command(host: str, port: int, serve: bool, seed: int) -> None:
    """Create a realistic demo data set, print where to look, then serve like `dev`."""
    from app.commands.demo import build_demo
    from app.commands.devserver import migrate, point_links_here
    from app.commands.devserver import serve as run_server

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    migrate(app)
    point_links_here(app, host, port)  # the demo's messages link to this server
    summary = build_demo(seed=seed)
    base = f"http://{host}:{port}"
    if serve:
        run_server(app, host, port, summary.describe(base))
    else:
        click.echo(summary.describe(base))


@click.command("create-api-key")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True)
@click.option("--name", default=None, help="What the key is for (default: the role).")
@click.option(
    "--email", default=None, help="The key's owner (created if new); required but for admin."
)
@click.option("--staff-name", default=None, help="For a new staff member: their name.")
@with_appcontext
def create_api_key_command(
    role: str, name: str | None, email: str | None, staff_name: str | None
) -> None:
    """Create an API key and print it (it is shown only once)."""
    from app.access.keys import issue_key, key_view
    from app.audit.services import CLI, record
    from app.validation import normalize_email

    now = clock.now()
    staff = None
    if email:
        try:
            email = normalize_email(email)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--email") from exc
        staff = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        if staff is None:
            staff = StaffUser(
                email=email,
                name=staff_name or email.split("@")[0],
                role=StaffRole(role),
                created_at=now,
            )
            db.session.add(staff)
    elif role != StaffRole.ADMIN:
        raise click.BadParameter(
            f"a {role} key needs the staff member's --email", param_hint="--email"
        )
    api_key, plain = issue_key(name or role, StaffRole(role), staff, now)
    record("api_key.created", "api_key", api_key.id, after=key_view(api_key), actor=CLI)
    db.session.commit()
    click.echo(plain)


@click.command("outbox")
@click.option("--limit", default=10, show_default=True, type=int)
@click.option("--to", default=None, help="Only messages to this address or number.")
@with_appcontext
def outbox_command(limit: int, to: str | None) -> None:
    """Show the newest messages in the outbox, exactly as they would have been sent."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if to:
        query = query.where(OutboxMessage.recipient == to.strip().lower())
    messages = db.session.scalars(query).all()
    if not messages:
        click.echo("The outbox is empty.")
    waiting = _waiting_for_send_window(to)
    for m in messages:
        when = f"{m.created_at:%Y-%m-%d %H:%M} UTC"
        click.echo(f"#{m.id} {m.channel} {m.step} to {m.recipient}  ({when})")
        if m.sender:
            click.echo(f"  From: {m.sender}")
        if m.reply_to:
            click.echo(f"  Reply-To: {m.reply_to}")
        if m.subject:
            click.echo(f"  Subject: {m.subject}")
        click.echo("  " + m.text.replace("\n", "\n  "))
        click.echo("")
    if waiting:
        count, first = waiting
        click.echo(
            f"{count} email or SMS invitation{'s' if count != 1 else ''} wait"
            f"{'' if count != 1 else 's'} for the send window (quiet hours, in each person's "
            f"time zone; 09:00-17:00 on weekdays unless the cadence rules say otherwise): the "
            f"next goes out at {first:%Y-%m-%d %H:%M} UTC. `sounding explain` says why."
        )


def _waiting_for_send_window(to: str | None) -> tuple[int, datetime] | None:
    """How many email and SMS invitations wait for a later send time, and the first time."""
    query = select(func.count(Invitation.id), func.min(Invitation.scheduled_at)).where(
        Invitation.status == InvitationStatus.SCHEDULED,
        Invitation.channel.in_((Channel.EMAIL, Channel.SMS)),
        Invitation.scheduled_at > clock.now(),
    )
    if to:
        wanted = to.strip().lower()
        query = query.join(Person, Person.id == Invitation.person_id).where(
            or_(Person.email == wanted, Person.phone == wanted)
        )
    count, first = db.session.execute(query).one()
    return (int(count), first) if count else None


@click.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Run the periodic sweep once: expire, mark stale claims, enqueue what is due."""
    from app.jobs.sweep import sweep

    click.echo(sweep())


def init_app(app: Flask) -> None:
    from app.commands.explain import explain_command
    from app.commands.sms_reply import sms_reply_command
    from app.commands.staff import staff_group
    from app.commands.widget_keys import widget_key_group

    for command in (
        explain_command,
        dev_command,
        demo_command,
        create_api_key_command,
        outbox_command,
        sweep_command,
        staff_group,
        widget_key_group,
    ):
        app.cli.add_command(command)
    if app.config["SOUNDING_ENV"] != "production":
        app.cli.add_command(sms_reply_command)
