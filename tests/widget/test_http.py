"""The widget endpoints' HTTP manners: CORS only for allowed origins, the preflight, the
script's caching headers (ETag, 304, gzip), and the rate limit per key and client IP."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis

from app.clock import FrozenClock
from tests.support.api import Api, error_of, issue_test_key, row_counts
from tests.support.app import make_app
from tests.support.factories import new_survey
from tests.support.widget import ORIGIN, USER, Widget, make_key
from tests.support.widget_page import SCRIPT

BUDGET_GZIP = 6 * 1024


def preflight(app: Flask, origin: str | None, path: str = "check"):
    headers = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    if origin:
        headers["Origin"] = origin
    return app.test_client().options(f"/widget/v1/{path}", headers=headers)


def test_preflight_answers_allowed_origins_only(app: Flask, api: Api) -> None:
    key = make_key(api, ORIGIN, "http://localhost:3000")
    for path in ("check", "events", "dismissals", "responses"):
        ok = preflight(app, ORIGIN, path)
        assert ok.status_code == 204, path
        assert ok.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert ok.headers["Access-Control-Allow-Methods"] == "POST"
        assert ok.headers["Access-Control-Allow-Headers"] == "Content-Type"
        assert int(ok.headers["Access-Control-Max-Age"]) > 0
        assert "Origin" in ok.headers["Vary"]
        assert "Access-Control-Allow-Credentials" not in ok.headers
    assert preflight(app, "http://localhost:3000").status_code == 204
    for origin in ("https://evil.example", "http://app.example.com", "null", None):
        refused = preflight(app, origin)
        assert refused.status_code == 403, origin
        assert "Access-Control-Allow-Origin" not in refused.headers
        assert error_of(refused)["code"] == "origin_not_allowed"
    api.post(f"/api/v1/widget/keys/{key.id}/revoke")
    assert preflight(app, ORIGIN).status_code == 403  # a revoked key allows nobody


def test_posts_from_other_origins_get_nothing(app: Flask, api: Api) -> None:
    key = make_key(api)
    make_key(api, "https://other-product.example", name="other")
    new_survey(api)
    before = row_counts(app)
    for origin in ("https://evil.example", "https://other-product.example", "null"):
        response = Widget(app.test_client(), key, origin=origin).check()
        assert response.status_code == 403, origin
        assert "Access-Control-Allow-Origin" not in response.headers
        assert error_of(response) == {
            "code": "origin_not_allowed",
            "field": "Origin",
            "message": error_of(response)["message"],
        }
    assert row_counts(app) == before
    # no Origin at all: not a web page (a server, curl); the signature still decides
    server_side = Widget(app.test_client(), key, origin=None).check()
    assert server_side.status_code == 200
    assert "Access-Control-Allow-Origin" not in server_side.headers
    assert server_side.get_json()["survey"] is not None
    # an allowed page sees every answer, errors included (so the widget does not retry them)
    wrong = Widget(app.test_client(), key).post(
        "check", {"key": key.public, "user": USER, "signature": "ab" * 32}
    )
    assert wrong.status_code == 403
    assert wrong.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in wrong.headers["Vary"]


def test_script_is_served_with_caching_headers(app: Flask) -> None:
    client = app.test_client()
    plain = client.get("/widget/v1/sounding.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert plain.data == SCRIPT.read_bytes()
    assert plain.headers["Cache-Control"] == "public, max-age=300"
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert "Content-Encoding" not in plain.headers
    etag = plain.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = client.get(
        "/widget/v1/sounding.js", headers={"If-None-Match": etag, "Accept-Encoding": "identity"}
    )
    assert (again.status_code, again.data) == (304, b"")
    assert again.headers["ETag"] == etag
    stale = client.get(
        "/widget/v1/sounding.js", headers={"If-None-Match": '"old"', "Accept-Encoding": "identity"}
    )
    assert stale.status_code == 200 and stale.data == plain.data

    zipped = client.get("/widget/v1/sounding.js", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] != etag
    print(
        f"\nwidget/sounding.js as served: {len(plain.data):,} bytes, {len(zipped.data):,} gzipped"
    )
    assert len(zipped.data) <= BUDGET_GZIP
    assert (
        client.get(
            "/widget/v1/sounding.js",
            headers={"If-None-Match": zipped.headers["ETag"], "Accept-Encoding": "gzip"},
        ).status_code
        == 304
    )
    head = client.head("/widget/v1/sounding.js", headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200 and head.data == b""
    assert client.get("/widget/v1/other.js").status_code == 404


@pytest.fixture
def limited_app(database_url: str, clock: FrozenClock) -> Iterator[Flask]:
    yield from make_app(database_url, clock, WIDGET_RATE_LIMIT="3/minute", TRUSTED_PROXY_HOPS=1)


@pytest.fixture
def limited_redis_app(database_url: str, redis_url: str, clock: FrozenClock) -> Iterator[Flask]:
    connection = Redis.from_url(redis_url)
    connection.flushdb()
    yield from make_app(database_url, clock, WIDGET_RATE_LIMIT="3/minute", REDIS_URL=redis_url)
    connection.flushdb()


def _limited(app: Flask, forwarded: bool) -> None:
    api = Api(app.test_client(), issue_test_key(app, "admin"))
    key = make_key(api)
    new_survey(api)
    widget = Widget(app.test_client(), key)
    client_a = {"X-Forwarded-For": "198.51.100.7"} if forwarded else {}
    for _ in range(3):
        assert widget.check(**client_a).status_code == 200
    over = widget.check(**client_a)
    assert over.status_code == 429
    assert error_of(over)["code"] == "rate_limited"
    assert int(over.headers["Retry-After"]) >= 1
    assert over.headers["Access-Control-Allow-Origin"] == ORIGIN  # the widget backs off
    # bad requests count too, and are refused before anything is read
    assert widget.post("responses", {"key": key.public}, **client_a).status_code == 429
    stranger = Widget(app.test_client(), key, origin="https://evil.example").check(**client_a)
    assert stranger.status_code == 429
    assert "Access-Control-Allow-Origin" not in stranger.headers
    if forwarded:
        # another client behind the trusted proxy has its own allowance
        assert widget.check(**{"X-Forwarded-For": "203.0.113.9"}).status_code == 200
        # a forged address in front of the proxy's does not get a new one
        forged = {"X-Forwarded-For": "1.2.3.4, 198.51.100.7"}
        assert widget.check(**forged).status_code == 429


def test_rate_limit_per_key_and_client_in_memory(limited_app: Flask) -> None:
    _limited(limited_app, forwarded=True)


def test_rate_limit_shared_through_redis(limited_redis_app: Flask) -> None:
    _limited(limited_redis_app, forwarded=False)


def test_a_bad_rate_limit_setting_stops_the_app_at_start(tmp_path: Path) -> None:
    from app.config import ConfigError, build

    with pytest.raises(ConfigError, match="WIDGET_RATE_LIMIT"):
        build({"SOUNDING_ENV": "test", "WIDGET_RATE_LIMIT": "lots"}, str(tmp_path))
