"""Every test makes its own app, and Werkzeug compiles Python code for each URL rule of each
app (about 5 ms a rule, 60 rules): over a thousand tests that was the largest part of a test's
set-up. The code only depends on the rule's text, its parts and its defaults' names, so it is
compiled once per distinct rule and shared by every app of the test session. URLs are built
exactly as before; only the compiling is not repeated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule

_compile = Rule._compile_builder
_compiled: dict[tuple[Any, ...], Callable[..., tuple[str, str]]] = {}


def _compile_once(self: Rule, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
    defaults = self.defaults or {}
    if any(dynamic and part in defaults for dynamic, part in self._trace):
        # A default folded into the URL as a constant depends on the converter: no sharing.
        return _compile(self, append_unknown)
    key = (self.rule, tuple(self._trace), tuple(map(str, defaults)), append_unknown)
    builder = _compiled.get(key)
    if builder is None:
        builder = _compiled[key] = _compile(self, append_unknown)
    return builder


def compile_url_builders_once() -> None:
    Rule._compile_builder = _compile_once  # type: ignore[method-assign]
