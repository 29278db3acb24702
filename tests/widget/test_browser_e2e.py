"""End to end: the real widget script in Debian's headless Chromium, on a host page served
from another origin, talking to the real Sounding app (served on a loopback port in a thread,
on the PostgreSQL test database, with the test's frozen clock).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from app.clock import FrozenClock
from app.db import db
from app.models import Invitation, Person, Response, WidgetDisplay
from tests.support.api import Api
from tests.support.browser import chromium, serving, wait_until, watch, widget_page
from tests.support.factories import new_survey, permissive_cadence
from tests.support.widget import Key, make_key
from tests.support.widget_page import (
    HOSTILE_CSS,
    STUB,
    HostHandler,
    LoopbackServer,
    W,
    host_styles,
    origin_of,
    serve,
    shadow,
    widget_styles,
)

pytestmark = pytest.mark.slow

FOLLOW_UPS = {
    "follow_up_promoter": "What do you like most about Acme?",
    "follow_up_passive": "What would make Acme a 10 for you?",
    "follow_up_detractor": "What disappointed you?",
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture
def sounding(app: Flask) -> Iterator[str]:
    """The real app on a loopback port (origin B)."""
    with serving(app) as base:
        yield base


@pytest.fixture(scope="module")
def host_server() -> Iterator[LoopbackServer]:
    """The product's pages (origin A, allowed for the key)."""
    yield from serve(HostHandler, {})


@pytest.fixture(scope="module")
def stranger_server() -> Iterator[LoopbackServer]:
    """Another site's pages (origin C, not allowed)."""
    yield from serve(HostHandler, {})


@pytest.fixture
def key(api: Api, host_server: LoopbackServer) -> Key:
    return make_key(api, origin_of(host_server))


@pytest.fixture
def survey(api: Api) -> dict[str, Any]:
    return new_survey(api, **FOLLOW_UPS)


class Product:
    """Serves host pages that embed the widget from the real Sounding."""

    def __init__(self, server: LoopbackServer, sounding: str, key: Key) -> None:
        self.server, self.sounding, self.key = server, sounding, key

    @property
    def origin(self) -> str:
        return origin_of(self.server)

    def html(self, user_id: str, *, signature: str | None = None, hostile: bool = False) -> str:
        user = {
            "userId": user_id,
            "email": f"{user_id}@globex.example",
            "name": "Dana Scully",
            "role": "decision_maker",
            "account": {"id": "globex", "name": "Globex"},
            "signedUpAt": "2024-03-01T09:00:00Z",
            "signature": signature or self.key.sign(user_id),
        }
        return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Globex dashboard</title>
<style>{HOSTILE_CSS if hostile else ""}</style></head>
<body><h1>Dashboard</h1><p id="host-p">Your product, your CSS.</p>
<button id="host-button">A host button</button><input id="host-input">
<script>{STUB}
Sounding.identify({json.dumps(user)});</script>
<script async src="{self.sounding}/widget/v1/sounding.js" data-key="{self.key.public}"></script>
</body></html>"""

    def url(self, path: str, user_id: str, **kw: Any) -> str:
        self.server.state[path] = self.html(user_id, **kw)
        return self.origin + path


@pytest.fixture
def product(host_server: LoopbackServer, sounding: str, key: Key) -> Product:
    host_server.state = {}
    return Product(host_server, sounding, key)


@pytest.fixture
def page(browser: Browser, sounding: str) -> Iterator[Page]:
    with widget_page(browser) as pg:
        yield pg


def in_db(app: Flask, query: Callable[[], Any], what: str) -> Any:
    """Wait until the server has recorded something (``query`` returns it)."""

    def probe() -> Any:
        with app.app_context():
            value = query()
            db.session.expunge_all()
            return value

    return wait_until(probe, timeout=5.0, what=what)


def check_answer(page: Page, go: Callable[[], Any]) -> Any:
    """Run ``go`` (a navigation) and return the survey Sounding answered the page's check with."""
    with page.expect_response(lambda r: r.url.endswith("/widget/v1/check")) as info:
        go()
    response = info.value
    return response.json()["survey"] if response.ok else response.status


def radio(page: Page, score: int) -> Any:
    return page.locator(W).get_by_role("radio", name=f"{score} out of 10", exact=True)


