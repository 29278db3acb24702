"""Behaviour of widget/sounding.js in a real headless Chromium.

The host page is served from one loopback origin and a stand-in of the four widget endpoints
(plus the script itself) from another, with permissive CORS, so these tests pin the browser
side of the contract without the Flask app. The end-to-end tests against the real endpoints
live elsewhere (test_browser_e2e.py); both use tests/support/browser.py.
"""

from __future__ import annotations

import copy
import gzip
import json
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page

from tests.support.browser import PageLog, chromium, wait_until, watch, widget_page
from tests.support.settings import ROOT
from tests.support.widget_page import (
    HOSTILE_CSS,
    SCRIPT,
    STUB,
    HostHandler,
    LoopbackServer,
    QuietHandler,
    W,
    host_styles,
    origin_of,
    serve,
    shadow,
    widget_styles,
)

pytestmark = pytest.mark.slow

BUDGET_GZIP = 6 * 1024

SURVEY: dict[str, Any] = {
    "display_id": "disp-1",
    "survey_id": 3,
    "question": "How likely are you to recommend Acme to a friend or colleague?",
    "follow_up": {
        "promoter": "What do you like most about Acme?",
        "passive": "What would make Acme a 10 for you?",
        "detractor": "What disappointed you?",
    },
    "strings": {
        "low_label": "Not at all likely",
        "high_label": "Extremely likely",
        "comment_label": "Your answer (optional)",
        "submit": "Send",
        "skip": "Skip",
        "thanks": "Thank you for your feedback!",
        "close": "Close",
        "score_label": "{n} out of 10",
    },
    "theme": {},
    "position": "bottom-right",
}

USER = {
    "userId": "u-42",
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "role": "decision_maker",
    "account": {"id": "acc-7", "name": "Analytical Engines Ltd"},
    "properties": {"plan": "pro", "seats": 12},
    "signature": "ab" * 32,
}
IDENTIFY = f"Sounding.identify({json.dumps(USER)});"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


# --------------------------------------------------------------------------- servers


@dataclass
class Api:
    """The stand-in Sounding server's behaviour and what it was sent."""

    check: tuple[int, Any] = (200, {"survey": SURVEY})
    events: tuple[int, Any] = (202, {"survey": None})
    drop_responses: int = 0  # read the next N answers, then drop the connection unanswered
    script_delay: float = 0.0
    calls: list[tuple[str, Any]] = field(default_factory=list)
    preflights: int = 0

    def bodies(self, endpoint: str) -> list[Any]:
        return [body for path, body in self.calls if path == endpoint]


class ApiHandler(QuietHandler):
    server: LoopbackServer

    @property
    def api(self) -> Api:
        return self.server.state

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/widget/v1/sounding.js":
            self.reply(404, b'{"error": {"code": "not_found", "message": "no", "field": null}}')
            return
        time.sleep(self.api.script_delay)
        self.reply(200, SCRIPT.read_bytes(), "application/javascript; charset=utf-8")

    def do_OPTIONS(self) -> None:
        self.api.preflights += 1
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "POST")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        endpoint = self.path.removeprefix("/widget/v1/")
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        assert self.headers.get("Content-Type") == "application/json"
        self.api.calls.append((endpoint, body))
        if endpoint == "check":
            status, answer = self.api.check
        elif endpoint == "events":
            status, answer = self.api.events
        elif endpoint == "dismissals":
            status, answer = 204, None
        elif endpoint == "responses":
            if self.api.drop_responses > 0:
                self.api.drop_responses -= 1
                self.close_connection = True  # recorded, but the answer is lost on the way
                return
            status, answer = 201, {"response_id": body["response_id"]}
        else:
            status, answer = 404, {"error": {"code": "not_found", "message": "?", "field": None}}
        if answer is None:
            data = b""
        elif isinstance(answer, bytes):
            data = answer
        else:
            data = json.dumps(answer).encode()
        self.reply(status, data)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def api_server() -> Iterator[LoopbackServer]:
    yield from serve(ApiHandler, Api())


@pytest.fixture(scope="module")
def host_server() -> Iterator[LoopbackServer]:
    yield from serve(HostHandler, {})


