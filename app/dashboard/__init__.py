"""A read-only dashboard for customer-success teams: NPS by role, account, channel and over
time, the response rate, and what people said. Staff sign in with their API key; the session
keeps only the key's id (signed cookie) and is checked against the database on every page."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.dashboard import views

    app.register_blueprint(views.bp)
