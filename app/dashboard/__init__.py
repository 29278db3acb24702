"""A read-only dashboard for customer-success teams: NPS by role, account, channel and over
time, the response rate, and what people said. Staff sign in as themselves (``app.staff``)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.dashboard import views

    app.register_blueprint(views.bp)
