"""Pages for development only (never registered in production): the outbox
(:mod:`.outbox`) and the widget's sample product page (:mod:`.widget`)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.dev import outbox, widget

    app.register_blueprint(outbox.bp)
    app.register_blueprint(widget.bp)
