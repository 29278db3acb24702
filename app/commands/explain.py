"""``sounding explain``: may we ask this person now, and if not, why and when."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app import clock
from app.db import db
from app.models import Person, Survey
from app.services.cadence import explain
from app.vocabulary import Channel


def find_person(who: str) -> Person | None:
    who = who.strip()
    person = db.session.scalar(select(Person).where(Person.external_id == who))
    if person is None:
        person = db.session.scalar(select(Person).where(Person.email == who.lower()))
    return person


_BY = {"email": "by email", "sms": "by SMS", "link": "by link"}
_TRIGGER = {
    "api": "through the API",
    "csm": "by a CSM",
    "recurring": "recurring",
    "event": "event rule",
    "demo": "demo data",
}


def asked_how(refusal: dict[str, Any]) -> str:
    """What the refused ask was, in words: "survey 3 by email (campaign 7)", "survey 1 in the
    widget" (the widget asks by showing itself: no trigger to name)."""
    survey = f"survey {refusal['survey_id']}" if refusal["survey_id"] else "any survey"
    if refusal["channel"] == "widget":
        return f"{survey} in the widget"
    if refusal["trigger"] == "campaign" and refusal["campaign_id"]:
        why = f"campaign {refusal['campaign_id']}"
    else:
        why = _TRIGGER.get(refusal["trigger"], refusal["trigger"])
    return f"{survey} {_BY.get(refusal['channel'], refusal['channel'])} ({why})"


@click.command("explain")
@click.argument("who")
@click.option("--survey", "survey_id", type=int, default=None, help="A survey id (default: any).")
@click.option(
    "--channel",
    type=click.Choice([c.value for c in Channel]),
    default=Channel.EMAIL.value,
    show_default=True,
)
@with_appcontext
def explain_command(who: str, survey_id: int | None, channel: str) -> None:
    """Why a person (email or external id) may or may not be asked now, and from when."""
    person = find_person(who)
    if person is None:
        raise click.BadParameter(f"no person with email or external id {who!r}", param_hint="WHO")
    survey = None
    if survey_id is not None:
        survey = db.session.get(Survey, survey_id)
        if survey is None:
            raise click.BadParameter(f"no survey with id {survey_id}", param_hint="--survey")
    answer = explain(person, survey, Channel(channel), clock.now())
    name = person.name or person.email or person.external_id
    what = f"survey {survey.id} ({survey.name})" if survey else "any survey"
    click.echo(f"{name} (person {person.id}), {what} by {channel}, at {answer['at']}:")
    verdict = "MAY be asked" if answer["allowed"] else "may NOT be asked"
    click.echo(f"  {verdict}: {answer['reason']}")
    click.echo(f"  {answer['message']}")
    if answer["next_eligible_at"]:
        click.echo(f"  Next eligible: {answer['next_eligible_at']}")
    for note in answer["notes"]:
        click.echo(f"  Note: {note}")
    refusals = answer["recent_refusals"]
    if refusals:
        click.echo("Recent refusals:")
        for refusal in refusals:
            click.echo(
                f"  {refusal['at']}  {refusal['reason']:<18} {asked_how(refusal)}: "
                f"{refusal['message']}"
            )
    else:
        click.echo("No stored refusals.")
