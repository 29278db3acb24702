"""Dashboard pages: sign in with an API key, then the overview and the responses."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import clock
from app.api.auth import hash_key
from app.dashboard.charts import Point, nps_trend, split_bar
from app.db import db
from app.models import ApiKey, Response, Survey
from app.reports import GroupBy, ReportFilter, nps_report, response_filters
from app.vocabulary import Category, Role

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

PERIODS = {"90d": ("Last 90 days", 90), "12m": ("Last 12 months", 365), "all": ("All time", None)}
SESSION_KEY = "sounding_api_key_id"


def current_key() -> ApiKey | None:
    """The API key the dashboard session was opened with, while it is not revoked."""
    key_id = session.get(SESSION_KEY)
    if not isinstance(key_id, int):
        return None
    key = db.session.get(ApiKey, key_id)
    return key if key is not None and key.revoked_at is None else None


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_key() is None:
            return redirect(url_for("dashboard.sign_in", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    error = None
    if request.method == "POST":
        key = db.session.scalar(
            select(ApiKey).where(ApiKey.key_hash == hash_key(request.form.get("key", "").strip()))
        )
        if key is None or key.revoked_at is not None:
            error = "That key is not valid. Use an API key from `sounding create-api-key`."
        else:
            session.clear()
            session[SESSION_KEY] = key.id
            target = request.args.get("next") or ""
            return redirect(target if target.startswith("/dashboard") else url_for(".overview"))
    return render_template("dashboard/sign_in.html", error=error), 401 if error else 200


@bp.post("/sign-out")
def sign_out() -> Any:
    session.clear()
    return redirect(url_for(".sign_in"))


def _filters() -> tuple[ReportFilter, dict[str, Any]]:
    surveys = db.session.scalars(select(Survey).order_by(Survey.id)).all()
    survey_id = request.args.get("survey", type=int)
    if survey_id not in {s.id for s in surveys}:
        survey_id = surveys[0].id if surveys else None
    period = request.args.get("period", "12m")
    if period not in PERIODS:
        period = "12m"
    days = PERIODS[period][1]
    since = clock.now() - timedelta(days=days) if days else None
    role = request.args.get("role") or None
    if role not in {r.value for r in Role} | {"unknown"}:
        role = None
    state = {
        "surveys": surveys,
        "survey_id": survey_id,
        "period": period,
        "periods": PERIODS,
        "role": role,
        "roles": [(r.value, r.label) for r in Role],
    }
    return ReportFilter(survey_id=survey_id, since=since, role=role), state


@bp.get("/")
@signed_in
def overview() -> Any:
    f, state = _filters()
    # A grouped report's overall figures are its groups' sums: the role report gives both.
    overall = nps_report(f, GroupBy.ROLE)
    by = {GroupBy.ROLE: overall["groups"]}
    by.update({g: nps_report(f, g)["groups"] for g in (GroupBy.ACCOUNT, GroupBy.CHANNEL)})
    months = nps_report(f, GroupBy.MONTH)["groups"]
    trend = nps_trend([Point(m["key"], m["nps"], m["responses"]) for m in months])
    at_risk = sorted(
        (g for g in by[GroupBy.ACCOUNT] if g["responses"]),
        key=lambda g: (g["nps"], -g["responses"]),
    )[:10]
    latest = _responses(f, limit=8, with_comment=True)
    return render_template(
        "dashboard/overview.html",
        overall=overall,
        by=by,
        months=months,
        trend=trend,
        split=split_bar(overall["promoters"], overall["passives"], overall["detractors"]),
        at_risk=at_risk,
        latest=latest,
        GroupBy=GroupBy,
        **state,
    )


@bp.get("/responses")
@signed_in
def responses() -> Any:
    f, state = _filters()
    category = request.args.get("category") or None
    if category not in {c.value for c in Category}:
        category = None
    rows = _responses(f, limit=200, category=category)
    return render_template(
        "dashboard/responses.html",
        rows=rows,
        category=category,
        categories=[c.value for c in Category],
        **state,
    )


def _responses(
    f: ReportFilter, *, limit: int, with_comment: bool = False, category: str | None = None
) -> list[Response]:
    query = (
        select(Response)
        .where(*response_filters(f))
        .options(joinedload(Response.person), joinedload(Response.account))
        .order_by(Response.answered_at.desc(), Response.id.desc())
        .limit(limit)
    )
    if with_comment:
        query = query.where(Response.comment.is_not(None))
    if category:
        query = query.where(Response.category == Category(category))
    return list(db.session.scalars(query))
