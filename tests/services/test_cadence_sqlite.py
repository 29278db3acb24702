"""The development default, SQLite: the demo's history keeps the cadence it implies, and a
campaign, the account cap's waiting and the cadence sweep run end to end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from app.clock import FrozenClock, install
from app.commands.demo import DEMO_SEND_WINDOW
from app.db import db
from app.jobs.campaigns import cadence_sweep
from app.models import Invitation
from app.policy.rules import CadenceOverrides, CadenceRules
from tests.support.api import Api, issue_test_key
from tests.support.cadence import check_invariants
from tests.support.settings import TEST_SETTINGS


@pytest.fixture
def sqlite_app(tmp_path: Path, clock: FrozenClock) -> Iterator[Flask]:
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}"})
    install(app, clock)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_demo_history_keeps_the_default_cadence(sqlite_app: Flask) -> None:
    result = sqlite_app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    with sqlite_app.app_context():
        assert db.session.query(Invitation).count() > 100
        # The demo survey sends at any hour (so its fresh invitations show in the outbox at
        # once); every other rule is the workspace default.
        from app.services.cadence_rules import rules_for

        survey_id = db.session.query(Invitation.survey_id).first()[0]
        assert rules_for(survey_id) == CadenceRules().merged(
            CadenceOverrides.from_mapping(DEMO_SEND_WINDOW)
        )
        check_invariants(rules_for(survey_id))


def test_campaign_and_waiting_on_sqlite(sqlite_app: Flask, clock: FrozenClock) -> None:
    from flask_migrate import upgrade

    with sqlite_app.app_context():
        upgrade()
    api = Api(sqlite_app.test_client(), issue_test_key(sqlite_app, "admin"))
    assert api.put("/api/v1/cadence", json={"account_cap": 2}).status_code == 200
    survey = api.post("/api/v1/surveys", json={"name": "NPS"}).get_json()["id"]
    for i in range(9):
        api.post(
            "/api/v1/people",
            json={
                "email": f"p{i}@x.example",
                "timezone": "America/New_York" if i % 2 else "Europe/Berlin",
                "account": {"external_id": f"a{i % 3}"},
            },
        )
    created = api.post(f"/api/v1/surveys/{survey}/campaigns", json={"channel": "email"})
    campaign = api.get(f"/api/v1/campaigns/{created.get_json()['id']}").get_json()
    assert (campaign["invited"], campaign["waiting"], campaign["skipped"]) == (6, 3, {})
    clock.advance(days=7, hours=6)
    with sqlite_app.app_context():
        assert cadence_sweep()["deferred_decided"] == 3
    campaign = api.get(f"/api/v1/campaigns/{created.get_json()['id']}").get_json()
    assert (campaign["invited"], campaign["waiting"]) == (9, 0)
    with sqlite_app.app_context():
        check_invariants(CadenceRules(account_cap=2))
        assert clock.now() - timedelta(days=8) < max(
            i.created_at for i in db.session.query(Invitation)
        )
