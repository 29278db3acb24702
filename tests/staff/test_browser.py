"""Staff sign-in in Debian's headless Chromium against the real app on a loopback port: a
password, a magic link, the OpenID provider stand-in; an invited CSM who sets a password; a
revoked key refused at once. Every staff page passes axe-core without a serious or critical
violation, on a phone's width and a laptop's."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from joserfc import jwt
from joserfc.jwk import RSAKey
from playwright.sync_api import Browser, Page
from pytest_httpserver import HTTPServer
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.db import db
from app.models import OutboxMessage
from tests.support.browser import chromium, watch
from tests.support.staff import STAFF_PASSWORD, app_with, make_staff

pytestmark = pytest.mark.slow

ADA = "ada@acme.example"
LINK = re.compile(r"https?://[^/\s]+(/dashboard/\S+)")
AXE = Axe()
SIGNING = RSAKey.generate_key(2048, parameters={"kid": "k"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Live:
    def __init__(self, app: Flask, base: str) -> None:
        self.app, self.base = app, base

    def mailed_link(self, to: str) -> str:
        with self.app.app_context():
            message = (
                db.session.query(OutboxMessage)
                .filter_by(recipient=to)
                .order_by(OutboxMessage.id.desc())
                .first()
            )
            assert message is not None
            match = LINK.search(message.text)
            assert match
            return self.base + match.group(1)

    def api(self, key: str, path: str) -> int:
        answer = requests.get(
            self.base + path, headers={"Authorization": f"Bearer {key}"}, timeout=10
        )
        return answer.status_code


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


class Provider:
    """An OpenID provider stand-in whose /authorize signs the user in at once."""

    def __init__(self, server: HTTPServer) -> None:
        self.issuer = server.url_for("/").rstrip("/")
        self.nonce = ""
        server.expect_request("/.well-known/openid-configuration").respond_with_json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )
        server.expect_request("/jwks").respond_with_json({"keys": [SIGNING.as_dict(private=False)]})
        server.expect_request("/authorize").respond_with_handler(self.authorize)
        server.expect_request("/token", method="POST").respond_with_handler(self.token)

    def authorize(self, request: Request) -> Response:
        self.nonce = request.args["nonce"]
        back = (
            request.args["redirect_uri"]
            + "?"
            + urlencode({"code": "c0de", "state": request.args["state"]})
        )
        return Response(status=302, headers={"Location": back})

    def token(self, request: Request) -> Response:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": "sounding",
            "sub": "u1",
            "iat": now,
            "exp": now + 300,
            "nonce": self.nonce,
            "email": "sam@acme.example",
            "email_verified": True,
            "name": "Sam Single",
            "role": "csm",
        }
        body = {
            "access_token": "at",
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": jwt.encode({"alg": "RS256", "kid": "k"}, claims, SIGNING),
        }
        return Response(json.dumps(body), content_type="application/json")


@pytest.fixture
def live(database_url: str, clock: Any, httpserver: HTTPServer) -> Iterator[Live]:
    provider = Provider(httpserver)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with app_with(
        database_url,
        clock,
        BASE_URL=base,
        OIDC_ISSUER=provider.issuer,
        OIDC_CLIENT_ID="sounding",
        OIDC_CLIENT_SECRET="secret",
        OIDC_ALLOWED_DOMAINS="acme.example",
        OIDC_ROLE_CLAIM="role",
        OIDC_PROVIDER_NAME="Acme SSO",
    ) as app:
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            yield Live(app, base)
        finally:
            server.shutdown()
            thread.join()
            server.server_close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(10000)
    log = watch(pg)
    yield pg
    try:
        assert log.script_errors == []
    finally:
        context.close()


def accessible(page: Page) -> None:
    """No serious or critical axe-core violation, and nothing wider than the window."""
    results = AXE.run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{page.url}: {bad}"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} overflows by {overflow}px"


def sign_in_with_password(page: Page, live: Live, email: str, password: str) -> None:
    page.goto(live.base + "/dashboard/sign-in")
    accessible(page)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))


def test_password_sign_in_and_every_staff_page(live: Live, page: Page, browser: Browser) -> None:
    make_staff(live.app, "admin", ADA)
    page.goto(live.base + "/dashboard/sign-in")
    page.get_by_label("Email").fill(ADA)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("That email and password")
    accessible(page)
    sign_in_with_password(page, live, ADA, STAFF_PASSWORD)
    assert "Signed in as Ada (admin)" in page.content()
    for path in (
        "/dashboard/staff",
        "/dashboard/staff/1",
        "/dashboard/api-keys",
        "/dashboard/audit-log",
        "/dashboard/account",
    ):
        page.goto(live.base + path)
        assert "Signed in as Ada" in page.content(), path
        accessible(page)
    phone = browser.new_context(viewport={"width": 375, "height": 740})
    try:
        small = phone.new_page()
        for path in ("/dashboard/sign-in", "/dashboard/sign-in/link", "/dashboard/password/forgot"):
            small.goto(live.base + path)
            accessible(small)
        sign_in_with_password(small, live, ADA, STAFF_PASSWORD)
        for path in ("/dashboard/staff", "/dashboard/api-keys", "/dashboard/audit-log"):
            small.goto(live.base + path)
            accessible(small)
    finally:
        phone.close()
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(re.compile(r"/dashboard/sign-in"))


def test_magic_link(live: Live, page: Page) -> None:
    make_staff(live.app, "analyst", "ann@acme.example", password=None)
    page.goto(live.base + "/dashboard/sign-in")
    page.get_by_role("link", name="Email me a sign-in link").click()
    accessible(page)
    page.get_by_label("Email").fill("ann@acme.example")
    page.get_by_role("button", name="Send the link").click()
    assert "a link is on its way" in page.get_by_role("status").inner_text()
    page.goto(live.mailed_link("ann@acme.example"))
    accessible(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    assert "Signed in as Ann (analyst)" in page.content()


def test_single_sign_on_through_the_provider(live: Live, page: Page) -> None:
    page.goto(live.base + "/dashboard/sign-in")
    page.get_by_role("link", name="Sign in with Acme SSO").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    assert "Signed in as Sam Single (csm)" in page.content()


def test_an_invited_csm_sets_a_password_and_signs_in(
    live: Live, page: Page, browser: Browser
) -> None:
    make_staff(live.app, "admin", ADA)
    sign_in_with_password(page, live, ADA, STAFF_PASSWORD)
    page.goto(live.base + "/dashboard/staff")
    page.get_by_label("Email").fill("carla@acme.example")
    page.get_by_label("Name").fill("Carla Jones")
    page.get_by_label("Role").select_option("csm")
    page.get_by_role("button", name="Send the invitation").click()
    assert "Invitation sent to carla@acme.example" in page.get_by_role("status").inner_text()
    accessible(page)
    carla = browser.new_context().new_page()
    carla.goto(live.mailed_link("carla@acme.example"))
    accessible(carla)
    carla.get_by_label("New password").fill("short")
    carla.get_by_role("button", name="Set my password and sign in").click()
    assert "Use 10 to 256 characters." in carla.content()
    accessible(carla)
    carla.get_by_label("New password").fill("carla's long secret")
    carla.get_by_role("button", name="Set my password and sign in").click()
    carla.wait_for_url(re.compile(r"/dashboard/$"))
    assert "Signed in as Carla Jones (csm)" in carla.content()
    assert carla.get_by_role("link", name="Staff").count() == 0
    carla.context.close()


def test_a_revoked_key_is_refused_at_the_next_call(live: Live, page: Page) -> None:
    make_staff(live.app, "admin", ADA)
    sign_in_with_password(page, live, ADA, STAFF_PASSWORD)
    page.goto(live.base + "/dashboard/api-keys")
    page.get_by_label("Key name").fill("Reporting script")
    page.get_by_role("button", name="Create a key").click()
    key = page.locator("#new-key").inner_text().strip()
    accessible(page)
    assert live.api(key, "/api/v1/surveys") == 200
    page.goto(live.base + "/dashboard/api-keys")
    assert key not in page.content()
    page.get_by_role("button", name="Revoke the key Reporting script").click()
    assert "is revoked" in page.get_by_role("status").inner_text()
    assert live.api(key, "/api/v1/surveys") == 401
