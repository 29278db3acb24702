"""Cursor pagination, newest first: the cursor is the position of the last item seen."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from flask import request
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from app.db import db
from app.errors import AppError

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def _limit() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    try:
        limit = int(raw)
    except ValueError as exc:
        raise AppError("limit must be a whole number", field="limit") from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise AppError(f"limit must be from 1 to {MAX_LIMIT}", field="limit")
    return limit


def encode_cursor(moment: datetime, ident: int) -> str:
    raw = json.dumps([moment.isoformat(), ident]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        moment, ident = json.loads(base64.urlsafe_b64decode(padded.encode()))
        when = datetime.fromisoformat(moment)
        if when.tzinfo is None:
            raise ValueError("a cursor's time has a time zone")
        return when.astimezone(UTC), int(ident)
    except (ValueError, TypeError, OverflowError) as exc:
        raise AppError(
            "cursor is not valid; pass next_cursor from the previous page", field="cursor"
        ) from exc


def page_of(
    query: Select[Any], time_col: InstrumentedAttribute[Any], id_col: InstrumentedAttribute[Any]
) -> tuple[list[Any], str | None]:
    """One page of ``query`` ordered by (time, id) descending, and the next cursor."""
    limit = _limit()
    cursor = request.args.get("cursor")
    if cursor:
        moment, ident = decode_cursor(cursor)
        query = query.where(or_(time_col < moment, and_(time_col == moment, id_col < ident)))
    rows = list(db.session.scalars(query.order_by(time_col.desc(), id_col.desc()).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, time_col.key), getattr(last, id_col.key))
    return rows, next_cursor
