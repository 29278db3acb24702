"""Headless Chromium for the browser tests.

Always the system's Chromium from Debian's packages (``apt-get install -y chromium``); Playwright
never downloads a browser here. Import from tests::

    from tests.support.browser import chromium, watch

    with chromium() as browser:
        page = browser.new_page()
        errors = watch(page)
        page.goto(url)
        ...
        assert errors.script_errors == []
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("SOUNDING_CHROMIUM", "/usr/bin/chromium")
ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")

# What the page's own scripts throw or reject with, caught by an init script so that nothing
# slips past Playwright's pageerror event (unhandled promise rejections included).
_TRAP = """
window.__pageErrors = [];
addEventListener('error', e => window.__pageErrors.push('error: ' + (e.message || e.type)));
addEventListener('unhandledrejection', e => window.__pageErrors.push('rejection: ' + e.reason));
"""


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The real app on a loopback port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@contextmanager
def chromium(**launch: object) -> Iterator[Browser]:
    """Launch the system Chromium headless; close it on exit."""
    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(
            f"{CHROMIUM} not found: install Debian's browser with `apt-get install -y chromium` "
            "(or point SOUNDING_CHROMIUM at one); never let Playwright download one"
        )
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=list(ARGS), **launch)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageLog:
    """What a page reported: uncaught errors, console errors and every request it made."""

    page: Page
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def script_errors(self) -> list[str]:
        """Errors from scripts, leaving out Chromium's own network log lines.

        Chromium logs every failed or 4xx/5xx fetch as a console error "Failed to load
        resource: ..."; no script can prevent that and it is not an exception in the page.
        """
        trapped: list[str] = []
        if not self.page.is_closed():
            trapped = self.page.evaluate("window.__pageErrors || []")
        network = ("Failed to load resource",)
        return [
            *self.page_errors,
            *trapped,
            *(m for m in self.console_errors if not m.startswith(network)),
        ]


def watch(page: Page) -> PageLog:
    """Record the page's errors and requests from now on (call before ``goto``)."""
    log = PageLog(page)
    page.add_init_script(_TRAP)
    page.on("pageerror", lambda exc: log.page_errors.append(str(exc)))

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            log.console_errors.append(msg.text)

    def on_request(req: Request) -> None:
        log.requests.append(req.url)

    page.on("console", on_console)
    page.on("request", on_request)
    return log


def wait_until(
    predicate: Callable[[], object], timeout: float = 5.0, what: str = "condition"
) -> object:
    """Poll ``predicate`` (in the test's thread) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


@contextmanager
def widget_page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh desktop-sized context, its log at ``page.log``. On exit it checks
    that the widget threw nothing into the host page and that no request left loopback."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, reduced_motion="reduce")
    pg = context.new_page()
    pg.set_default_timeout(5000)
    log = watch(pg)
    pg.log = log  # type: ignore[attr-defined]
    yield pg
    try:
        assert log.script_errors == [], "the widget threw into the host page"
        foreign = [u for u in log.requests if urlsplit(u).hostname != "127.0.0.1"]
        assert foreign == [], "requests left for somewhere other than Sounding and the host"
    finally:
        context.close()
