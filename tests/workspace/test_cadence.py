"""Workspace cadence: each rule with its meaning and default; the dry run counts what the
fan-out would decide under the current and the proposed rules and changes nothing; saving;
bad rules shown beside their field, nothing saved."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.clock import FrozenClock
from app.db import db
from app.models import CadencePolicy, Decision, Invitation
from app.services.cadence_rules import rules_for, workspace_rules
from tests.support.workspace import (
    asked,
    field_error,
    make_person,
    make_survey,
    post_form,
    signed_in,
)

RULES = {
    "recontact_days": "30",
    "recurrence_days": "90",
    "min_tenure_days": "14",
    "yearly_cap": "4",
    "account_cap_window_days": "7",
    "send_window_start": "09:00",
    "send_window_end": "17:00",
    "send_weekdays": ["mon", "tue", "wed", "thu", "fri"],
    "dismissal_backoff_days": "7",
    "default_timezone": "UTC",
}


def _audience(app: Flask, clock: FrozenClock) -> int:
    """Ten people: four asked 20 days ago (by another survey), six never asked."""
    now = clock.now()
    with app.app_context():
        survey = make_survey(now)
        other = make_survey(now, name="Onboarding")
        for i in range(10):
            person = make_person(now - timedelta(days=400), f"p{i}@globex.example")
            if i < 4:
                asked(other, person, now - timedelta(days=20))
        db.session.commit()
        return survey.id


def _counts(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(  # type: ignore[return-value]
            db.session.scalar(select(func.count()).select_from(t)) or 0
            for t in (Invitation, Decision, CadencePolicy)
        )


def test_rules_page_shows_meaning_and_default(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client)
    html = client.get("/dashboard/cadence").get_data(as_text=True)
    assert "Nobody gets a survey of any kind within this many days" in html
    assert "Default: <strong>30</strong>" in html
    assert "Default: <strong>Mon-Fri</strong>" in html


def test_dry_run_then_save(app: Flask, clock: FrozenClock, client: FlaskClient) -> None:
    survey_id = _audience(app, clock)
    signed_in(app, client)
    before = _counts(app)
    # Recontact period from 30 down to 10 days: the four asked 20 days ago may be asked too.
    data = {**RULES, "recontact_days": "10", "survey": str(survey_id), "channel": "email"}
    response = post_form(client, "/dashboard/cadence", {**data, "action": "dry_run"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    lead = re.sub(r"<[^>]+>", "", re.search(r'<p class="lead">(.*?)</p>', html, re.S).group(1))  # type: ignore[union-attr]
    assert lead == "Of 10 people, 10 may be asked today (now 6, +4)."
    assert "asked any survey too recently (recontact period)" in html
    assert re.search(
        r"recontact period\)</th><td class=\"num\">4</td><td class=\"num\">0</td>", html
    )
    # Nothing was sent or stored, and the rules did not change.
    assert _counts(app) == before
    with app.app_context():
        assert workspace_rules().recontact_days == 30
    saved = post_form(client, "/dashboard/cadence", {**data, "action": "save"})
    assert saved.status_code == 302
    with app.app_context():
        assert workspace_rules().recontact_days == 10


def test_bad_rules_are_shown_and_nothing_is_saved(app: Flask, client: FlaskClient) -> None:
    signed_in(app, client)
    cases = [
        ({"recontact_days": "-1"}, "recontact_days", "between 0 and 3650"),
        ({"recontact_days": "ten"}, "recontact_days", "integer"),
        ({"send_window_end": "08:00"}, "send_window_end", "later than send_window_start"),
        ({"send_window_start": "9am"}, "send_window_start", "a time like"),
        ({"default_timezone": "Mars/Olympus"}, "default_timezone", "unknown time zone"),
        ({"yearly_cap": "0"}, "yearly_cap", "between 1"),
    ]
    for change, field, words in cases:
        for action in ("dry_run", "save"):
            response = post_form(
                client, "/dashboard/cadence", {**RULES, **change, "action": action}
            )
            html = response.get_data(as_text=True)
            assert response.status_code == 400, (change, action)
            error = field_error(html, field)
            assert error is not None and words.lower() in error.lower(), (change, error)
            assert _counts(app) == (0, 0, 0)


def test_survey_overrides_dry_run_and_save(
    app: Flask, clock: FrozenClock, client: FlaskClient
) -> None:
    survey_id = _audience(app, clock)
    signed_in(app, client)
    path = f"/dashboard/cadence/surveys/{survey_id}"
    html = client.get(path).get_data(as_text=True)
    assert "a blank rule takes the workspace" in html
    dry = post_form(client, path, {"recontact_days": "10", "action": "dry_run"})
    assert "(now 6, +4)" in dry.get_data(as_text=True)
    bad = post_form(client, path, {"recontact_days": "99999", "action": "save"})
    assert bad.status_code == 400
    assert "between 0 and 3650" in (field_error(bad.get_data(as_text=True), "recontact_days") or "")
    with app.app_context():
        assert rules_for(survey_id).recontact_days == 30
    assert post_form(client, path, {"recontact_days": "10", "action": "save"}).status_code == 302
    with app.app_context():
        assert rules_for(survey_id).recontact_days == 10
        assert workspace_rules().recontact_days == 30