@pytest.fixture
def api(api_server: LoopbackServer) -> Api:
    api_server.state = Api()
    return api_server.state


@dataclass
class Host:
    """Serves host pages from origin A that embed the widget from origin B."""

    server: LoopbackServer
    sounding: str  # origin B

    @property
    def origin(self) -> str:
        return origin_of(self.server)

    def page_html(
        self,
        calls: str = IDENTIFY,
        *,
        hostile: bool = False,
        stub: bool = True,
        attrs: str = "",
        css: str = "",
    ) -> str:
        return f"""<!doctype html>
<html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme</title><style>{HOSTILE_CSS if hostile else ""}{css}</style></head>
<body>
<h1>Acme dashboard</h1><p id="host-p">Your product, your CSS.</p>
<button id="host-button">A host button</button><input id="host-input">
<script>{STUB if stub else ""}
{calls}
window.__queued = window.Sounding && Sounding.q ? Sounding.q.length : -1;
window.__afterCalls = true;
</script>
<script async src="{self.sounding}/widget/v1/sounding.js" data-key="pk_test" {attrs}></script>
</body></html>"""

    def open(self, page: Page, path: str = "/", **kw: Any) -> None:
        self.server.state[path] = self.page_html(**kw)
        page.goto(self.origin + path)


@pytest.fixture
def host(host_server: LoopbackServer, api_server: LoopbackServer) -> Host:
    host_server.state = {}
    return Host(host_server, origin_of(api_server))


@pytest.fixture
def page(browser: Browser, host: Host) -> Iterator[Page]:
    with widget_page(browser) as pg:
        yield pg


def log_of(page: Page) -> PageLog:
    return page.log  # type: ignore[attr-defined,no-any-return]


# --------------------------------------------------------------------------- helpers


def focused(page: Page) -> str | None:
    """A short description of what has focus inside the widget."""
    return shadow(
        page,
        "root && root.activeElement && (root.activeElement.name === 's'"
        " ? 'radio ' + root.activeElement.value"
        " : root.activeElement.className || root.activeElement.tagName.toLowerCase())",
    )


def widget(page: Page) -> Locator:
    """The widget (its shadow root is open, so locators reach inside)."""
    return page.locator(W)


def wait_widget(page: Page) -> None:
    page.locator(f"{W} .w").wait_for(state="visible")


def wait_calls(api: Api, endpoint: str, n: int = 1, timeout: float = 5.0) -> list[Any]:
    wait_until(lambda: len(api.bodies(endpoint)) >= n, timeout, f"{n} POST /{endpoint}")
    return api.bodies(endpoint)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- harness


def test_the_harness_sees_errors_thrown_into_the_page(page: Page, host: Host) -> None:
    # guards every other test: their teardown asserts that script_errors stays empty
    host.server.state["/throws"] = (
        "<script>setTimeout(() => { throw new Error('boom') });"
        " Promise.reject(new Error('nope')); console.error('logged');</script>"
    )
    page.goto(host.origin + "/throws")
    page.wait_for_timeout(100)
    errors = log_of(page).script_errors
    assert any("boom" in e for e in errors)
    assert any("nope" in e for e in errors)
    assert "logged" in errors
    log_of(page).page_errors.clear()
    log_of(page).console_errors.clear()
    page.evaluate("window.__pageErrors = []")


# --------------------------------------------------------------------------- budget


def test_script_fits_the_budget() -> None:
    raw = SCRIPT.read_bytes()
    packed = len(gzip.compress(raw, compresslevel=9))
    print(f"widget/sounding.js: {len(raw)} bytes raw, {packed} bytes gzipped")
    assert packed <= BUDGET_GZIP


def test_docs_show_the_same_stub_snippet() -> None:
    for doc in ("README.md", "example.html"):
        assert STUB in (ROOT / "widget" / doc).read_text(), doc


