"""A local stand-in for SendGrid's Mail Send API (pytest-httpserver behind the real SDK) and
Event Webhook batches signed the way SendGrid signs them, for the email tests."""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SEND = "/v3/mail/send"


def sendgrid_settings(httpserver: HTTPServer, **more: Any) -> dict[str, Any]:
    """Settings that send email through the SendGrid channel to ``httpserver``."""
    return {
        "EMAIL_BACKEND": "sendgrid",
        "SENDGRID_API_KEY": "SG.test-key",
        "SENDGRID_HOST": httpserver.url_for("").rstrip("/"),
        **more,
    }


def accept_all(httpserver: HTTPServer, prefix: str = "xmsg-") -> None:
    """Answer every send with 202 and a new ``X-Message-Id`` (``prefix`` 1, 2, ...), as
    SendGrid does."""
    counter = itertools.count(1)

    def handler(request: Request) -> Response:
        return Response("", status=202, headers={"X-Message-Id": f"{prefix}{next(counter)}"})

    httpserver.expect_request(SEND, method="POST").respond_with_handler(handler)


def bodies(httpserver: HTTPServer) -> list[dict[str, Any]]:
    """The JSON body of every request the stand-in received."""
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def new_key() -> ec.EllipticCurvePrivateKey:
    """A webhook signing key pair, made here."""
    return ec.generate_private_key(ec.SECP256R1())


def shown_public_key(private: ec.EllipticCurvePrivateKey) -> str:
    """The verification key as SendGrid shows it: base64 DER, no PEM armour."""
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def sign(private: ec.EllipticCurvePrivateKey, timestamp: str, body: bytes) -> str:
    """What SendGrid does: ECDSA P-256 / SHA-256 over timestamp + raw body, base64 DER."""
    der = private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(der).decode()
