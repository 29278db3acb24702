"""Helpers the widget's HTTP and browser tests share: a widget key made through the admin
API, signatures, and posting to the widget endpoints as a page on an allowed origin would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.policy.widget import signature_of
from tests.support.api import Api

ORIGIN = "https://app.example.com"


@dataclass
class Key:
    id: int
    public: str
    secret: str

    def sign(self, user_id: str) -> str:
        return signature_of(self.secret, user_id)


def make_key(api: Api, *origins: str, name: str = "product") -> Key:
    response = api.post(
        "/api/v1/widget/keys", json={"name": name, "allowed_origins": list(origins or [ORIGIN])}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return Key(body["id"], body["public_key"], body["secret"])


USER: dict[str, Any] = {
    "userId": "u-42",
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "role": "decision_maker",
    "account": {"id": "acc-7", "name": "Analytical Engines Ltd"},
    "properties": {"plan": "pro"},
    "signedUpAt": "2024-03-01T09:00:00Z",
}


class Widget:
    """Posts to /widget/v1 like the script does, from ``origin``."""

    def __init__(self, client: FlaskClient, key: Key, origin: str | None = ORIGIN) -> None:
        self.client = client
        self.key = key
        self.origin = origin

    def post(self, path: str, body: Any, **headers: str) -> TestResponse:
        sent = dict(headers)
        if self.origin is not None:
            sent.setdefault("Origin", self.origin)
        return self.client.post(f"/widget/v1/{path}", json=body, headers=sent)

    def check(self, user: dict[str, Any] | None = None, **headers: str) -> TestResponse:
        user = user or USER
        body = {"key": self.key.public, "user": user, "signature": self.key.sign(user["userId"])}
        return self.post("check", body, **headers)

    def signed(self, user_id: str = "u-42", **fields: Any) -> dict[str, Any]:
        return {
            "key": self.key.public,
            "userId": user_id,
            "signature": self.key.sign(user_id),
            **fields,
        }

    def answer(
        self,
        display_id: str,
        score: int,
        comment: str | None = None,
        response_id: str | None = None,
        user_id: str = "u-42",
    ) -> TestResponse:
        return self.post(
            "responses",
            self.signed(
                user_id,
                display_id=display_id,
                response_id=response_id or str(uuid.uuid4()),
                score=score,
                comment=comment,
            ),
        )

    def dismiss(self, display_id: str, user_id: str = "u-42") -> TestResponse:
        return self.post("dismissals", self.signed(user_id, display_id=display_id))

    def event(self, name: str, user_id: str = "u-42") -> TestResponse:
        return self.post("events", self.signed(user_id, name=name))
