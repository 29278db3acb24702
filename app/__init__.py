"""Sounding: self-hosted, multi-channel NPS surveys.

``create_app()`` builds the Flask application: one ``init_app`` per subsystem. Nothing here
connects to the database or Redis until a request or job needs them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify, redirect, url_for
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    from app import (
        access,
        api,
        clock,
        config,
        dashboard,
        db,
        dev,
        errors,
        hooks,
        jobs,
        pages,
        staff,
        transport,
        widget_api,
        workspace,
    )
    from app.commands import cli as commands

    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("SOUNDING_INSTANCE_PATH") or None,
    )
    from app.access import public

    app.config.update(config.build(overrides, app.instance_path))
    _logging(app)
    clock.init_app(app)
    db.init_app(app)
    jobs.init_app(app)
    transport.init_app(app)
    access.init_app(app)
    csrf.init_app(app)
    errors.init_app(app)
    api.init_app(app)
    widget_api.init_app(app)
    pages.init_app(app)
    hooks.init_app(app)
    dashboard.init_app(app)
    staff.init_app(app)
    workspace.init_app(app)
    if app.config["SOUNDING_ENV"] != "production":
        dev.init_app(app)
    commands.init_app(app)
    csrf.exempt(api.bp)
    from app.pages import survey, unsubscribe

    csrf.exempt(unsubscribe.bp)
    csrf.exempt(survey.bp)  # the signed link is the credential (see app/pages/survey.py)

    @app.get("/healthz")
    @public
    def healthz() -> Any:
        return jsonify({"status": "ok"})

    @app.get("/")
    @public
    def home() -> Any:
        """People who open the server's address land on the dashboard (which asks them to
        sign in when nobody is)."""
        return redirect(url_for("dashboard.overview"))

    return app


def _logging(app: Flask) -> None:
    if app.config["SOUNDING_ENV"] == "test" or logging.getLogger().handlers:
        return
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
