"""Query-string filters shared by the responses list and the reports."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import request
from sqlalchemy import select

from app.db import db
from app.errors import AppError, NotFound
from app.models import Account
from app.reports import UNKNOWN_ROLE, ReportFilter
from app.vocabulary import Channel, Role


def parse_moment(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), datetime.min.time(), tzinfo=UTC)
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise AppError(
            f"{name} must be a date (2026-01-31) or a date and time with a time "
            "zone (2026-01-31T09:00:00Z)",
            field=name,
        ) from exc
    if moment.tzinfo is None:
        raise AppError(f"{name} needs a time zone, e.g. 2026-01-31T09:00:00Z", field=name)
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00:00+14:00 is before the year 1 in UTC
        raise AppError(f"{name} is out of range", field=name) from exc


def _int(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise AppError(f"{name} must be a whole number", field=name) from exc


def _account_id() -> int | None:
    """``account_id`` (ours) or ``account`` (the account's external id)."""
    account_id = _int("account_id")
    external = request.args.get("account")
    if external:
        found = db.session.scalar(select(Account.id).where(Account.external_id == external))
        if found is None:
            raise NotFound(f"No account with external id {external!r}.", field="account")
        return found
    return account_id


def report_filter() -> ReportFilter:
    role = request.args.get("role") or None
    if role is not None and role != UNKNOWN_ROLE and role not in {r.value for r in Role}:
        raise AppError(
            f"role must be one of {', '.join([r.value for r in Role] + [UNKNOWN_ROLE])}",
            field="role",
        )
    channel_raw = request.args.get("channel") or None
    try:
        channel = Channel(channel_raw) if channel_raw else None
    except ValueError as exc:
        raise AppError(
            f"channel must be one of {', '.join(c.value for c in Channel)}", field="channel"
        ) from exc
    since, until = parse_moment("since"), parse_moment("until")
    if since and until and until <= since:
        raise AppError("until must be after since", field="until")
    return ReportFilter(
        survey_id=_int("survey_id"),
        role=role,
        account_id=_account_id(),
        channel=channel,
        since=since,
        until=until,
    )
