"""The signed survey page ``/s/<token>``: score 0-10, the why, the role if unknown.

A tampered, expired or unknown token gets a friendly page and records nothing. Answering
again before the deadline updates the answer.

**One click from the email.** Each score button of the email links here with ``?score=N``.
Opening such a link records a *pending* click and shows the person, at once, that their
score was received, with the comment box; the click becomes their answer after a short
quiet period unless other score links of the same invitation were opened around it (a mail
scanner's burst), and never replaces an answer already given. The rules are in
:mod:`app.policy.clicks`; :mod:`app.services.clicks` applies them. Submitting the form
records at once and always wins. A HEAD request records nothing.

**No CSRF token here.** The signed link is the credential: whoever holds it may answer, and
a forged cross-site POST would need the token that *is* that credential. A CSRF check would
only add a way to lose an answer (a person whose session cookie is gone, blocked or expired
would get a 400 instead of their answer recorded), so this blueprint is exempt from
Flask-WTF's CSRF protection, like the unsubscribe page.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WsgiResponse

from app import clock
from app.access import public
from app.db import db
from app.messages import links
from app.models import Invitation, Response
from app.policy.deadlines import closes_on
from app.policy.nps import category
from app.services.clicks import record_click, settle
from app.services.responses import SurveyClosed, is_answerable, lock_invitation, record_response
from app.vocabulary import Category, InvitationStatus, Role

bp = Blueprint("survey", __name__)

ROLE_CHOICES = [(r.value, r.label) for r in Role]


def _closed_page(invitation: Invitation | None = None) -> tuple[str, int]:
    answered = invitation is not None and invitation.status == InvitationStatus.RESPONDED
    return render_template("survey/closed.html", answered=answered), 410


def _invalid_page() -> tuple[str, int]:
    return render_template("survey/invalid.html"), 404


def _load(token: str) -> tuple[Invitation | None, tuple[str, int] | None]:
    """The invitation behind a token, or the page to show instead."""
    try:
        link = links.read_survey_token(token)
    except links.ExpiredToken as exc:
        invitation = (
            db.session.get(Invitation, exc.payload.get("i", 0))
            if isinstance(exc.payload.get("i"), int)
            else None
        )
        return None, _closed_page(invitation)
    except links.BadToken:
        return None, _invalid_page()
    invitation = db.session.get(Invitation, link.invitation_id)
    if invitation is None:
        return None, _invalid_page()
    if not is_answerable(invitation, clock.now()):
        return None, _closed_page(invitation)
    return invitation, None


def _follow_ups(invitation: Invitation) -> dict[str, str]:
    survey = invitation.survey
    return {c.value: survey.follow_up_for(c) for c in Category}


def _render(
    invitation: Invitation,
    token: str,
    *,
    score: int | None,
    comment: str,
    role: str,
    errors: dict[str, str],
    status: int = 200,
    received: bool = False,
) -> tuple[str, int]:
    person = invitation.person
    follow_ups = _follow_ups(invitation)
    chosen = category(score).value if score is not None else None
    return render_template(
        "survey/form.html",
        token=token,
        invitation=invitation,
        question=invitation.survey.question,
        follow_up=follow_ups[chosen] if chosen else invitation.survey.follow_up_for(None),
        follow_ups=follow_ups,
        score=score,
        comment=comment,
        role=role,
        ask_role=person.role is None,
        roles=ROLE_CHOICES,
        errors=errors,
        deadline=closes_on(invitation.deadline_at, person.timezone, person.locale),
        max_comment=current_app.config["MAX_COMMENT_LENGTH"],
        answered=invitation.status == InvitationStatus.RESPONDED,
        received=received,
    ), status


@bp.get("/s/<token>")
@public
def show(token: str) -> Any:
    invitation, page = _load(token)
    if page is not None:
        return page
    assert invitation is not None
    now = clock.now()
    settle([invitation.id], now)  # a click of this invitation may be due to become its answer
    existing = db.session.query(Response).filter_by(invitation_id=invitation.id).one_or_none()
    score = _score_from(request.args.get("score"))
    received = False
    if score is not None and existing is None and request.method == "GET":
        received = record_click(invitation.id, score, now)
    db.session.commit()
    if score is None and existing is not None:
        score = existing.score
    comment = existing.comment or "" if existing is not None else ""
    return _render(
        invitation, token, score=score, comment=comment, role="", errors={}, received=received
    )


def _score_from(raw: str | None) -> int | None:
    # ASCII digits only: "²".isdigit() is true but int("²") raises.
    if raw is None or not (raw.strip().isascii() and raw.strip().isdigit()):
        return None
    value = int(raw.strip())
    return value if 0 <= value <= 10 else None


@bp.post("/s/<token>")
@public
def answer(token: str) -> Any:
    form = request.form  # read first: a body over MAX_CONTENT_LENGTH is a friendly 413
    invitation, page = _load(token)
    if page is not None:
        return page
    assert invitation is not None
    errors: dict[str, str] = {}
    raw_score = form.get("score", "").strip()
    score = _score_from(raw_score)
    if score is None:
        errors["score"] = (
            "Please choose a number from 0 to 10."
            if not raw_score
            else "The score must be a whole number from 0 to 10."
        )
    # PostgreSQL cannot store NUL characters; nobody means to type one.
    comment = form.get("comment", "").replace("\x00", "")
    max_comment = current_app.config["MAX_COMMENT_LENGTH"]
    if len(comment) > max_comment:
        errors["comment"] = f"Please keep your comment under {max_comment} characters."
    role_raw = form.get("role", "").strip()
    role = None
    if role_raw:
        try:
            role = Role(role_raw)
        except ValueError:
            errors["role"] = "Please choose one of the roles listed."
    if errors:
        return _render(
            invitation,
            token,
            score=score,
            comment=comment,
            role=role_raw,
            errors=errors,
            status=400,
        )
    locked = lock_invitation(invitation.id)
    assert locked is not None and score is not None
    try:
        record_response(locked, score=score, comment=comment, role=role, now=clock.now())
    except SurveyClosed:
        db.session.rollback()
        return _closed_page(locked)
    db.session.commit()
    return redirect(url_for("survey.thanks", token=token), code=303)


@bp.get("/s/<token>/thanks")
@public
def thanks(token: str) -> Any:
    try:
        link = links.read_survey_token(token)
    except links.ExpiredToken:
        return render_template("survey/thanks.html", response=None, deadline=None, token=token)
    except links.BadToken:
        return _invalid_page()
    invitation = db.session.get(Invitation, link.invitation_id)
    if invitation is None:
        return _invalid_page()
    response = db.session.query(Response).filter_by(invitation_id=invitation.id).one_or_none()
    if response is None:
        return redirect(url_for("survey.show", token=token))
    person = invitation.person
    return render_template(
        "survey/thanks.html",
        response=response,
        token=token,
        deadline=closes_on(invitation.deadline_at, person.timezone, person.locale),
    )


def no_store(response: WsgiResponse) -> WsgiResponse:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


bp.after_request(no_store)