def test_example_page_embeds_the_widget(page: Page, host: Host, api: Api) -> None:
    html = (ROOT / "widget" / "example.html").read_text()
    html = html.replace(
        'src="/widget/v1/sounding.js"', f'src="{host.sounding}/widget/v1/sounding.js"'
    )
    host.server.state["/example.html"] = html
    api.check = (200, {"survey": None})
    api.events = (202, {"survey": SURVEY})
    page.goto(host.origin + "/example.html")
    (check,) = wait_calls(api, "check")
    assert check["key"] == "YOUR_PUBLIC_KEY"
    assert check["signature"] == "SIGNATURE_FROM_YOUR_BACKEND"
    page.get_by_role("button", name="Export report").click()
    wait_widget(page)
    assert api.bodies("events")[0]["name"] == "exported_report"
    page.get_by_role("button", name="Sign out").click()
    assert page.locator(W).count() == 0


# --------------------------------------------------------------------------- loading


def test_calls_made_before_the_script_loads_are_replayed(page: Page, host: Host, api: Api) -> None:
    api.script_delay = 0.3
    api.check = (200, {"survey": None})
    calls = (
        f"{IDENTIFY} Sounding.identify({{userId: 'u-42'}});"
        " Sounding.track('opened_settings');"
        " Sounding.identify({userId: 7, signedUpAt: new Date(Date.UTC(2024, 0, 2))});"
    )
    host.open(page, calls=calls)
    assert page.evaluate("window.__queued") == 4
    wait_calls(api, "check", 2)
    wait_calls(api, "events", 1)
    # requests run concurrently: they may arrive in any order
    first, second = sorted(api.bodies("check"), key=lambda b: b["user"]["userId"] != "u-42")
    user = {k: v for k, v in USER.items() if k != "signature"}
    assert first == {"key": "pk_test", "user": user, "signature": USER["signature"]}
    # the same user again asks nothing; a new user is checked afresh, its id as a string
    assert second == {
        "key": "pk_test",
        "user": {"userId": "7", "signedUpAt": "2024-01-02T00:00:00.000Z"},
    }
    assert sorted(c[0] for c in api.calls) == ["check", "check", "events"]
    assert api.bodies("events") == [
        {
            "key": "pk_test",
            "userId": "u-42",
            "signature": USER["signature"],
            "name": "opened_settings",
        }
    ]
    assert page.evaluate("Sounding.version") == "1"
    assert page.evaluate("'q' in Sounding") is False


def test_works_without_the_stub_and_ignores_a_second_copy(page: Page, host: Host, api: Api) -> None:
    host.open(page, calls="", stub=False)
    page.wait_for_function("window.Sounding && Sounding.version")
    page.evaluate(f"() => {{ {IDENTIFY} }}")
    wait_widget(page)
    page.evaluate(
        f"""() => new Promise(done => {{
        const s = document.createElement('script');
        s.src = '{host.sounding}/widget/v1/sounding.js'; s.dataset.key = 'pk_other';
        s.onload = done; document.head.appendChild(s); }})"""
    )
    page.evaluate("Sounding.track('again')")
    wait_calls(api, "events")
    assert api.bodies("events")[0]["key"] == "pk_test"
    assert page.locator(W).count() == 1


def test_data_api_overrides_the_scriptorigin_of(page: Page, host: Host, api: Api) -> None:
    # the script is fetched from origin B but talks to the API named in data-api
    host.open(page, attrs=f'data-api="{host.sounding}/"')
    wait_widget(page)
    assert len(api.bodies("check")) == 1


# --------------------------------------------------------------------------- showing


