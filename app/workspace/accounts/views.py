"""Accounts in the workspace: list and search, an account's page (its people, NPS, answers)
and its owner CSM, who surveys to its people come from. Each section of the account page is
its own template block, so other parts (cases, role coverage) can add theirs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import SelectField

from app.access import Permission, requires, scope
from app.audit.services import record
from app.db import db
from app.models import Account, Person, Response, StaffUser
from app.policy.nps import NpsFigures
from app.reports import GroupBy, ReportFilter, nps_report
from app.services import directory
from app.vocabulary import Category, StaffRole
from app.workspace.access import found, search_text
from app.workspace.forms import show_error

bp = Blueprint(
    "workspace_accounts", __name__, url_prefix="/dashboard/accounts", template_folder="templates"
)
NO_CSM = ""


class OwnerForm(FlaskForm):
    csm = SelectField("Owner CSM", coerce=str)


def _owner_form(account: Account, formdata: Any = None) -> OwnerForm:
    form = OwnerForm(formdata=formdata, csm=str(account.csm_id or NO_CSM))
    staff = db.session.scalars(
        select(StaffUser)
        .where(StaffUser.role.in_([StaffRole.CSM, StaffRole.ADMIN]))
        .order_by(StaffUser.name)
    )
    form.csm.choices = {
        NO_CSM: "Nobody (surveys come from the company)",
        **{str(s.id): f"{s.name} <{s.email}>" for s in staff},
    }
    return form


def get_account(account_id: int) -> Account:
    """The account, if within the signed-in staff member's reach (else a 404)."""
    account = found(Account, account_id)
    if not scope.can_reach_account(account):
        abort(404)
    return account


@bp.get("")
@requires(Permission.READ)
def index() -> Any:
    search = search_text()
    result = directory.accounts(
        search, request.args.get("after", type=int), reach=scope.accounts_clause()
    )
    ids = [a.id for a in result.rows]
    people = dict(
        db.session.execute(
            select(Person.account_id, func.count())
            .where(Person.account_id.in_(ids))
            .group_by(Person.account_id)
        ).all()
    )
    scores = _scores(ids)
    return render_template(
        "workspace/accounts/index.html", page=result, q=search or "", people=people, scores=scores
    )


def _scores(account_ids: list[int]) -> dict[int, NpsFigures]:
    """NPS of each account on the page: one grouped count over the indexed account id."""
    counts: dict[int, dict[Category, int]] = {}
    for account_id, cat, n in db.session.execute(
        select(Response.account_id, Response.category, func.count())
        .where(Response.account_id.in_(account_ids))
        .group_by(Response.account_id, Response.category)
    ):
        counts.setdefault(account_id, {})[cat] = n
    return {
        a: NpsFigures(
            c.get(Category.PROMOTER, 0), c.get(Category.PASSIVE, 0), c.get(Category.DETRACTOR, 0)
        )
        for a, c in counts.items()
    }


def _account_page(account: Account, form: OwnerForm, status: int = 200) -> Any:
    # A grouped report's overall figures are its groups' sums: one report gives both.
    figures = nps_report(ReportFilter(account_id=account.id), GroupBy.ROLE)
    by_role = figures["groups"]
    members = directory.people(
        None,
        request.args.get("after", type=int),
        account_id=account.id,
        reach=scope.people_clause(),
    )
    answers = list(
        db.session.scalars(
            select(Response)
            .where(Response.account_id == account.id)
            .options(joinedload(Response.person))
            .order_by(Response.answered_at.desc(), Response.id.desc())
            .limit(20)
        )
    )
    return (
        render_template(
            "workspace/accounts/account.html",
            account=account,
            figures=figures,
            by_role=by_role,
            members=members,
            answers=answers,
            form=form,
        ),
        status,
    )


@bp.get("/<int:account_id>")
@requires(Permission.READ)
def account(account_id: int) -> Any:
    chosen = get_account(account_id)
    return _account_page(chosen, _owner_form(chosen))


@bp.post("/<int:account_id>/owner")
@requires(Permission.MANAGE)
def set_owner(account_id: int) -> Any:
    chosen = get_account(account_id)
    form = _owner_form(chosen, request.form)
    if form.validate_on_submit():
        csm = db.session.get(StaffUser, int(form.csm.data)) if form.csm.data else None
        if form.csm.data and csm is None:
            show_error(form, "csm", "That staff member does not exist.")
        else:
            if chosen.csm_id != (csm.id if csm else None):
                record(
                    "account.csm_changed",
                    "account",
                    chosen.id,
                    before={"csm": chosen.csm.email if chosen.csm else None},
                    after={"csm": csm.email if csm else None},
                )
            chosen.csm = csm
            db.session.commit()
            flash(f"{chosen.name}'s owner CSM is now {csm.name if csm else 'nobody'}.")
            return redirect(url_for(".account", account_id=chosen.id))
    return _account_page(chosen, form, 400)
