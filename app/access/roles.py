"""What each staff role may do: plain values in, plain values out (no Flask, no database).

Every route declares one :class:`Permission` (see ``app.access``); a role holds a set of them.
"""

from __future__ import annotations

import enum

from app.vocabulary import StaffRole


class Permission(enum.StrEnum):
    SIGNED_IN = "signed_in"
    """Any staff member: their own profile, their own sign-out and sessions."""
    READ = "read"
    """Reports, surveys, cadence rules, responses and people (a CSM: their accounts only)."""
    EXPORT_PERSONAL = "export_personal"
    """Download lists of people (CSV of non-responders...): not for analysts."""
    EDIT_PEOPLE = "edit_people"
    """Create and update people (a CSM: their accounts only, never an account's owner CSM)."""
    SEND = "send"
    """Ask people (invitations, events), cancel an invitation (a CSM: their accounts only)."""
    OWN_KEYS = "own_keys"
    """Make and revoke one's own API keys."""
    MANAGE = "manage"
    """The workspace: surveys, templates, cadence, campaigns, widget keys, staff, every API
    key, the audit log. Admins only."""


ROLE_PERMISSIONS: dict[StaffRole, frozenset[Permission]] = {
    StaffRole.ADMIN: frozenset(Permission),
    StaffRole.CSM: frozenset(
        {
            Permission.SIGNED_IN,
            Permission.READ,
            Permission.EXPORT_PERSONAL,
            Permission.EDIT_PEOPLE,
            Permission.SEND,
            Permission.OWN_KEYS,
        }
    ),
    StaffRole.ANALYST: frozenset({Permission.SIGNED_IN, Permission.READ, Permission.OWN_KEYS}),
}

ROLE_LABELS: dict[StaffRole, str] = {
    StaffRole.ADMIN: "Admin",
    StaffRole.CSM: "Customer success manager",
    StaffRole.ANALYST: "Analyst (read-only)",
}


def allows(role: StaffRole, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def is_scoped(role: StaffRole) -> bool:
    """Whether the role reaches only its own accounts' people (a CSM)."""
    return role == StaffRole.CSM