def test_survey_is_shown_with_the_servers_strings_only(page: Page, host: Host, api: Api) -> None:
    french = copy.deepcopy(SURVEY)
    french["question"] = "Quelle est la probabilité que vous recommandiez Acme ?"
    french["strings"] = {
        "low_label": "Pas du tout probable",
        "high_label": "Très probable",
        "comment_label": "Votre réponse (facultatif)",
        "submit": "Envoyer",
        "skip": "Passer",
        "thanks": "Merci !",
        "close": "Fermer",
        "score_label": "{n} sur 10",
    }
    french["follow_up"] = {
        "promoter": "Qu'aimez-vous ?",
        "passive": "Et pour 10 ?",
        "detractor": "Pourquoi ?",
    }
    api.check = (200, {"survey": french})
    host.open(page)
    wait_widget(page)
    dialog = page.locator(f"{W} [role=dialog]")
    assert dialog.get_attribute("aria-labelledby") == "q"
    assert page.locator(f"{W} fieldset legend").inner_text() == french["question"]
    radios = widget(page).get_by_role("radio")
    assert radios.count() == 11
    labels = [radios.nth(i).get_attribute("aria-label") for i in range(11)]
    assert labels == [f"{n} sur 10" for n in range(11)]
    assert (
        widget(page)
        .get_by_role("radio", name="0 sur 10", exact=True)
        .get_attribute("aria-describedby")
        == "lo"
    )
    assert widget(page).get_by_role("button", name="Fermer", exact=True).is_visible()
    assert page.locator(f"{W} .e").inner_text().split("\n") == [
        "Pas du tout probable",
        "Très probable",
    ]
    widget(page).get_by_role("radio", name="10 sur 10", exact=True).click()
    assert (
        widget(page).get_by_role("textbox", name="Qu'aimez-vous ?").get_attribute("placeholder")
        == "Votre réponse (facultatif)"
    )
    widget(page).get_by_role("button", name="Envoyer", exact=True).click()
    assert widget(page).get_by_role("status").inner_text() == "Merci !"
    text = shadow(page, "root.textContent") + " ".join(labels)
    for english in ("Send", "Skip", "Close", "Thank", "likely", "out of", "Submit"):
        assert english not in text


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(
            (403, {"error": {"code": "bad_signature", "message": "no", "field": "signature"}}),
            id="403",
        ),
        pytest.param((400, {"survey": SURVEY}), id="400-with-survey"),
        pytest.param((200, b"<html>oops</html>"), id="not-json"),
        pytest.param((200, {"survey": {"display_id": "d", "question": "Q?"}}), id="no-strings"),
        pytest.param((200, {"survey": {**SURVEY, "question": ""}}), id="empty-question"),
        pytest.param((200, None), id="empty-body"),
        pytest.param((500, b"Internal Server Error"), id="500"),
    ],
)
def test_a_refusal_or_bad_answer_shows_nothing(
    page: Page, host: Host, api: Api, broken: tuple[int, Any]
) -> None:
    api.check = broken
    host.open(page)
    wait_calls(api, "check")
    page.wait_for_timeout(300)
    assert page.locator(W).count() == 0
    assert page.evaluate("window.__afterCalls") is True


def test_sounding_down_throws_nothing_and_blocks_nothing(page: Page, host: Host) -> None:
    calls = (
        f"{IDENTIFY} Sounding.track('clicked'); Sounding.reset();"
        f" Sounding.identify({{userId: 'u-1', signature: 'x'}}); Sounding.track('again');"
        " Sounding.configure({position: 'nowhere', theme: {accent: 'red'}});"
        " Sounding.identify(); Sounding.identify(null); Sounding.track(); Sounding.nope;"
    )
    host.open(page, calls=calls, attrs=f'data-api="http://127.0.0.1:{closed_port()}"')
    page.wait_for_function("window.Sounding && Sounding.version")
    assert page.evaluate("window.__afterCalls") is True
    # and calls after load behave the same
    page.evaluate("Sounding.track('later'); Sounding.reset(); Sounding.identify({userId: 'u-9'})")
    page.wait_for_timeout(500)
    assert page.locator(W).count() == 0
    # the page stays responsive: a host script runs and the host's input takes typing
    page.locator("#host-input").fill("still works")
    assert page.locator("#host-input").input_value() == "still works"


def test_script_that_never_loads_leaves_the_stub_harmless(page: Page, host: Host) -> None:
    html = host.page_html(calls=f"{IDENTIFY} Sounding.track('x'); Sounding.reset();")
    html = html.replace(host.sounding, f"http://127.0.0.1:{closed_port()}")
    host.server.state["/down"] = html
    page.goto(host.origin + "/down")
    page.wait_for_load_state("load")
    assert page.evaluate("window.__afterCalls && Sounding.q.length") == 3


def test_an_event_can_bring_a_survey(page: Page, host: Host, api: Api) -> None:
    api.check = (200, {"survey": None})
    api.events = (202, {"survey": SURVEY})
    host.open(page)
    wait_calls(api, "check")
    page.wait_for_timeout(200)
    assert page.locator(W).count() == 0
    page.evaluate("Sounding.track('exported_report')")
    wait_widget(page)
    # a second event while a survey is up does not stack a second one
    page.evaluate("Sounding.track('exported_report')")
    wait_calls(api, "events", 2)
    page.wait_for_timeout(200)
    assert page.locator(W).count() == 1


