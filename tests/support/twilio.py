"""A local stand-in for Twilio's Messages API, and webhooks signed the way Twilio signs them
(the SDK's own RequestValidator), for the SMS tests."""

from __future__ import annotations

import itertools
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from twilio.request_validator import RequestValidator
from werkzeug import Request, Response
from werkzeug.test import TestResponse

from app.clock import FrozenClock
from tests.support.app import make_app

ACCOUNT = "AC" + "a" * 32
TOKEN = "auth-token-0123456789"
SERVICE = "MG" + "b" * 32
OUR_NUMBER = "+15005550006"
PUBLIC = "http://sounding.test"
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"


def twilio_settings(server: HTTPServer) -> dict[str, Any]:
    return {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": SERVICE,
        "TWILIO_BASE_URL": server.url_for("/"),
    }


class TwilioStandIn:
    """Answers ``POST .../Messages.json`` like Twilio (201 and a new SID), or with the error
    queued in ``errors``; keeps every request's form."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.requests: list[dict[str, str]] = []
        self.usernames: list[str | None] = []
        """Who authenticated each request (the account SID, or an API key's SID)."""
        self.errors: list[tuple[int, int, str]] = []
        self.during_send: Callable[[dict[str, str], str], None] | None = None
        """Called with the form and the new SID before answering (a callback that overtakes)."""
        self._sids = (f"SM{n:032x}" for n in itertools.count(1))
        server.expect_request(MESSAGES_PATH, method="POST").respond_with_handler(self._answer)

    def _answer(self, request: Request) -> Response:
        self.requests.append(dict(request.form))
        self.usernames.append(request.authorization.username if request.authorization else None)
        if self.errors:
            status, code, text = self.errors.pop(0)
            body = {"code": code, "message": text, "status": status}
            return Response(json.dumps(body), status=status, content_type="application/json")
        sid = next(self._sids)
        if self.during_send is not None:
            self.during_send(self.requests[-1], sid)
        body = {"sid": sid, "status": "accepted", "account_sid": ACCOUNT, "num_segments": "1"}
        return Response(json.dumps(body), status=201, content_type="application/json")


def make_twilio_app(
    database_url: str, clock: FrozenClock, server: HTTPServer, redis_url: str | None = None
) -> Iterator[Flask]:
    """The app texting through the real twilio SDK to the stand-in at ``server``."""
    yield from make_app(database_url, clock, redis_url, **twilio_settings(server))


def sign(url: str, params: dict[str, str], token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_signed(
    client: FlaskClient,
    path: str,
    params: dict[str, str],
    *,
    signature: str | None = None,
    signed_url: str | None = None,
) -> TestResponse:
    """POST ``params`` as a form to ``path`` (which may carry a query string), signed for the
    public URL unless another signature or URL is given."""
    if signature is None:
        signature = sign(signed_url or f"{PUBLIC}{path}", params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


_sids = (f"SM{n:032x}" for n in itertools.count(0xE000))


def inbound(from_number: str, body: str, **extra: str) -> dict[str, str]:
    """The form of an incoming-message webhook, with a fresh MessageSid."""
    sid = next(_sids)
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": ACCOUNT,
        "MessagingServiceSid": SERVICE,
        "From": from_number,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        **extra,
    }


def text_back(response: TestResponse) -> str | None:
    """The text a TwiML answer sends back, or None for an empty ``<Response/>``."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data(as_text=True))  # noqa: S314 - our own TwiML
    assert root.tag == "Response"
    messages = root.findall("Message")
    assert len(messages) <= 1
    return messages[0].text if messages else None
