"""Dashboard pages: the overview and the responses (signing in: ``app.staff.views``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import clock
from app.access import Permission, requires
from app.dashboard.charts import Point, nps_trend, split_bar
from app.db import db
from app.models import Response, Survey
from app.reports import GroupBy, ReportFilter, nps_report, response_filters
from app.vocabulary import Category, Role

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

PERIODS = {"90d": ("Last 90 days", 90), "12m": ("Last 12 months", 365), "all": ("All time", None)}
#: Pages that any signed-in staff member may read. (Kept for pages written before
#: ``app.access``; new pages declare ``@requires(Permission.X)`` themselves.)
signed_in = requires(Permission.READ)


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