def focused(page: Page) -> str | None:
    return shadow(
        page,
        "root && root.activeElement && (root.activeElement.name === 's'"
        " ? 'radio ' + root.activeElement.value"
        " : root.activeElement.className || root.activeElement.tagName.toLowerCase())",
    )


def test_identify_answer_by_keyboard_thanks_and_not_asked_again(
    app: Flask, page: Page, product: Product, survey: dict[str, Any]
) -> None:
    shown = check_answer(page, lambda: page.goto(product.url("/", "u-42")))
    assert shown["survey_id"] == survey["id"]
    page.locator(f"{W} .w").wait_for(state="visible")
    assert page.locator(f"{W} legend").inner_text() == survey["question"]
    # keyboard only: the survey took focus (nothing on the page had it)
    assert focused(page) == "w"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert focused(page) == "radio 0"
    for _ in range(9):
        page.keyboard.press("ArrowRight")
    assert page.locator(W).get_by_text("What do you like most about Acme?").is_visible()
    page.keyboard.press("Enter")  # chooses 9: recorded at once
    assert focused(page) == "textarea"
    scored = in_db(app, lambda: db.session.query(Response).one_or_none(), "the score")
    assert (scored.score, scored.comment) == (9, None)
    page.keyboard.type("Fast support, clear reports")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # Send
    assert page.locator(W).get_by_role("status").inner_text() == "Thank you for your feedback!"
    answer = in_db(
        app,
        lambda: db.session.query(Response).filter(Response.comment.is_not(None)).one_or_none(),
        "the comment",
    )
    assert (answer.score, answer.comment, answer.channel.value) == (
        9,
        "Fast support, clear reports",
        "widget",
    )
    assert answer.role.value == "decision_maker"
    with app.app_context():
        assert db.session.query(Response).count() == 1
        display = db.session.query(WidgetDisplay).one()
        assert (display.display_id, display.response_id) == (shown["display_id"], answer.id)
        person = db.session.query(Person).one()
        assert (person.external_id, person.email) == ("u-42", "u-42@globex.example")
        assert answer.account_id == person.account_id is not None
    # the next page view: Sounding decides not to ask again, and the widget shows nothing
    assert check_answer(page, page.reload) is None
    page.wait_for_timeout(300)
    assert page.locator(W).count() == 0


def test_dismiss_and_not_asked_within_the_backoff(
    app: Flask, clock: FrozenClock, page: Page, product: Product, survey: dict[str, Any]
) -> None:
    shown = check_answer(page, lambda: page.goto(product.url("/", "u-7")))
    page.locator(W).get_by_role("button", name="Close", exact=True).click()
    assert page.locator(W).count() == 0
    in_db(
        app,
        lambda: (
            db.session.query(WidgetDisplay).filter(WidgetDisplay.dismissed_at.is_not(None)).first()
        ),
        "the dismissal",
    )
    assert check_answer(page, page.reload) is None
    clock.advance(days=6, hours=23)  # the backoff is 7 days
    assert check_answer(page, page.reload) is None
    page.wait_for_timeout(200)
    assert page.locator(W).count() == 0
    clock.advance(hours=1)
    again = check_answer(page, page.reload)
    assert again["display_id"] == shown["display_id"]  # the same ask, not a new contact
    page.locator(f"{W} .w").wait_for(state="visible")
    with app.app_context():
        assert db.session.query(Response).count() == 0


def test_a_wrong_signature_shows_nothing_and_records_nothing(
    app: Flask, page: Page, product: Product, survey: dict[str, Any]
) -> None:
    forged = product.key.sign("someone-else")
    status = check_answer(page, lambda: page.goto(product.url("/", "u-42", signature=forged)))
    assert status == 403
    page.wait_for_timeout(300)
    assert page.locator(W).count() == 0
    with app.app_context():
        assert db.session.query(Person).count() == 0
        assert db.session.query(WidgetDisplay).count() == 0


