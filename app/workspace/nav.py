"""The workspace's one navigation: every page under /dashboard, in the order people look for
them, each with the permission it needs. A page another part of Sounding has not added yet
(its path has no route) is left out."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from app.access import Permission, current_principal


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    path: str
    group: str
    permission: Permission = Permission.READ


LINKS = (
    Link("Overview", "/dashboard/", "Results"),
    Link("Responses", "/dashboard/responses", "Results"),
    Link("Surveys", "/dashboard/surveys", "Program"),
    Link("Cadence", "/dashboard/cadence", "Program", Permission.MANAGE),
    Link("People", "/dashboard/people", "Customers"),
    Link("Accounts", "/dashboard/accounts", "Customers"),
    Link("Cases", "/dashboard/cases", "Customers"),
    Link("Staff", "/dashboard/staff", "Settings", Permission.MANAGE),
    Link("API keys", "/dashboard/api-keys", "Settings", Permission.OWN_KEYS),
    Link("Widget keys", "/dashboard/widget-keys", "Settings", Permission.MANAGE),
    Link("Audit log", "/dashboard/audit-log", "Settings", Permission.MANAGE),
    Link("My account", "/dashboard/account", "Settings", Permission.SIGNED_IN),
)


def _routed(path: str) -> bool:
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except (NotFound, MethodNotAllowed):
        return False
    except RequestRedirect:
        return True
    return True


def navigation() -> list[tuple[str, list[tuple[Link, bool]]]]:
    """The groups of links that have a page the signed-in staff member may open, each link
    with whether it is the current page (a CSM never sees an admin-only page's link)."""
    here = request.path
    principal = current_principal()
    groups: dict[str, list[tuple[Link, bool]]] = {}
    for link in LINKS:
        if principal is None or not principal.can(link.permission) or not _routed(link.path):
            continue
        current = (
            here == link.path
            or (link.path != "/dashboard/" and here.startswith(link.path + "/"))
            or here == link.path.rstrip("/")
        )
        groups.setdefault(link.group, []).append((link, current))
    return list(groups.items())
