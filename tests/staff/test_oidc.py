"""Single sign-on: the real Authlib client against a local OpenID provider stand-in
(discovery, JWKS, a token endpoint that signs ID tokens with its own key)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from pytest_httpserver import HTTPServer

from app.db import db
from app.models import AuditEntry, StaffSession, StaffUser
from app.vocabulary import StaffRole
from tests.support.staff import app_with

CLIENT_ID, CLIENT_SECRET = "sounding-test", "s3cret-of-the-client"
SIGNING = RSAKey.generate_key(2048, parameters={"kid": "provider-key"})
FORGER = RSAKey.generate_key(2048, parameters={"kid": "provider-key"})


class Provider:
    """The stand-in: serves discovery and JWKS; each sign-in queues one token answer."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.issuer = server.url_for("/").rstrip("/")
        server.expect_request("/.well-known/openid-configuration").respond_with_json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )
        server.expect_request("/jwks").respond_with_json({"keys": [SIGNING.as_dict(private=False)]})

    def id_token(self, nonce: str, key: RSAKey = SIGNING, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "user-1",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "email": "sam@acme.example",
            "email_verified": True,
            "name": "Sam Single",
            **claims,
        }
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode({"alg": "RS256", "kid": "provider-key"}, body, key)

    def answer(self, id_token: str) -> None:
        self.server.expect_oneshot_request("/token", method="POST").respond_with_json(
            {
                "access_token": "at-1",
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )


@pytest.fixture
def provider(httpserver: HTTPServer) -> Provider:
    return Provider(httpserver)


@pytest.fixture
def sso_app(database_url: str, clock: Any, provider: Provider) -> Iterator[Flask]:
    with app_with(
        database_url,
        clock,
        OIDC_ISSUER=provider.issuer,
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_ALLOWED_DOMAINS="acme.example, acme-labs.example",
        OIDC_ROLE_CLAIM="sounding_role",
        OIDC_DEFAULT_ROLE="analyst",
        OIDC_PROVIDER_NAME="Acme SSO",
    ) as app:
        yield app


def start(client: FlaskClient) -> dict[str, str]:
    """Open the SSO button; the parameters of the redirect to the provider."""
    response = client.get("/dashboard/sign-in/sso?next=/dashboard/responses")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {k: v[0] for k, v in query.items()}


def finish(client: FlaskClient, state: str) -> Any:
    return client.get(f"/dashboard/sign-in/sso/callback?code=the-code&state={state}")


def test_the_sign_in_page_offers_sso(sso_app: Flask) -> None:
    html = sso_app.test_client().get("/dashboard/sign-in").get_data(as_text=True)
    assert "Sign in with Acme SSO" in html


def test_a_first_sso_sign_in_provisions_the_staff_member(
    sso_app: Flask, provider: Provider
) -> None:
    client = sso_app.test_client()
    params = start(client)
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == "http://sounding.test/dashboard/sign-in/sso/callback"
    assert "openid" in params["scope"] and params["nonce"]
    provider.answer(provider.id_token(params["nonce"], sounding_role="csm"))
    done = finish(client, params["state"])
    assert done.status_code == 302, done.get_data(as_text=True)
    assert done.headers["Location"] == "/dashboard/responses"
    assert client.get("/dashboard/").status_code == 200
    # The token request carried the code and our client's credentials.
    (token_request, _), *_ = [(r, s) for r, s in provider.server.log if r.path == "/token"]
    assert token_request.form["code"] == "the-code"
    assert token_request.form["grant_type"] == "authorization_code"
    assert token_request.authorization is not None
    assert token_request.authorization.username == CLIENT_ID
    with sso_app.app_context():
        staff = db.session.query(StaffUser).one()
        assert (staff.email, staff.name, staff.role) == (
            "sam@acme.example",
            "Sam Single",
            StaffRole.CSM,
        )
        assert staff.password_hash is None
        assert db.session.query(StaffSession).one().method == "sso"
        assert db.session.query(AuditEntry).filter_by(action="staff.created").one().via == "sso"


def test_without_a_role_claim_the_default_role(sso_app: Flask, provider: Provider) -> None:
    client = sso_app.test_client()
    params = start(client)
    provider.answer(provider.id_token(params["nonce"]))
    assert finish(client, params["state"]).status_code == 302
    with sso_app.app_context():
        assert db.session.query(StaffUser).one().role == StaffRole.ANALYST


def _refused(sso_app: Flask, client: FlaskClient, state: str, words: str) -> None:
    response = finish(client, state)
    assert response.status_code == 403, response.get_data(as_text=True)
    assert words in response.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302
    with sso_app.app_context():
        assert db.session.query(StaffUser).count() == 0
        assert db.session.query(StaffSession).count() == 0
        assert db.session.query(AuditEntry).filter_by(action="staff.sign_in_failed").count() == 1


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("forged signature", "could not be verified"),
        ("another audience", "could not be verified"),
        ("expired", "could not be verified"),
        ("another issuer", "could not be verified"),
        ("domain not allowed", "Accounts at evil.example may not sign in here."),
        ("email not verified", "not verified"),
    ],
)
def test_bad_id_tokens_are_refused(
    sso_app: Flask, provider: Provider, case: str, words: str
) -> None:
    client = sso_app.test_client()
    params = start(client)
    nonce = params["nonce"]
    tokens = {
        "forged signature": lambda: provider.id_token(nonce, key=FORGER),
        "another audience": lambda: provider.id_token(nonce, aud="someone-else"),
        "expired": lambda: provider.id_token(
            nonce, iat=int(time.time()) - 3600, exp=int(time.time()) - 1800
        ),
        "another issuer": lambda: provider.id_token(nonce, iss="https://evil.example"),
        "domain not allowed": lambda: provider.id_token(nonce, email="mallory@evil.example"),
        "email not verified": lambda: provider.id_token(nonce, email_verified=False),
    }
    provider.answer(tokens[case]())
    _refused(sso_app, client, params["state"], words)


def test_a_replayed_nonce_is_refused(sso_app: Flask, provider: Provider) -> None:
    """An ID token minted for one sign-in cannot be used for another."""
    first = sso_app.test_client()
    earlier = start(first)
    replayed = provider.id_token(earlier["nonce"])
    client = sso_app.test_client()
    params = start(client)
    assert params["nonce"] != earlier["nonce"]
    provider.answer(replayed)
    _refused(sso_app, client, params["state"], "could not be verified")


def test_a_replayed_callback_is_refused(sso_app: Flask, provider: Provider) -> None:
    client = sso_app.test_client()
    params = start(client)
    provider.answer(provider.id_token(params["nonce"]))
    assert finish(client, params["state"]).status_code == 302
    provider.answer(provider.id_token(params["nonce"]))
    again = finish(client, params["state"])  # the state was used up
    assert again.status_code == 403


def test_a_deactivated_staff_member_cannot_sso(
    sso_app: Flask, provider: Provider, clock: Any
) -> None:
    with sso_app.app_context():
        db.session.add(
            StaffUser(
                email="sam@acme.example",
                name="Sam",
                role=StaffRole.CSM,
                created_at=clock.now(),
                deactivated_at=clock.now(),
            )
        )
        db.session.commit()
    client = sso_app.test_client()
    params = start(client)
    provider.answer(provider.id_token(params["nonce"]))
    response = finish(client, params["state"])
    assert response.status_code == 403
    assert "deactivated" in response.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302
