"""The admin's workspace: server-rendered pages under ``/dashboard`` to run the program
without curl — surveys (with the plan preview and email templates), cadence (with its dry
run), people, accounts and widget keys. Each feature is a package with its ``views``,
``forms`` and ``templates`` beside its blueprint; they share one layout
(``dashboard/layout.html``) and one navigation (:mod:`app.workspace.nav`)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, redirect, render_template, url_for
from flask_wtf.csrf import CSRFError


def init_app(app: Flask) -> None:
    from app.workspace import accounts, cadence, people, surveys, widget_keys
    from app.workspace.access import who
    from app.workspace.cadence.forms import show_rule
    from app.workspace.nav import navigation

    for feature in (surveys, cadence, people, accounts, widget_keys):
        app.register_blueprint(feature.views.bp)
    app.add_template_global(navigation, "workspace_nav")
    app.add_template_global(who, "workspace_who")
    app.add_template_global(ZoneInfo, "zone_info")
    app.add_template_global(show_rule, "show")

    @app.get("/")
    def home() -> Any:
        return redirect(url_for("dashboard.overview"))

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> Any:
        return (
            render_template(
                "error.html",
                title="This form has expired",
                message=(
                    "The page you sent it from was open too long, or was changed on the way. "
                    "Nothing was saved. Go back, reload the page and try again."
                ),
            ),
            400,
        )
