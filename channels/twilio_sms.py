"""SMS through Twilio's Programmable Messaging API, with the official ``twilio`` SDK.

One ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` per message (Twilio has no batch
send). Each answer becomes a :class:`~channels.base.SendResult`:

==========================================  ===========  =======================================
what happened                               outcome      details
==========================================  ===========  =======================================
2xx                                         ACCEPTED     ``provider_id`` = the Message SID
400 21610 (recipient replied STOP)          PERMANENT    ``suppress="sms_stop"``
400 21211/21217/21614/21635 (bad number)    PERMANENT    ``suppress="sms_invalid"``
other non-2xx but 429 (21408, 20003...)     PERMANENT    ``error_code`` = Twilio's code
429, 5xx                                    TRANSIENT    ``retry_after`` from Retry-After
connection refused, DNS failure,            TRANSIENT    nothing reached Twilio
connect timeout, certificate rejected
read timeout, connection lost after the     UNKNOWN      the message may have gone out
request was written, anything unexpected
==========================================  ===========  =======================================

After a TRANSIENT or UNKNOWN result the rest of the batch is not attempted (Twilio is down,
slow or rate limiting): those messages come back TRANSIENT ("not attempted") with the same
``retry_after``, so one bad minute costs one uncertain message, not a hundred.

For tests, ``base_url`` sends the SDK's requests to another host (e.g. a local HTTP server):
the SDK's documented extension point, a custom ``HttpClient`` subclass, rewrites scheme and
host and keeps the path. The same subclass keeps the last response per thread, because the
SDK's ``TwilioRestException`` does not carry the response headers (Retry-After).
"""

from __future__ import annotations

import math
import ssl
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError

from channels.base import Outcome, SendResult, SmsMessage
from channels.twilio_codes import is_transient_status, send_suppression


