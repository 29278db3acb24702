"""Reading and writing the cadence rules an admin set (docs/architecture.md, "Cadence and
throttling").

The workspace's rules start from :class:`~app.policy.rules.CadenceRules`' defaults; a
survey's overrides replace the fields they set. Nothing is cached in process memory, so every
web and worker process sees a change at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.audit.services import record
from app.db import db
from app.models.cadence import CadencePolicy
from app.policy.rules import CadenceOverrides, CadenceRules


def _row(survey_id: int | None) -> CadencePolicy | None:
    condition = (
        CadencePolicy.survey_id.is_(None)
        if survey_id is None
        else CadencePolicy.survey_id == survey_id
    )
    return db.session.scalar(select(CadencePolicy).where(condition))


def workspace_rules() -> CadenceRules:
    row = _row(None)
    return CadenceRules.from_mapping(row.rules) if row is not None else CadenceRules()


def survey_overrides(survey_id: int) -> CadenceOverrides:
    row = _row(survey_id)
    return CadenceOverrides.from_mapping(row.rules) if row is not None else CadenceOverrides()


def rules_for(survey_id: int | None) -> CadenceRules:
    """The effective rules for a survey (or the workspace's when ``survey_id`` is None),
    read in one statement (every ask reads them)."""
    if survey_id is None:
        return workspace_rules()
    rows = db.session.scalars(
        select(CadencePolicy).where(
            (CadencePolicy.survey_id.is_(None)) | (CadencePolicy.survey_id == survey_id)
        )
    ).all()
    workspace = next((r.rules for r in rows if r.survey_id is None), None)
    overrides = next((r.rules for r in rows if r.survey_id is not None), None)
    rules = CadenceRules.from_mapping(workspace) if workspace is not None else CadenceRules()
    if overrides is None:
        return rules
    return rules.merged(CadenceOverrides.from_mapping(overrides))


def set_workspace_rules(data: Mapping[str, Any], now: datetime) -> CadenceRules:
    """Replace the workspace's rules (missing keys take the defaults). Raises
    InvalidRuleError naming the field."""
    rules = CadenceRules.from_mapping(data)
    _save(None, rules.to_dict(), now)
    return rules


def set_survey_overrides(survey_id: int, data: Mapping[str, Any], now: datetime) -> CadenceRules:
    """Replace a survey's overrides; returns the effective rules (validated merged)."""
    overrides = CadenceOverrides.from_mapping(data)
    effective = workspace_rules().merged(overrides)
    _save(survey_id, overrides.to_dict(), now)
    return effective


def _save(survey_id: int | None, rules: dict[str, Any], now: datetime) -> None:
    row = _row(survey_id)
    record(
        "cadence.changed",
        "survey" if survey_id is not None else "workspace",
        survey_id,
        before=dict(row.rules) if row is not None else None,
        after=rules,
    )
    if row is None:
        db.session.add(CadencePolicy(survey_id=survey_id, rules=rules, updated_at=now))
    else:
        row.rules = rules
        row.updated_at = now
    db.session.flush()
