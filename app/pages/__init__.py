"""Pages for people: the signed survey page and the unsubscribe page."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.pages import survey, unsubscribe

    app.register_blueprint(survey.bp)
    app.register_blueprint(unsubscribe.bp)