def test_track_before_identify_is_dropped(page: Page, host: Host, api: Api) -> None:
    host.open(page, calls="Sounding.track('too_early');")
    page.wait_for_function("window.Sounding && Sounding.version")
    page.wait_for_timeout(200)
    assert api.calls == []


# --------------------------------------------------------------------------- answering


def test_answer_with_the_keyboard_only(page: Page, host: Host, api: Api) -> None:
    host.open(page)
    wait_widget(page)
    # nothing had focus on the page, so the survey takes it (it never steals it from a field)
    assert focused(page) == "w"
    page.keyboard.press("Tab")
    assert focused(page) == "x"
    page.keyboard.press("Tab")
    assert focused(page) == "radio 0"
    for _ in range(9):
        page.keyboard.press("ArrowRight")
    assert focused(page) == "radio 9"
    assert widget(page).get_by_role("radio", name="9 out of 10", exact=True).is_checked()
    # arrows only move: the follow-up is previewed, nothing is recorded yet
    assert widget(page).get_by_text("What do you like most about Acme?").is_visible()
    page.keyboard.press("ArrowLeft")
    assert widget(page).get_by_text("What would make Acme a 10 for you?").is_visible()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(200)
    assert api.bodies("responses") == []
    # Enter chooses: the score goes at once, focus moves on to the comment
    page.keyboard.press("Enter")
    first = dict(wait_calls(api, "responses")[0])
    assert focused(page) == "textarea"
    response_id = first.pop("response_id")
    assert UUID4.match(response_id)
    assert first == {
        "key": "pk_test",
        "userId": "u-42",
        "signature": USER["signature"],
        "display_id": "disp-1",
        "score": 9,
        "comment": None,
    }
    page.keyboard.type("Fast support, clear reports")
    page.keyboard.press("Tab")
    assert focused(page) == "k"
    page.keyboard.press("Tab")
    assert (
        widget(page)
        .get_by_role("button", name="Send", exact=True)
        .evaluate("b => b.matches(':focus-visible')")
    )
    page.keyboard.press("Space")
    second = wait_calls(api, "responses", 2)[1]
    assert second["response_id"] == response_id
    assert (second["score"], second["comment"]) == (9, "Fast support, clear reports")
    status = widget(page).get_by_role("status")
    assert status.inner_text() == "Thank you for your feedback!"
    assert focused(page) == "t"
    assert not page.locator(f"{W} form").is_visible()
    assert api.bodies("dismissals") == []
    # Escape now just closes: an answered survey is not a dismissal
    page.keyboard.press("Escape")
    assert page.locator(W).count() == 0
    page.wait_for_timeout(200)
    assert api.bodies("dismissals") == []
    assert len(api.bodies("responses")) == 2


def test_space_chooses_and_tab_to_the_comment_chooses(page: Page, host: Host, api: Api) -> None:
    host.open(page)
    wait_widget(page)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    (body,) = wait_calls(api, "responses")
    assert body["score"] == 1
    assert focused(page) == "textarea"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("ArrowRight")
    assert focused(page) == "radio 2"
    page.wait_for_timeout(150)
    assert len(api.bodies("responses")) == 1
    page.keyboard.press("Tab")  # moving on to the comment chooses the new score
    assert focused(page) == "textarea"
    bodies = wait_calls(api, "responses", 2)
    assert bodies[1]["score"] == 2
    assert bodies[1]["response_id"] == bodies[0]["response_id"]


