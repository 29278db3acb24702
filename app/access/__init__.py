"""Who may do what: ONE mechanism for every page and every API route (docs/architecture.md,
"Decisions", 9).

Interface for other blueprints::

    from app.access import Permission, requires, public, current_staff, current_principal
    from app.access import scope

    @bp.get("/cases")
    @requires(Permission.READ)          # right under the route decorator
    def cases(): ...

    @bp.get("/s/<token>")
    @public                             # open to anyone (survey pages, webhooks, widget)
    def survey_page(token): ...

- Every route declares exactly one :class:`Permission` with ``@requires`` or is ``@public``.
  A ``before_request`` check (``app.access.guard``) runs before every view: a route with no
  declaration is refused (403), so a new route is closed until it says what it needs;
  ``tests/test_access_routes.py`` walks ``app.url_map`` and fails on an undeclared route.
- Who is asking: under ``/api/`` an API key (``Authorization: Bearer``) — missing or bad is a
  401 JSON error; elsewhere a server-side session (Flask-Login; the cookie names a
  ``staff_session`` row) — missing is a redirect to ``/dashboard/sign-in?next=...``. A role
  without the permission is a 403 (JSON or a friendly page).
- Roles (``app.access.roles``): admin (everything), csm (read, export, edit people, send:
  their accounts only), analyst (read only, no exports of personal data).
- ``current_principal()`` → :class:`Principal` (``staff``, ``role``, ``via`` = session |
  api_key, ``api_key``, ``session``, ``can(permission)``) or None; ``current_staff()`` →
  the StaffUser (None for an ownerless legacy admin key). Templates get ``principal`` and
  ``Permission`` (``{% if principal.can(Permission.MANAGE) %}``).
- ``demand(permission)`` inside a view refuses (403) a variant needing more than the
  route's declaration (``?format=csv`` of people needs ``EXPORT_PERSONAL``).
- CSM reach (``app.access.scope``): ``people_clause()``, ``invitations_clause()``,
  ``responses_clause()``, ``accounts_clause()``, ``person_ids_clause(col)``,
  ``account_ids_clause(col)`` for queries; ``person_or_404``, ``invitation_or_404``,
  ``response_or_404``, ``can_reach(person)`` for single rows. Outside the reach is a 404.
- Signing in and out: ``guard.sign_in(staff, method)`` (fresh session id) and
  ``guard.sign_out()``; ``app.staff.services`` ends sessions on deactivation, password change
  and "sign out everywhere".
"""

from __future__ import annotations

from flask import Flask

from app.access.guard import (
    Principal,
    current_principal,
    current_role,
    current_staff,
    demand,
    public,
    requires,
)
from app.access.roles import Permission

__all__ = [
    "Permission",
    "Principal",
    "current_principal",
    "current_role",
    "current_staff",
    "demand",
    "public",
    "requires",
]


def init_app(app: Flask) -> None:
    from app.access import guard

    guard.init_app(app)
