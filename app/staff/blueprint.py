"""The staff blueprint: signing in and the staff pages, under /dashboard."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/dashboard")
