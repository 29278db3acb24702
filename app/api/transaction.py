"""One transaction per write request, and ``Idempotency-Key`` replay.

A write view does its work and returns; this decorator commits it, or rolls it back when the
answer is an error, so bad input changes nothing. With an ``Idempotency-Key`` header the
record of the key is inserted *before* the work, in the same transaction: a concurrent
duplicate waits on the unique key, then replays the first answer instead of doing the work
again. A retried request with the same key and body gets the first answer (header
``Idempotent-Replayed: true``); the same key with another body is a 422.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Response, jsonify, make_response, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import clock
from app.api.auth import current_key
from app.db import db
from app.errors import AppError
from app.models import IdempotencyRecord
from app.services.cadence import Throttled, store_refusal

HEADER = "Idempotency-Key"
#: How long a key is remembered.
KEY_TTL = timedelta(hours=24)


def _request_hash() -> str:
    """The request's fingerprint: method, path and body. A JSON body is compared by meaning,
    so a retry that serialises the same object with another key order or spacing matches."""
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    body = request.get_json(silent=True) if request.is_json else None
    if body is not None:
        digest.update(json.dumps(body, sort_keys=True, separators=(",", ":")).encode())
    else:
        digest.update(request.get_data())
    return digest.hexdigest()


def _find(key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == current_key().id, IdempotencyRecord.key == key
        )
    )


def _replay(record: IdempotencyRecord, request_hash: str) -> Response:
    if record.request_hash != request_hash:
        raise AppError(
            f"This {HEADER} was already used for a different request; use a new key for a "
            "new request.",
            field=HEADER,
            code="idempotency_key_reused",
            status=422,
        )
    response = jsonify(record.response_body)
    response.status_code = record.status_code
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _key() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255 or not key.isprintable():
        raise AppError(f"{HEADER} must be 1 to 255 printable characters.", field=HEADER)
    return key


def write(view: Callable[..., Any]) -> Callable[..., Response]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return once(*args, **kwargs)
        except IntegrityError:
            # A concurrent request inserted the same unique row (a person's external id or
            # email, an account) between our read and our insert, and has committed: run the
            # request again, in a new transaction, and it finds that row instead.
            db.session.rollback()
            return once(*args, **kwargs)

    def once(*args: Any, **kwargs: Any) -> Response:
        key = _key()
        record = None
        if key is not None:
            request_hash = _request_hash()
            existing = _find(key)
            if existing is not None and existing.created_at > clock.now() - KEY_TTL:
                return _replay(existing, request_hash)
            if existing is not None:
                db.session.delete(existing)
                db.session.flush()
            record = IdempotencyRecord(
                api_key_id=current_key().id,
                key=key,
                method=request.method,
                path=request.path[:255],
                request_hash=request_hash,
                status_code=0,
                response_body={},
                created_at=clock.now(),
            )
            db.session.add(record)
            try:
                db.session.flush()
            except IntegrityError:
                db.session.rollback()
                existing = _find(key)
                if existing is None:
                    raise
                return _replay(existing, request_hash)
        try:
            response = make_response(view(*args, **kwargs))
        except Throttled as refused:
            # The request changes nothing, but the cadence refusal it met is still stored:
            # every "no" is explainable later.
            db.session.rollback()
            store_refusal(refused)
            db.session.commit()
            raise
        if response.status_code >= 400:
            db.session.rollback()
            return response
        if record is not None:
            record.status_code = response.status_code
            record.response_body = response.get_json()
        db.session.commit()
        return response

    return wrapper
