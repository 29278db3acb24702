"""People in the workspace: search and list, a page at a time; a person's page with every
ask, message, answer and refusal (with its reason), "may we ask now?" (the same explain the
CLI and the API use), and manual suppressions added and removed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from wtforms import SelectField, StringField

from app import clock
from app.access import Permission, requires, scope
from app.audit.services import record
from app.db import db
from app.errors import AppError
from app.models import Invitation, Person, Response, Suppression, Survey
from app.services import directory
from app.services.cadence import explain, recent_refusals
from app.services.suppressions import lift, suppress
from app.vocabulary import Channel, SuppressionKind, SuppressionReason
from app.workspace.access import search_text
from app.workspace.forms import blank_to_none, show_error

bp = Blueprint(
    "workspace_people", __name__, url_prefix="/dashboard/people", template_folder="templates"
)


class SuppressionForm(FlaskForm):
    kind = SelectField("Address", choices={"email": "Email", "phone": "Phone"})
    detail = StringField("Why (shown with the suppression)", filters=[blank_to_none])


class ExplainForm(FlaskForm):
    class Meta:
        csrf = False

    survey = SelectField("Survey", coerce=str)
    channel = SelectField("Channel", choices={c.value: c.value for c in Channel})


def get_person(person_id: int) -> Person:
    """The person, if within the signed-in staff member's reach (else a 404)."""
    return scope.person_or_404(person_id)


@bp.get("")
@requires(Permission.READ)
def index() -> Any:
    search = search_text()
    result = directory.people(
        search, request.args.get("after", type=int), reach=scope.people_clause()
    )
    return render_template("workspace/people/index.html", page=result, q=search or "")


def _addresses(person: Person) -> list[tuple[SuppressionKind, str]]:
    pairs = [(SuppressionKind.EMAIL, person.email), (SuppressionKind.PHONE, person.phone)]
    return [(kind, value) for kind, value in pairs if value]


def _person_page(person: Person, form: SuppressionForm, status: int = 200) -> Any:
    invitations = list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.person_id == person.id)
            .options(selectinload(Invitation.messages), selectinload(Invitation.survey))
            .order_by(Invitation.created_at.desc(), Invitation.id.desc())
            .limit(50)
        )
    )
    responses = list(
        db.session.scalars(
            select(Response)
            .where(Response.person_id == person.id)
            .options(joinedload(Response.survey))
            .order_by(Response.answered_at.desc())
            .limit(50)
        )
    )
    addresses = _addresses(person)
    suppressions = [
        s
        for kind, value in addresses
        for s in db.session.scalars(
            select(Suppression).where(Suppression.kind == kind, Suppression.value == value)
        )
    ]
    surveys = list(db.session.scalars(select(Survey).order_by(Survey.id)))
    ask = ExplainForm(request.args)
    ask.survey.choices = {"": "Any survey", **{str(s.id): s.name for s in surveys}}
    if not ask.validate():
        ask = ExplainForm(formdata=None, survey="", channel="email")
        ask.survey.choices = {"": "Any survey", **{str(s.id): s.name for s in surveys}}
    chosen = next((s for s in surveys if str(s.id) == ask.survey.data), None)
    verdict = explain(person, chosen, Channel(ask.channel.data), clock.now())
    return (
        render_template(
            "workspace/people/person.html",
            person=person,
            invitations=invitations,
            responses=responses,
            refusals=recent_refusals(person.id, limit=50),
            suppressions=suppressions,
            addresses=addresses,
            form=form,
            ask=ask,
            verdict=verdict,
        ),
        status,
    )


@bp.get("/<int:person_id>")
@requires(Permission.READ)
def person(person_id: int) -> Any:
    return _person_page(get_person(person_id), SuppressionForm(formdata=None))


@bp.post("/<int:person_id>/suppressions")
@requires(Permission.EDIT_PEOPLE)
def add_suppression(person_id: int) -> Any:
    person = get_person(person_id)
    form = SuppressionForm()
    addresses = dict(_addresses(person))
    if form.validate_on_submit():
        kind = SuppressionKind(form.kind.data)
        value = addresses.get(kind)
        if value is None:
            show_error(form, "kind", f"This person has no {kind.value} address to suppress.")
        else:
            ended = suppress(kind, value, SuppressionReason.MANUAL, clock.now(), form.detail.data)
            record(
                "suppression.added",
                "person",
                person.id,
                after={"kind": kind, "value": value, "detail": form.detail.data, "ended": ended},
            )
            db.session.commit()
            flash(
                f"{value} is suppressed: nothing more will be sent to it"
                + (
                    f" ({ended} open invitation{'s' if ended != 1 else ''} ended)."
                    if ended
                    else "."
                )
            )
            return redirect(url_for(".person", person_id=person.id))
    return _person_page(person, form, 400)


@bp.post("/<int:person_id>/suppressions/<int:suppression_id>/remove")
@requires(Permission.EDIT_PEOPLE)
def remove_suppression(person_id: int, suppression_id: int) -> Any:
    person = get_person(person_id)
    form = FlaskForm()
    suppression = db.session.get(Suppression, suppression_id)
    mine = dict(_addresses(person))
    if suppression is None or mine.get(suppression.kind) != suppression.value:
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    if suppression.reason != SuppressionReason.MANUAL:
        raise AppError(
            f"{suppression.value} is suppressed because of {suppression.reason.value}, not by "
            "staff: only a manual suppression can be removed here.",
            code="not_manual",
        )
    before = {"kind": suppression.kind, "value": suppression.value, "detail": suppression.detail}
    lift(suppression.kind, suppression.value)
    record("suppression.removed", "person", person.id, before=before)
    db.session.commit()
    flash(f"{suppression.value} may be contacted again.")
    return redirect(url_for(".person", person_id=person.id))