def test_focus_is_not_stolen_from_the_host_and_keys_stay_inside(
    page: Page, host: Host, api: Api
) -> None:
    api.script_delay = 0.3
    host.open(
        page,
        calls=IDENTIFY + "document.getElementById('host-input').focus();"
        "window.__hostKeys = [];"
        "document.addEventListener('keydown', e => __hostKeys.push(e.key));",
    )
    wait_widget(page)
    assert page.evaluate("document.activeElement.id") == "host-input"
    page.keyboard.type("ab")
    assert page.locator("#host-input").input_value() == "ab"
    widget(page).get_by_role("radio", name="3 out of 10", exact=True).click()
    widget(page).get_by_role("textbox").click()
    page.keyboard.type("s/?")
    assert page.evaluate("__hostKeys") == ["a", "b"]
    page.keyboard.press("Escape")
    assert page.locator(W).count() == 0
    # focus goes back to where it came from
    assert page.evaluate("document.activeElement.id") == "host-input"


def test_follow_up_follows_the_category(page: Page, host: Host, api: Api) -> None:
    host.open(page)
    wait_widget(page)
    assert not widget(page).get_by_role("textbox").is_visible()
    expected = {
        0: "What disappointed you?",
        6: "What disappointed you?",
        7: "What would make Acme a 10 for you?",
        8: "What would make Acme a 10 for you?",
        9: "What do you like most about Acme?",
        10: "What do you like most about Acme?",
    }
    for i, (score, question) in enumerate(expected.items(), start=1):
        widget(page).get_by_role(
            "radio", name=f"{score} out of 10", exact=True
        ).click()  # a click chooses at once
        assert widget(page).get_by_role("textbox", name=question).is_visible()
        assert wait_calls(api, "responses", i)[-1]["score"] == score
    ids = {b["response_id"] for b in api.bodies("responses")}
    assert len(ids) == 1
    # Skip records no comment and thanks
    widget(page).get_by_role("button", name="Skip", exact=True).click()
    assert widget(page).get_by_role("status").inner_text() == "Thank you for your feedback!"
    page.wait_for_timeout(150)
    assert [b["comment"] for b in api.bodies("responses")] == [None] * 6


def test_thank_you_closes_by_itself(page: Page, host: Host, api: Api) -> None:
    page.clock.install()
    host.open(page)
    wait_widget(page)
    widget(page).get_by_role("radio", name="5 out of 10", exact=True).click()
    widget(page).get_by_role("textbox").fill("  ")
    widget(page).get_by_role("button", name="Send", exact=True).click()
    assert widget(page).get_by_role("status").is_visible()
    page.clock.run_for(6500)
    assert page.locator(W).count() == 0
    assert [b["comment"] for b in api.bodies("responses")] == [None]


def test_retries_reuse_the_response_id(page: Page, host: Host, api: Api) -> None:
    api.drop_responses = 2  # the first two answers reach the server but the replies are lost
    host.open(page)
    wait_widget(page)
    widget(page).get_by_role("radio", name="8 out of 10", exact=True).click()
    bodies = wait_calls(api, "responses", 3, timeout=10)  # tries after 0.5 s and 1 s more
    assert api.drop_responses == 0
    widget(page).get_by_role("textbox").fill("Needs SSO")
    widget(page).get_by_role("button", name="Send", exact=True).click()
    bodies = wait_calls(api, "responses", 4)
    page.wait_for_timeout(300)
    assert len(api.bodies("responses")) == 4
    assert len({b["response_id"] for b in bodies}) == 1
    assert [(b["score"], b["comment"]) for b in bodies] == [(8, None)] * 3 + [(8, "Needs SSO")]


def test_a_comment_sent_while_retrying_is_not_lost(page: Page, host: Host, api: Api) -> None:
    api.drop_responses = 1
    host.open(page)
    wait_widget(page)
    widget(page).get_by_role("radio", name="3 out of 10", exact=True).click()
    widget(page).get_by_role("textbox").fill("Too slow")
    widget(page).get_by_role("button", name="Send", exact=True).click()
    # the thank-you does not wait for a flaky network
    assert widget(page).get_by_role("status").is_visible()
    wait_until(
        lambda: (api.bodies("responses") or [{}])[-1].get("comment") == "Too slow",
        what="the comment to arrive",
    )
    page.wait_for_timeout(700)
    bodies = api.bodies("responses")
    # one request at a time with the latest state: the last one recorded carries everything
    assert (bodies[-1]["score"], bodies[-1]["comment"]) == (3, "Too slow")
    assert len({b["response_id"] for b in bodies}) == 1
    assert 2 <= len(bodies) <= 3


