"""Pages for the widget's browser tests: the script and its stub snippet, a host page served
from a loopback origin, a hostile host stylesheet, and reading the widget's shadow root."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from playwright.sync_api import Page

from tests.support.settings import ROOT

SCRIPT = ROOT / "widget" / "sounding.js"

# The stub-queue snippet, exactly as widget/README.md and widget/example.html show it.
STUB = (
    "window.Sounding=window.Sounding||{q:[]};"
    '["configure","identify","track","reset"].forEach(function(m){'
    "Sounding[m]=Sounding[m]||function(){Sounding.q.push([m,arguments])}});"
)

HOSTILE_CSS = """
* { all: unset; font-size: 40px !important; color: #0f0 !important; line-height: 3 !important;
    box-sizing: content-box !important; }
html { font-size: 40px !important; }
button { display: none !important }
div, span, p, label, input, textarea, form, fieldset, legend {
  margin: 13px !important; padding: 17px !important; border: 5px dashed red !important;
  background: yellow !important; font-family: "Comic Sans MS", cursive !important;
  visibility: visible; opacity: .5 !important; }
[hidden] { display: block !important; }
[role=dialog], [class], [id] { position: static !important; display: inline !important; }
sounding-widget { display: none !important; transform: scale(.2) !important; }
"""


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def reply(self, status: int, body: bytes = b"", ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


class HostHandler(QuietHandler):
    server: LoopbackServer

    def do_GET(self) -> None:
        html = self.server.state.get(self.path.split("?")[0])
        if html is None:
            self.reply(404, b"not found", "text/plain")
        else:
            self.reply(200, html.encode(), "text/html; charset=utf-8")


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    state: Any

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Chromium drops keep-alive connections when a page or context closes: not an error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def serve(handler: type[BaseHTTPRequestHandler], state: Any) -> Iterator[LoopbackServer]:
    server = LoopbackServer(("127.0.0.1", 0), handler)
    server.state = state
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def origin_of(server: LoopbackServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


W = "sounding-widget"


def shadow(page: Page, expr: str) -> Any:
    """Evaluate ``expr`` with ``root`` bound to the widget's shadow root (null when absent)."""
    return page.evaluate(
        f"() => {{ const h = document.querySelector('{W}'); const root = h && h.shadowRoot;"
        f" return ({expr}); }}"
    )


STYLE_PROPS = (
    "display",
    "position",
    "visibility",
    "opacity",
    "font-size",
    "font-family",
    "font-weight",
    "line-height",
    "color",
    "background-color",
    "border-top-width",
    "border-top-style",
    "padding-top",
    "padding-left",
    "margin-top",
    "box-sizing",
    "width",
    "height",
    "z-index",
    "transform",
)
STYLED = (
    ".w",
    "legend",
    ".s label",
    ".s span",
    ".x",
    ".e",
    "#fl",
    "textarea",
    ".k",
    "[type=submit]",
)


def widget_styles(page: Page) -> dict[str, dict[str, str]]:
    return shadow(
        page,
        f"Object.fromEntries({json.dumps(STYLED)}.map(sel => {{"
        " const el = root.querySelector(sel), cs = getComputedStyle(el);"
        f" return [sel, Object.fromEntries({json.dumps(STYLE_PROPS)}"
        ".map(p => [p, cs.getPropertyValue(p)]))]; }))",
    )


def host_styles(page: Page) -> dict[str, dict[str, str]]:
    """Computed styles of the host page's own elements."""
    return page.evaluate(
        f"Object.fromEntries(['body', '#host-p', '#host-button', '#host-input'].map(sel => {{"
        " const cs = getComputedStyle(document.querySelector(sel));"
        f" return [sel, Object.fromEntries({json.dumps(STYLE_PROPS)}"
        ".map(p => [p, cs.getPropertyValue(p)]))]; }))",
    )