class _HttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no type hints
    """TwilioHttpClient that may rewrite the API host and remembers the last response."""

    def __init__(self, *, base_url: str | None, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._base = urlsplit(base_url.rstrip("/")) if base_url else None
        self._local = threading.local()

    def _rewrite(self, url: str) -> str:
        if self._base is None:
            return url
        parts = urlsplit(url)
        return urlunsplit(
            (self._base.scheme, self._base.netloc, self._base.path + parts.path, parts.query, "")
        )

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        self._local.response = None
        response = super().request(
            method,
            self._rewrite(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        self._local.response = response
        return response

    @property
    def last_response(self) -> Response | None:
        return getattr(self._local, "response", None)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value or not value.strip():
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _causes(exc: BaseException, depth: int = 0) -> Iterator[BaseException]:
    """The exception and everything wrapped in it (args, urllib3 ``reason``, cause, context)."""
    yield exc
    if depth > 6:
        return
    nested: list[object] = [a for a in exc.args if isinstance(a, BaseException)]
    nested += [getattr(exc, "reason", None), exc.__cause__, exc.__context__]
    for inner in nested:
        if isinstance(inner, BaseException) and inner is not exc:
            yield from _causes(inner, depth + 1)


def _never_reached_twilio(exc: requests.RequestException) -> bool:
    """True when the connection was never established, so nothing can have been sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError):
        return False  # ReadTimeout and the like: the request may have been processed
    # urllib3's NewConnectionError (refused, DNS) is a ConnectTimeoutError; a rejected
    # certificate fails the TLS handshake, before any byte of the request is written.
    return any(
        isinstance(e, ConnectTimeoutError | ssl.SSLCertVerificationError) for e in _causes(exc)
    )


class TwilioSmsChannel:
    """:class:`~channels.base.SmsChannel` over Twilio, built from plain configuration values."""

    name = "twilio_sms"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str | None = None,
        api_key_sid: str | None = None,
        api_key_secret: str | None = None,
        messaging_service_sid: str | None = None,
        from_number: str | None = None,
        status_callback: str | None = None,
        base_url: str | None = None,
        timeout: float = 15.0,
        max_batch: int = 100,
    ) -> None:
        """Authenticate with the Auth Token, or with an API key (SID and secret) instead.

        Send from ``messaging_service_sid`` (Twilio picks a sender from its pool), from
        ``from_number``, or from that number of the service's pool when both are given.
        ``status_callback`` is used for messages that do not carry their own.
        """
        if not account_sid:
            raise ValueError("account_sid is required")
        if api_key_sid or api_key_secret:
            if not (api_key_sid and api_key_secret) or auth_token:
                raise ValueError("give either auth_token, or api_key_sid and api_key_secret")
            username, password = api_key_sid, api_key_secret
        elif auth_token:
            username, password = account_sid, auth_token
        else:
            raise ValueError("auth_token (or api_key_sid and api_key_secret) is required")
        if not (messaging_service_sid or from_number):
            raise ValueError("messaging_service_sid or from_number is required")
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.max_batch = max_batch
        self._sender: dict[str, str] = {}
        if messaging_service_sid:
            self._sender["messaging_service_sid"] = messaging_service_sid
        if from_number:
            self._sender["from_"] = from_number
        self._status_callback = status_callback
        self._http = _HttpClient(base_url=base_url, timeout=timeout)
        self._client = Client(username, password, account_sid=account_sid, http_client=self._http)

    def send(self, messages: Sequence[SmsMessage]) -> list[SendResult]:
        """Send each message with its own API call; one result per message, in order."""
        results: list[SendResult] = []
        halted: SendResult | None = None
        for message in messages:
            if halted is not None:
                results.append(
                    SendResult(
                        message.message_id,
                        Outcome.TRANSIENT,
                        error=f"not attempted: an earlier message in the batch got {halted.error}",
                        retry_after=halted.retry_after,
                    )
                )
                continue
            result = self._send_one(message)
            results.append(result)
            if result.outcome in (Outcome.TRANSIENT, Outcome.UNKNOWN):
                halted = result
        return results

    def close(self) -> None:
        """Close the pooled HTTP connections (the channel can still send afterwards)."""
        if self._http.session is not None:
            self._http.session.close()

    def _send_one(self, message: SmsMessage) -> SendResult:
        params: dict[str, Any] = {"to": message.to, "body": message.body, **self._sender}
        callback = message.status_callback or self._status_callback
        if callback:
            params["status_callback"] = callback
        try:
            created = self._client.messages.create(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            return self._rest_error(message, exc)
        except requests.RequestException as exc:
            outcome = Outcome.TRANSIENT if _never_reached_twilio(exc) else Outcome.UNKNOWN
            return SendResult(message.message_id, outcome, error=_describe(exc))
        except Exception as exc:
            response = self._http.last_response
            if response is not None and 200 <= response.status_code < 300:
                # Twilio took it but the body could not be read: accepted, SID unknown.
                return SendResult(message.message_id, Outcome.ACCEPTED, error=_describe(exc))
            return SendResult(message.message_id, Outcome.UNKNOWN, error=_describe(exc))
        return SendResult(message.message_id, Outcome.ACCEPTED, provider_id=created.sid)

    def _rest_error(
        self, message: SmsMessage, exc: TwilioRestException | TwilioServiceException
    ) -> SendResult:
        response = self._http.last_response
        status = response.status_code if response is not None else _int(exc.status) or 0
        # The SDK puts the HTTP status in ``code`` when the body has no Twilio code.
        code = _int(exc.code)
        code = code if code is not None and code >= 10000 else None
        text = (exc.msg if isinstance(exc, TwilioRestException) else exc.title) or ""
        error = f"HTTP {status}: {text}".strip()
        error_code = str(code) if code is not None else None
        if is_transient_status(status):
            return SendResult(
                message.message_id,
                Outcome.TRANSIENT,
                error_code=error_code,
                error=error,
                retry_after=parse_retry_after(_header(response, "Retry-After")),
            )
        return SendResult(
            message.message_id,
            Outcome.PERMANENT,
            error_code=error_code,
            error=error,
            suppress=send_suppression(code),
        )


def _header(response: Response | None, name: str) -> str | None:
    headers: Mapping[str, str] | None = response.headers if response is not None else None
    if not headers:
        return None
    for key, value in headers.items():  # case-insensitive whatever the mapping type
        if key.lower() == name.lower():
            return value
    return None


def _int(value: object) -> int | None:
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