def test_each_display_gets_its_own_response_id(page: Page, host: Host, api: Api) -> None:
    host.open(page)
    wait_widget(page)
    widget(page).get_by_role("radio", name="4 out of 10", exact=True).click()
    page.evaluate(f"() => {{ Sounding.reset(); {IDENTIFY} }}")
    wait_calls(api, "check", 2)
    wait_widget(page)
    widget(page).get_by_role("radio", name="6 out of 10", exact=True).click()
    first, second = wait_calls(api, "responses", 2)
    assert first["response_id"] != second["response_id"]


def test_response_id_without_crypto_random_uuid(page: Page, host: Host, api: Api) -> None:
    page.add_init_script("Object.defineProperty(crypto, 'randomUUID', {value: undefined})")
    host.open(page)
    wait_widget(page)
    widget(page).get_by_role("radio", name="10 out of 10", exact=True).click()
    (body,) = wait_calls(api, "responses")
    assert UUID4.match(body["response_id"])


# --------------------------------------------------------------------------- dismissing


def test_close_button_dismisses(page: Page, host: Host, api: Api) -> None:
    host.open(page)
    wait_widget(page)
    widget(page).get_by_role("button", name="Close", exact=True).click()
    assert page.locator(W).count() == 0
    (body,) = wait_calls(api, "dismissals")
    assert body == {
        "key": "pk_test",
        "userId": "u-42",
        "signature": USER["signature"],
        "display_id": "disp-1",
    }
    assert api.bodies("responses") == []


def test_escape_dismisses_even_with_a_score_only_previewed(
    page: Page, host: Host, api: Api
) -> None:
    host.open(page)
    wait_widget(page)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowRight")  # selected, not chosen
    page.keyboard.press("Escape")
    assert page.locator(W).count() == 0
    wait_calls(api, "dismissals")
    page.wait_for_timeout(150)
    assert api.bodies("responses") == []


def test_close_after_choosing_a_score_is_not_a_dismissal(page: Page, host: Host, api: Api) -> None:
    host.open(page)
    wait_widget(page)
    widget(page).get_by_role("radio", name="2 out of 10", exact=True).click()
    widget(page).get_by_role("button", name="Close", exact=True).click()
    assert page.locator(W).count() == 0
    wait_calls(api, "responses")
    page.wait_for_timeout(150)
    assert api.bodies("dismissals") == []


# --------------------------------------------------------------------------- reset


def test_reset_removes_the_widget_and_forgets_the_user(page: Page, host: Host, api: Api) -> None:
    host.open(page)
    wait_widget(page)
    page.evaluate("Sounding.reset()")
    assert page.locator(W).count() == 0
    page.evaluate("Sounding.track('after_sign_out')")
    page.wait_for_timeout(200)
    assert api.bodies("events") == []
    assert api.bodies("dismissals") == []
    page.evaluate(f"() => {{ {IDENTIFY} }}")  # the same user signing in again is checked again
    wait_calls(api, "check", 2)
    wait_widget(page)


def test_reset_while_checking_shows_nothing_late(page: Page, host: Host, api: Api) -> None:
    host.open(page, calls=f"{IDENTIFY} Sounding.reset();")
    wait_calls(api, "check")
    page.wait_for_timeout(300)
    assert page.locator(W).count() == 0


# --------------------------------------------------------------------------- isolation and layout


def test_hostile_host_css_does_not_change_the_widget(
    browser: Browser, host: Host, api: Api
) -> None:
    styles = {}
    for hostile in (False, True):
        context = browser.new_context(
            viewport={"width": 1024, "height": 768}, reduced_motion="reduce"
        )
        try:
            pg = context.new_page()
            log = watch(pg)
            host.open(pg, f"/hostile-{hostile}", hostile=hostile)
            wait_widget(pg)
            with_widget = host_styles(pg)
            widget(pg).get_by_role("radio", name="7 out of 10", exact=True).click()
            styles[hostile] = widget_styles(pg)
            box = pg.locator(f"{W} .w").bounding_box()
            assert box is not None
            assert (box["x"] + box["width"], box["y"] + box["height"]) == (1024 - 16, 768 - 16)
            assert widget(pg).get_by_role("button", name="Send", exact=True).is_visible()
            assert widget(pg).get_by_role("button", name="Close", exact=True).is_visible()
            # and the widget leaves the host's styles alone
            pg.evaluate("Sounding.reset()")
            assert pg.locator(W).count() == 0
            assert host_styles(pg) == with_widget
            assert log.script_errors == []
        finally:
            context.close()
    assert styles[True] == styles[False]
    assert styles[False][".w"]["font-size"] == "15px"


