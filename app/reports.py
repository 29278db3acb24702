"""NPS figures as SQL aggregates over indexed columns (never Python over rows).

NPS, its counts and the response rate, overall or grouped by role, account, channel, month
or week. The NPS side counts responses with the role and account recorded when they were
answered. The response-rate side counts invitations that were actually put to someone
(``sent_at`` set), grouped the same way: by the account the invitation was made for, and
by the person's role today (invitations do not record a role).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select

from app.db import db
from app.models import Account, Invitation, Person, Response
from app.policy.nps import NpsFigures, response_rate
from app.vocabulary import Category, Channel, InvitationStatus, Role


class GroupBy(enum.StrEnum):
    ROLE = "role"
    ACCOUNT = "account"
    CHANNEL = "channel"
    MONTH = "month"
    WEEK = "week"


UNKNOWN_ROLE = "unknown"


@dataclass(frozen=True, slots=True)
class ReportFilter:
    survey_id: int | None = None
    role: str | None = None
    """A Role value or "unknown"."""
    account_id: int | None = None
    channel: Channel | None = None
    since: datetime | None = None
    until: datetime | None = None


def _period(column: Any, group_by: GroupBy) -> ColumnElement[Any]:
    """The UTC month or ISO week (its Monday) of ``column``: a truncated timestamp on
    PostgreSQL (formatted per group by :func:`_norm`, cheaper than formatting every row), a
    string on SQLite."""
    if db.engine.dialect.name == "postgresql":
        unit = "month" if group_by == GroupBy.MONTH else "week"
        return func.date_trunc(unit, func.timezone("UTC", column))
    if group_by == GroupBy.MONTH:
        return func.strftime("%Y-%m", column)
    return func.date(column, "weekday 0", "-6 days")


def _role_condition(column: Any, role: str) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = (
        column.is_(None) if role == UNKNOWN_ROLE else column == Role(role)
    )
    return condition


def response_filters(f: ReportFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.survey_id is not None:
        where.append(Response.survey_id == f.survey_id)
    if f.role is not None:
        where.append(_role_condition(Response.role, f.role))
    if f.account_id is not None:
        where.append(Response.account_id == f.account_id)
    if f.channel is not None:
        where.append(Response.channel == f.channel)
    if f.since is not None:
        where.append(Response.answered_at >= f.since)
    if f.until is not None:
        where.append(Response.answered_at < f.until)
    return where


def _invitation_filters(f: ReportFilter) -> list[ColumnElement[bool]]:
    # Asked: the invitation went out. Canceled ones were withdrawn (by a CSM, or because the
    # person answered the same survey on another channel) and are not counted.
    where: list[ColumnElement[bool]] = [
        Invitation.sent_at.is_not(None),
        Invitation.status != InvitationStatus.CANCELED,
    ]
    if f.survey_id is not None:
        where.append(Invitation.survey_id == f.survey_id)
    if f.role is not None:
        where.append(_role_condition(Person.role, f.role))
    if f.account_id is not None:
        where.append(Invitation.account_id == f.account_id)
    if f.channel is not None:
        where.append(Invitation.channel == f.channel)
    if f.since is not None:
        where.append(Invitation.sent_at >= f.since)
    if f.until is not None:
        where.append(Invitation.sent_at < f.until)
    return where


def _keys(group_by: GroupBy | None) -> tuple[Any, Any]:
    """The grouping expression on the response side and on the invitation side."""
    if group_by is None:
        return literal("all"), literal("all")
    if group_by == GroupBy.ROLE:
        return Response.role, Person.role
    if group_by == GroupBy.ACCOUNT:
        return Response.account_id, Invitation.account_id
    if group_by == GroupBy.CHANNEL:
        return Response.channel, Invitation.channel
    return _period(Response.answered_at, group_by), _period(Invitation.sent_at, group_by)


def _count(category: Category) -> Any:
    return func.coalesce(func.sum(case((Response.category == category, 1), else_=0)), 0)


def nps_report(f: ReportFilter, group_by: GroupBy | None = None) -> dict[str, Any]:
    if group_by is None:
        return {"filters": _filters_json(f), **_figures(f, None)["all"]}
    # Every response and invitation falls in exactly one group (NULL keys included), so the
    # overall figures are the groups' sums: one pass over the data, not two.
    groups = _figures(f, group_by)
    result: dict[str, Any] = {"filters": _filters_json(f), **_total(groups.values())}
    labels = _labels(group_by, groups.keys())
    ordered = sorted(groups.items(), key=lambda item: _sort_key(group_by, item))
    result["group_by"] = group_by.value
    result["groups"] = [
        {"key": key, "label": labels.get(key, str(key)), **figures} for key, figures in ordered
    ]
    return result


def _figures(f: ReportFilter, group_by: GroupBy | None) -> dict[Any, dict[str, Any]]:
    response_key, invitation_key = _keys(group_by)
    answers = db.session.execute(
        select(
            response_key.label("k"),
            _count(Category.PROMOTER),
            _count(Category.PASSIVE),
            _count(Category.DETRACTOR),
        )
        .where(*response_filters(f))
        .group_by(response_key)
    ).all()
    asked = db.session.execute(
        select(
            invitation_key.label("k"),
            func.count(),
            func.coalesce(
                func.sum(case((Invitation.status == InvitationStatus.RESPONDED, 1), else_=0)), 0
            ),
        )
        .select_from(Invitation)
        .join(Person, Person.id == Invitation.person_id)
        .where(*_invitation_filters(f))
        .group_by(invitation_key)
    ).all()
    out: dict[Any, dict[str, Any]] = {}
    for key, promoters, passives, detractors in answers:
        out[_norm(key, group_by)] = _shape(
            NpsFigures(int(promoters), int(passives), int(detractors)), 0, 0
        )
    for key, invited, responded in asked:
        entry = out.setdefault(_norm(key, group_by), _shape(NpsFigures(0, 0, 0), 0, 0))
        entry.update(
            invited=int(invited),
            responded=int(responded),
            response_rate=response_rate(int(responded), int(invited)),
        )
    if group_by is None and "all" not in out:
        out["all"] = _shape(NpsFigures(0, 0, 0), 0, 0)
    return out


def _total(groups: Any) -> dict[str, Any]:
    groups = list(groups)
    summed = NpsFigures(
        sum(g["promoters"] for g in groups),
        sum(g["passives"] for g in groups),
        sum(g["detractors"] for g in groups),
    )
    return _shape(summed, sum(g["invited"] for g in groups), sum(g["responded"] for g in groups))


def _norm(key: Any, group_by: GroupBy | None) -> Any:
    if isinstance(key, datetime):  # a period truncated on PostgreSQL
        return key.strftime("%Y-%m" if group_by == GroupBy.MONTH else "%Y-%m-%d")
    if key is None:
        return UNKNOWN_ROLE
    if isinstance(key, enum.Enum):
        return key.value
    return key


def _shape(figures: NpsFigures, invited: int, responded: int) -> dict[str, Any]:
    return {
        "nps": figures.nps,
        "responses": figures.responses,
        "promoters": figures.promoters,
        "passives": figures.passives,
        "detractors": figures.detractors,
        "invited": invited,
        "responded": responded,
        "response_rate": response_rate(responded, invited),
    }


def _labels(group_by: GroupBy, keys: Any) -> dict[Any, str]:
    if group_by == GroupBy.ROLE:
        return {k: (Role(k).label if k != UNKNOWN_ROLE else "Unknown role") for k in keys}
    if group_by == GroupBy.ACCOUNT:
        ids = [k for k in keys if isinstance(k, int)]
        names = dict(
            db.session.execute(select(Account.id, Account.name).where(Account.id.in_(ids))).all()
        )
        return {k: names.get(k, "No account") if k != UNKNOWN_ROLE else "No account" for k in keys}
    if group_by == GroupBy.CHANNEL:
        return {k: str(k).upper() if k == "sms" else str(k).capitalize() for k in keys}
    return {k: str(k) for k in keys}


def _sort_key(group_by: GroupBy, item: tuple[Any, dict[str, Any]]) -> Any:
    key, figures = item
    if group_by == GroupBy.ROLE:
        order = [r.value for r in Role] + [UNKNOWN_ROLE]
        return order.index(key) if key in order else len(order)
    if group_by in (GroupBy.MONTH, GroupBy.WEEK):
        return str(key)
    return (-figures["responses"], str(key))


def _filters_json(f: ReportFilter) -> dict[str, Any]:
    return {
        "survey_id": f.survey_id,
        "role": f.role,
        "account_id": f.account_id,
        "channel": f.channel.value if f.channel else None,
        "since": f.since.isoformat() if f.since else None,
        "until": f.until.isoformat() if f.until else None,
    }
