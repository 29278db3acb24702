"""The admin's workspace: server-rendered pages under ``/dashboard`` to run the program
without curl — surveys (with the plan preview and email templates), cadence (with its dry
run), people, accounts and widget keys. Each feature is a package with its ``views``,
``forms`` and ``templates`` beside its blueprint; they share one layout
(``dashboard/layout.html``) and one navigation (:mod:`app.workspace.nav`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Flask


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