def test_colours_come_from_server_theme_then_host_css(page: Page, host: Host, api: Api) -> None:
    themed = copy.deepcopy(SURVEY)
    themed["theme"] = {"accent": "#ff0000", "background": "url(http://example.invalid/x.png)"}
    api.check = (200, {"survey": themed})
    host.open(page)
    wait_widget(page)
    widget(page).get_by_role("radio", name="3 out of 10", exact=True).click()
    span = page.locator(f"{W} input:checked + span")
    assert span.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 0, 0)"
    # an unsafe theme value is ignored, not fetched
    assert page.locator(f"{W} .w").evaluate("e => getComputedStyle(e).backgroundImage") == "none"
    # the host's custom properties win over the server's theme
    page.add_style_tag(
        content=":root { --sounding-accent: rgb(0, 128, 0); --sounding-radius: 0px }"
    )
    assert span.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(0, 128, 0)"
    assert page.locator(f"{W} .w").evaluate("e => getComputedStyle(e).borderTopLeftRadius") == "0px"


def test_configure_theme_and_position(page: Page, host: Host, api: Api) -> None:
    calls = (
        "Sounding.configure({position: 'top-left', theme: {accent: 'rgb(1, 2, 3)'}});" + IDENTIFY
    )
    host.open(page, calls=calls)
    wait_widget(page)
    box = page.locator(f"{W} .w").bounding_box()
    assert box is not None
    assert (box["x"], box["y"]) == (16, 16)
    widget(page).get_by_role("radio", name="3 out of 10", exact=True).click()
    span = page.locator(f"{W} input:checked + span")
    assert span.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(1, 2, 3)"


@pytest.mark.parametrize(
    ("attrs", "server", "corner"),
    [
        ("", "bottom-left", ("left", "bottom")),
        ('data-position="top-right"', "bottom-left", ("right", "top")),
        ("", "somewhere", ("right", "bottom")),
    ],
)
def test_position(
    page: Page, host: Host, api: Api, attrs: str, server: str, corner: tuple[str, str]
) -> None:
    api.check = (200, {"survey": {**SURVEY, "position": server}})
    host.open(page, attrs=attrs)
    wait_widget(page)
    box = page.locator(f"{W} .w").bounding_box()
    assert box is not None
    x = box["x"] if corner[0] == "left" else 1024 - box["x"] - box["width"]
    y = box["y"] if corner[1] == "top" else 768 - box["y"] - box["height"]
    assert (x, y) == (16, 16)


def test_small_screens_get_a_bottom_sheet(browser: Browser, host: Host, api: Api) -> None:
    context = browser.new_context(
        viewport={"width": 375, "height": 667},
        has_touch=True,
        is_mobile=True,
        reduced_motion="reduce",
    )
    try:
        pg = context.new_page()
        log = watch(pg)
        api.check = (200, {"survey": {**SURVEY, "position": "top-left"}})
        host.open(pg)
        wait_widget(pg)
        box = pg.locator(f"{W} .w").bounding_box()
        assert box is not None
        assert (box["x"], box["width"], box["y"] + box["height"]) == (0, 375, 667)
        # every score stays a usable target (WCAG 2.5.8: at least 24 by 24 CSS pixels)
        sizes = pg.locator(f"{W} .s label").evaluate_all(
            "ls => ls.map(l => [l.getBoundingClientRect().width, l.getBoundingClientRect().height])"
        )
        assert all(w >= 24 and h >= 24 for w, h in sizes)
        widget(pg).get_by_role("radio", name="10 out of 10", exact=True).tap()
        (body,) = wait_calls(api, "responses")
        assert body["score"] == 10
        assert log.script_errors == []
    finally:
        context.close()