def test_a_disallowed_origin_gets_nothing(
    app: Flask,
    browser: Browser,
    sounding: str,
    key: Key,
    stranger_server: LoopbackServer,
    survey: dict[str, Any],
) -> None:
    stranger = Product(stranger_server, sounding, key)
    context = browser.new_context()
    try:
        pg = context.new_page()
        log = watch(pg)
        # Sounding refuses the preflight (403, no CORS headers): the browser never sends the
        # POST and the widget's fetch fails quietly
        with pg.expect_event(
            "requestfailed", predicate=lambda r: r.url.endswith("/widget/v1/check")
        ) as failed:
            pg.goto(stranger.url("/", "u-42"))
        assert failed.value.method == "POST"
        pg.wait_for_timeout(300)
        assert pg.locator(W).count() == 0
        assert log.page_errors == [] and pg.evaluate("window.__pageErrors") == []
        assert all("CORS" in m or m.startswith("Failed to load") for m in log.console_errors)
    finally:
        context.close()
    with app.app_context():
        assert db.session.query(Person).count() == 0


def test_hostile_host_css_does_not_change_the_widget(
    browser: Browser, product: Product, survey: dict[str, Any]
) -> None:
    styles = {}
    for hostile in (False, True):
        context = browser.new_context(
            viewport={"width": 1024, "height": 768}, reduced_motion="reduce"
        )
        try:
            pg = context.new_page()
            log = watch(pg)
            pg.goto(product.url(f"/hostile-{hostile}", f"u-css-{hostile}", hostile=hostile))
            pg.locator(f"{W} .w").wait_for(state="visible")
            with_widget = host_styles(pg)
            radio(pg, 7).click()
            styles[hostile] = widget_styles(pg)
            box = pg.locator(f"{W} .w").bounding_box()
            assert box is not None
            assert (box["x"] + box["width"], box["y"] + box["height"]) == (1024 - 16, 768 - 16)
            assert pg.locator(W).get_by_role("button", name="Send", exact=True).is_visible()
            pg.evaluate("Sounding.reset()")
            assert host_styles(pg) == with_widget
            assert log.script_errors == []
        finally:
            context.close()
    assert styles[True] == styles[False]


def test_an_answer_ends_the_open_email_invitation(
    app: Flask, api: Api, page: Page, product: Product, survey: dict[str, Any]
) -> None:
    person = api.post("/api/v1/people", json={"external_id": "u-5", "email": "u-5@globex.example"})
    invited = api.post(
        "/api/v1/invitations",
        json={"survey_id": survey["id"], "person_id": person.get_json()["id"], "channel": "email"},
    )
    assert invited.status_code == 201, invited.get_json()
    with app.app_context():
        invitation = db.session.get(Invitation, invited.get_json()["id"])
        assert invitation.status.value == "sent" and invitation.next_action_at is not None
    permissive_cadence(api)  # asked by email just now: let the widget ask as well
    page.goto(product.url("/", "u-5"))
    radio(page, 4).click()
    page.locator(W).get_by_role("button", name="Skip", exact=True).click()
    assert page.locator(W).get_by_role("status").is_visible()

    def ended() -> Any:
        found = db.session.get(Invitation, invited.get_json()["id"])
        return found if found.status.value == "canceled" else None

    invitation = in_db(app, ended, "the email invitation to end")
    assert invitation.next_action_at is None
    assert invitation.end_reason.startswith("answered in the widget")
    with app.app_context():
        (answer,) = db.session.query(Response).all()
        assert (answer.score, answer.channel.value, answer.invitation_id) == (4, "widget", None)


def test_dev_page_shows_the_widget_working(app: Flask, page: Page, sounding: str) -> None:
    page.goto(f"{sounding}/dev/widget")
    assert page.locator(W).count() == 0
    page.get_by_role("button", name="Create a widget survey").click()
    page.locator(f"{W} .w").wait_for(state="visible")
    radio(page, 10).click()
    page.locator(W).get_by_role("textbox").fill("Love the reports")
    page.locator(W).get_by_role("button", name="Send", exact=True).click()
    assert page.locator(W).get_by_role("status").is_visible()
    answer = in_db(
        app,
        lambda: db.session.query(Response).filter(Response.comment.is_not(None)).one_or_none(),
        "the dev page's answer",
    )
    assert (answer.score, answer.comment) == (10, "Love the reports")
    with app.app_context():
        assert db.session.query(Person).one().external_id == "user-1001"
