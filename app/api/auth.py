"""The API's view of who is asking: the key the request came with (``app.access`` checks it
before every view; keys themselves are made in ``app.access.keys``)."""

from __future__ import annotations

from flask import g

from app.access.keys import KEY_PREFIX, hash_key, issue_key
from app.models import ApiKey

__all__ = ["KEY_PREFIX", "current_key", "hash_key", "issue_key"]


def current_key() -> ApiKey:
    key: ApiKey = g.api_key
    return key


def principal_name() -> str:
    """How a change is signed in the records: the staff member's name, else the key."""
    key = current_key()
    return key.staff_user.name if key.staff_user else f"API key {key.prefix}"
