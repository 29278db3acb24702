"""Email through SendGrid's v3 Mail Send API, batched into personalizations.

What the API allows (read in the Mail Send OpenAPI description, ``twilio/sendgrid-oai``
``spec/json/tsg_mail_v3.json``, and the Mail Send "Errors" and "Limitations" pages):

* A request carries up to 1,000 personalizations. Each may carry its own ``to``/``cc``/
  ``bcc``, ``from``, ``subject``, ``headers``, ``substitutions``, ``custom_args`` and
  ``send_at``; ``reply_to`` (or ``reply_to_list``), ``content`` and ``mail_settings``
  exist only at the message level, and ``Reply-To`` is one of the headers a request may
  not set (with ``From``, ``To``, ``Subject``, ``CC``, ``BCC``, ``Content-Type``, ...).
  So one request serves one (content, Reply-To) pair: :meth:`SendGridEmailChannel.plan`
  groups by that pair and cuts each group into requests of at most ``max_batch``. A Reply-To
  equal to the message's own From is left out (replies go to From anyway), so CSMs who send
  as themselves share requests instead of needing one each.
* ``tracking_settings``: click tracking is off (it would rewrite the signed score links
  through SendGrid's redirector, and a scanner's visit to the redirector is not ours to
  judge), and so is subscription tracking (we add our own unsubscribe link and RFC 8058
  headers); open tracking is on unless configured off, for ``open`` events.
* Substitutions are applied by SendGrid to the subject, the content (and Reply-To); they
  may total at most 10,000 bytes per personalization, and must not be nested. A message
  whose substitutions SendGrid cannot apply the way :func:`channels.base.substitute` does
  (too large, a value containing a key, a key with spaces or ``<>&``, one key inside
  another) is rendered here and sent without substitutions instead: same result, fewer
  recipients per request.
* ``custom_args`` may total at most 10,000 bytes; SendGrid echoes them as top-level keys of
  each webhook event. Ours (:data:`ARG_MESSAGE_ID`, :data:`ARG_INVITATION_ID`,
  :data:`ARG_STEP`) override the application's keys of the same name.
* The same address may appear only once among a request's personalizations, and a ``to``
  name may not contain ``;`` or ``,`` (those characters are replaced by spaces here).

One request has one answer, so all messages of a request get the same outcome: 2xx
ACCEPTED (``X-Message-Id`` as provider id); 429, 408 and 5xx TRANSIENT (``retry_after`` from
``X-RateLimit-Reset`` or ``Retry-After``), except 504, a gateway timeout, which is UNKNOWN;
other 4xx PERMANENT with SendGrid's error messages; a failure to connect TRANSIENT; no
answer after the request was written UNKNOWN. A message
this module can tell is unsendable (bad address syntax, reserved or malformed header,
oversized custom args, empty content) fails on its own, before any request, so it cannot
spoil the 999 others in its batch.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from channels.base import (
    Address,
    EmailContent,
    EmailMessage,
    Outcome,
    SendResult,
    render_email,
)

MAX_PERSONALIZATIONS = 1000
MAX_SUBSTITUTIONS_BYTES = 10_000
MAX_CUSTOM_ARGS_BYTES = 10_000
ARG_MESSAGE_ID = "sounding_message_id"
ARG_INVITATION_ID = "sounding_invitation_id"
ARG_STEP = "sounding_step"
RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        "x-sg-id",
        "x-sg-eid",
        "received",
        "dkim-signature",
        "Content-Type",
        "Content-Transfer-Encoding",
        "To",
        "From",
        "Subject",
        "Reply-To",
        "CC",
        "BCC",
    )
)

# Syntax only, to keep one mistyped address from failing a whole request with a 400.
_ADDRESS = re.compile(r"[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+\.[^@\s<>(),;:\"\[\]\\.]+")
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII except ':' (RFC 5322 ftext)


@dataclass(frozen=True, slots=True)
class SendGridConfig:
    api_key: str
    host: str = "https://api.sendgrid.com"
    sandbox_mode: bool = False
    """``mail_settings.sandbox_mode``: SendGrid validates the request (200) but sends nothing."""
    timeout: float = 30.0
    """Seconds for the whole exchange. A timeout after the request was written is UNKNOWN."""
    open_tracking: bool = True
    """``tracking_settings.open_tracking``: a pixel that makes ``open`` events."""


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """One Mail Send request body and the ids of the messages it carries, in order."""

    body: dict[str, Any] = field(hash=False)
    message_ids: tuple[int, ...]


class SendGridEmailChannel:
    """:class:`channels.base.EmailChannel` over the official ``sendgrid`` SDK."""

    name = "sendgrid"
    max_batch = MAX_PERSONALIZATIONS

    def __init__(
        self,
        config: SendGridConfig,
        *,
        max_batch: int = MAX_PERSONALIZATIONS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not config.api_key:
            # The SDK would silently fall back to $SENDGRID_API_KEY; configuration is explicit.
            raise ValueError("SendGrid API key is required")
        if not 1 <= max_batch <= MAX_PERSONALIZATIONS:
            raise ValueError(f"max_batch must be between 1 and {MAX_PERSONALIZATIONS}")
        self.config = config
        self.max_batch = max_batch
        self._clock = clock
        self._client = SendGridAPIClient(api_key=config.api_key, host=config.host.rstrip("/"))

    def send(self, messages: Sequence[EmailMessage]) -> list[SendResult]:
        """Send a batch; return one result per message, in the order given."""
        requests, rejected = self.plan(messages)
        by_id = {r.message_id: r for r in rejected}
        for request in requests:
            for result in self._post(request):
                by_id[result.message_id] = result
        return [by_id[m.message_id] for m in messages]

    def plan(
        self, messages: Sequence[EmailMessage]
    ) -> tuple[list[PlannedRequest], list[SendResult]]:
        """Group sendable messages into request bodies; return them and the local rejections."""
        groups: dict[
            tuple[EmailContent, Address | None], list[tuple[EmailMessage, dict[str, Any]]]
        ] = {}
        rejected: list[SendResult] = []
        for message in messages:
            args = _custom_args(message)
            problem = _problem(message, args)
            if problem is not None:
                code, text = problem
                rejected.append(
                    SendResult(message.message_id, Outcome.PERMANENT, error_code=code, error=text)
                )
                continue
            content, personalization = _personalize(message, args)
            reply_to = None if message.reply_to == message.sender else message.reply_to
            groups.setdefault((content, reply_to), []).append((message, personalization))
        requests: list[PlannedRequest] = []
        for (content, reply_to), members in groups.items():
            for chunk in _chunks(members, self.max_batch):
                requests.append(self._request(content, reply_to, chunk))
        return requests, rejected

    def _request(
        self,
        content: EmailContent,
        reply_to: Address | None,
        chunk: list[tuple[EmailMessage, dict[str, Any]]],
    ) -> PlannedRequest:
        parts = [("text/plain", content.text), ("text/html", content.html)]
        body: dict[str, Any] = {
            "personalizations": [p for _, p in chunk],
            # Required at the message level even though every personalization overrides it.
            "from": _address(chunk[0][0].sender),
            "subject": content.subject,
            "content": [{"type": t, "value": v} for t, v in parts if v],
            "mail_settings": {"sandbox_mode": {"enable": self.config.sandbox_mode}},
            "tracking_settings": {
                "click_tracking": {"enable": False, "enable_text": False},
                "subscription_tracking": {"enable": False},
                "open_tracking": {"enable": self.config.open_tracking},
            },
        }
        if reply_to is not None:
            body["reply_to"] = _address(reply_to)
        return PlannedRequest(body=body, message_ids=tuple(m.message_id for m, _ in chunk))

    def _post(self, request: PlannedRequest) -> list[SendResult]:
        def every(outcome: Outcome, **kw: Any) -> list[SendResult]:
            return [SendResult(mid, outcome, **kw) for mid in request.message_ids]

        try:
            response = self._client.client.mail.send.post(
                request_body=request.body, timeout=self.config.timeout
            )
        except HTTPError as exc:
            outcome, detail = self._http_error(exc)
            return every(outcome, **detail)
        except urllib.error.URLError as exc:
            # urllib raises URLError only while connecting or writing the request (refused,
            # DNS, TLS handshake, connect timeout): SendGrid cannot have a complete request.
            return every(Outcome.TRANSIENT, error_code="connection_error", error=str(exc.reason))
        except TimeoutError as exc:
            # Raised while waiting for or reading the answer: the request was written.
            return every(Outcome.UNKNOWN, error_code="timeout", error=str(exc) or "timed out")
        except Exception as exc:  # any other failure after sending; when in doubt, do not resend
            return every(Outcome.UNKNOWN, error_code="no_answer", error=repr(exc))
        provider_id = response.headers.get("X-Message-Id")
        return every(Outcome.ACCEPTED, provider_id=provider_id)

    def _http_error(self, exc: HTTPError) -> tuple[Outcome, dict[str, Any]]:
        status = int(exc.status_code)
        detail: dict[str, Any] = {"error_code": f"http_{status}", "error": _error_text(exc)}
        if status == 504:
            # A gateway gave up waiting for SendGrid's servers, which may have taken the
            # request: like our own timeout, the messages may have gone out.
            return Outcome.UNKNOWN, detail
        if status == 429 or status >= 500 or status == 408:
            # 408: the server gave up before it had the whole request, so nothing was sent.
            detail["retry_after"] = _retry_after(exc.headers, self._clock())
            return Outcome.TRANSIENT, detail
        if 400 <= status < 500:
            return Outcome.PERMANENT, detail
        return Outcome.UNKNOWN, detail  # 1xx/3xx: not an answer Mail Send gives


def _problem(message: EmailMessage, args: dict[str, str]) -> tuple[str, str] | None:
    """Why SendGrid would reject this message on its own, or None."""
    for role, addr in (("to", message.to), ("sender", message.sender)):
        if not _ADDRESS.fullmatch(addr.email):
            return "invalid_address", f"{role} address {addr.email!r} is not a valid address"
    if message.reply_to is not None and not _ADDRESS.fullmatch(message.reply_to.email):
        return "invalid_address", f"reply-to address {message.reply_to.email!r} is not valid"
    if not message.content.subject or not (message.content.text or message.content.html):
        return "empty_content", "an email needs a subject and a text or HTML body"
    for name, value in message.headers.items():
        if name.lower() in RESERVED_HEADERS:
            return "reserved_header", f"SendGrid does not allow setting the {name} header"
        one_line = value.isascii() and "\r" not in value and "\n" not in value
        if not _HEADER_NAME.fullmatch(name) or not one_line:
            return "invalid_header", f"header {name!r} must be ASCII on one line"
    if _json_size(args) > MAX_CUSTOM_ARGS_BYTES:
        return "custom_args_too_large", f"custom args exceed {MAX_CUSTOM_ARGS_BYTES} bytes"
    return None


def _personalize(
    message: EmailMessage, args: dict[str, str]
) -> tuple[EmailContent, dict[str, Any]]:
    """The content this message is sent with, and its personalization object."""
    to = _address(message.to)
    if "name" in to:  # SendGrid rejects ';' and ',' in recipient names
        to["name"] = " ".join(re.sub(r"[;,]", " ", to["name"]).split())
        if not to["name"]:
            del to["name"]
    p: dict[str, Any] = {"to": [to], "from": _address(message.sender)}
    content = message.content
    subs = dict(message.substitutions)
    if subs and not _sendgrid_can_substitute(subs):
        rendered = render_email(message)
        content = EmailContent(subject=rendered.subject, text=rendered.text, html=rendered.html)
        subs = {}
    if message.headers:
        p["headers"] = dict(message.headers)
    if subs:
        p["substitutions"] = subs
    p["custom_args"] = args
    return content, p


def _sendgrid_can_substitute(subs: dict[str, str]) -> bool:
    if not _safe_keys(tuple(sorted(subs))) or _json_size(subs) > MAX_SUBSTITUTIONS_BYTES:
        return False
    pattern = _key_pattern(tuple(sorted(subs)))
    return not any(pattern.search(v) for v in subs.values())  # nested keys fail at SendGrid


@lru_cache(maxsize=256)
def _safe_keys(keys: tuple[str, ...]) -> bool:
    if any(not k or re.search(r"[\s<>&]", k) for k in keys):
        return False
    # With one key inside another the result depends on SendGrid's replacement order.
    return not any(a != b and a in b for a in keys for b in keys)


@lru_cache(maxsize=256)
def _key_pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(k) for k in keys))


def _custom_args(message: EmailMessage) -> dict[str, str]:
    args = {str(k): str(v) for k, v in message.custom_args.items()}
    args[ARG_MESSAGE_ID] = str(message.message_id)
    args[ARG_INVITATION_ID] = str(message.invitation_id)
    args[ARG_STEP] = str(message.step.value)
    return args


def _chunks(
    members: list[tuple[EmailMessage, dict[str, Any]]], size: int
) -> list[list[tuple[EmailMessage, dict[str, Any]]]]:
    """Cut into requests of at most ``size``, no address twice in one request.

    The n-th message to an address goes into the n-th layer; layers are cut separately.
    """
    layers: list[list[tuple[EmailMessage, dict[str, Any]]]] = []
    seen: dict[str, int] = {}
    for member in members:
        key = member[0].to.email.lower()
        n = seen.get(key, 0)
        seen[key] = n + 1
        if n == len(layers):
            layers.append([])
        layers[n].append(member)
    return [layer[i : i + size] for layer in layers for i in range(0, len(layer), size)]


def _address(addr: Address) -> dict[str, str]:
    return {"email": addr.email, "name": addr.name} if addr.name else {"email": addr.email}


def _json_size(value: Mapping[str, str]) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON: how we read SendGrid's 10,000-byte limits."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def _error_text(exc: HTTPError) -> str:
    """The messages of SendGrid's ``{"errors": [{"message", "field"}]}``, else the raw body."""
    raw = exc.body if isinstance(exc.body, bytes) else str(exc.body or "").encode()
    try:
        errors = json.loads(raw.decode("utf-8"))["errors"]
        texts = []
        for e in errors:
            where = e.get("field")
            texts.append(f"{e['message']} ({where})" if where and where != "null" else e["message"])
        if texts:
            return "; ".join(texts)
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    text = raw.decode("utf-8", "replace").strip()[:500]
    return text or f"HTTP {exc.status_code} {exc.reason}"


def _retry_after(headers: Any, now: float) -> float | None:
    """Seconds to wait: ``X-RateLimit-Reset`` (epoch seconds), else ``Retry-After``."""
    if headers is None:
        return None
    reset = headers.get("X-RateLimit-Reset")
    if reset is not None:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            pass
    retry = headers.get("Retry-After")
    if retry is None:
        return None
    try:
        return max(0.0, float(retry))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(retry).timestamp() - now)
    except (TypeError, ValueError):
        return None
