"""Staff accounts and signing in: password, magic link, password reset, invitations, OpenID
Connect single sign-on; the staff, API-key and account pages. The access mechanism itself
is ``app.access``."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.staff import oidc, pages, views  # noqa: F401  (routes register on import)
    from app.staff.blueprint import bp

    oidc.init_app(app)
    app.register_blueprint(bp)
