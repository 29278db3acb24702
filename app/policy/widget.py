"""Pure decisions for the in-app widget: origins, identity signatures, which survey to show,
its look and its words. Plain values in, plain values out (no database, clock or HTTP).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from app.messages.i18n import translate

#: The most origins one key may allow.
MAX_ORIGINS = 50
DEFAULT_PORTS = {"http": 80, "https": 443}
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_HOST = re.compile(r"^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$")

POSITIONS = ("bottom-right", "bottom-left", "top-right", "top-left")
DEFAULT_POSITION = "bottom-right"
THEME_KEYS = ("accent", "accent_text", "background", "text", "border")
#: What the widget itself accepts as a colour (the same pattern as in widget/sounding.js).
COLOUR = re.compile(r"^(#[0-9a-f]{3,8}|[a-z]+|(rgb|hsl)a?\([\d\s.,%/]+\))$", re.IGNORECASE)


class OriginError(ValueError):
    """Not an exact web origin; the message says why."""


def normalize_origin(value: str) -> str:
    """``scheme://host[:port]`` in the form browsers send in the ``Origin`` header: lower
    case, punycode host, no default port, no path. Raises :class:`OriginError`."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise OriginError("an origin is like https://app.example.com")
    if "*" in text:
        raise OriginError(f"{value!r}: wildcards are not allowed; list each origin")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise OriginError(f"{value!r}: not a valid origin ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise OriginError(f"{value!r}: the scheme must be http or https")
    if parts.username is not None or parts.password is not None:
        raise OriginError(f"{value!r}: an origin has no user name or password")
    if parts.path not in ("", "/") or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise OriginError(
            f"{value!r}: an origin is only scheme://host[:port], without a path "
            "(e.g. https://app.example.com)"
        )
    host = parts.hostname or ""
    if not host:
        raise OriginError(f"{value!r}: the origin has no host")
    if ":" in host:  # IPv6
        host = f"[{host}]"
    else:
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise OriginError(f"{value!r}: not a valid host name") from None
    if not _HOST.match(host) or host.startswith(".") or host.endswith(".") or ".." in host:
        raise OriginError(f"{value!r}: not a valid host name")
    if port is not None and port != DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def normalize_origins(values: Iterable[str]) -> list[str]:
    """Each origin normalized, duplicates removed, order kept; at least one."""
    out = list(dict.fromkeys(normalize_origin(v) for v in values))
    if not out:
        raise OriginError("allow at least one origin, like https://app.example.com")
    if len(out) > MAX_ORIGINS:
        raise OriginError(f"at most {MAX_ORIGINS} origins per key")
    return out


def signature_of(secret: str, user_id: str) -> str:
    """The hex HMAC-SHA256 of the user id keyed with the widget secret (what the host's
    backend computes)."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def signature_matches(secrets: Sequence[str], user_id: str, signature: str) -> bool:
    """True when ``signature`` is the HMAC of ``user_id`` under one of ``secrets`` (the
    current secret, and the previous one during a rotation's grace period). Constant time."""
    if not isinstance(signature, str) or not _HEX64.match(signature):
        return False
    given = signature.lower()
    matched = False
    for secret in secrets:
        # no early exit: the time taken does not tell which secret matched
        matched |= hmac.compare_digest(signature_of(secret, user_id), given)
    return matched


@dataclass(frozen=True, slots=True)
class Candidate:
    """A survey the widget could show to one person."""

    survey_id: int
    last_shown_at: datetime | None
    """When the widget last showed this survey to this person (None: never)."""
    open_display: bool = False
    """The person has an unanswered display of it before its deadline."""


def show_order(candidates: Iterable[Candidate]) -> list[int]:
    """The order in which the surveys are tried, the first the rules allow being shown:

    1. a survey already on show to the person (an open display) comes back before any other,
       so a person is never switched from one question to another;
    2. then surveys the widget never showed to them, then the least recently shown one, so
       every survey gets its turn;
    3. ties go to the oldest survey (lowest id).
    """

    def key(c: Candidate) -> tuple[int, int, float, int]:
        never = c.last_shown_at is None
        when = 0.0 if never else c.last_shown_at.timestamp()  # type: ignore[union-attr]
        return (0 if c.open_display else 1, 0 if never else 1, when, c.survey_id)

    return [c.survey_id for c in sorted(candidates, key=key)]


class LookError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def normalize_look(theme: dict[str, object] | None, position: str | None) -> dict[str, object]:
    """A survey's widget look (``theme`` colours and ``position``), validated."""
    clean: dict[str, str] = {}
    for name, colour in (theme or {}).items():
        if name not in THEME_KEYS:
            raise LookError(f"theme.{name}", f"not a theme key; use {', '.join(THEME_KEYS)}")
        if not isinstance(colour, str) or not COLOUR.match(colour.strip()):
            raise LookError(
                f"theme.{name}", "a colour like #0f766e, teal, rgb(15, 118, 110) or hsl(...)"
            )
        clean[name] = colour.strip()
    if position is not None and position not in POSITIONS:
        raise LookError("position", f"one of {', '.join(POSITIONS)}")
    return {"theme": clean, "position": position or DEFAULT_POSITION}


#: The words the widget shows around the survey's own question and follow-ups, in English;
#: translated through the gettext catalogs (app/translations) into the person's language.
STRINGS = {
    "low_label": "Not at all likely",
    "high_label": "Extremely likely",
    "comment_label": "Tell us more (optional)",
    "submit": "Send",
    "skip": "Skip",
    "thanks": "Thank you for your feedback!",
    "close": "Close",
    "score_label": "{n} out of 10",
}


def strings_for(locale: str | None) -> dict[str, str]:
    """The widget's strings in ``locale`` (English where there is no translation)."""
    return {name: translate(text, locale) for name, text in STRINGS.items()}
