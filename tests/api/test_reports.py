"""NPS figures: the arithmetic, the groupings, the response rate and the filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from app.clock import FrozenClock
from app.db import db
from app.models import Invitation, Response
from app.policy.nps import NpsFigures, category, response_rate
from app.vocabulary import Channel, InvitationStatus, Role, Trigger
from tests.support.api import Api, error_of
from tests.support.factories import account_row, person_row, survey_row


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0, "detractor"),
        (6, "detractor"),
        (7, "passive"),
        (8, "passive"),
        (9, "promoter"),
        (10, "promoter"),
    ],
)
def test_category_boundaries(score: int, expected: str) -> None:
    assert category(score).value == expected


@pytest.mark.parametrize("score", [-1, 11])
def test_category_rejects_out_of_range(score: int) -> None:
    with pytest.raises(ValueError, match="between 0 and 10"):
        category(score)


def test_nps_arithmetic() -> None:
    assert NpsFigures(5, 3, 2).nps == 30.0
    assert NpsFigures(0, 0, 4).nps == -100.0
    assert NpsFigures(4, 0, 0).nps == 100.0
    assert NpsFigures(1, 1, 1).nps == 0.0
    assert NpsFigures(2, 1, 0).nps == 66.7
    assert NpsFigures(0, 0, 0).nps is None
    assert response_rate(1, 3) == 33.3
    assert response_rate(0, 0) is None


def _data(app: Flask, clock: FrozenClock) -> dict[str, int]:
    """Two accounts, four answers and two silent invitations across roles, channels, months."""
    now = clock.now()
    with app.app_context():
        survey = survey_row(now, question="Q?")
        globex = account_row(now, "Globex", external_id="globex")
        initech = account_row(now, "Initech", external_id="initech")
        rows = [
            # (role, account, channel, score or None, days ago)
            (Role.EXECUTIVE, globex, Channel.EMAIL, 10, 40),
            (Role.END_USER, globex, Channel.SMS, 3, 40),
            (Role.END_USER, initech, Channel.EMAIL, 8, 5),
            (None, initech, Channel.LINK, 9, 5),
            (Role.END_USER, initech, Channel.EMAIL, None, 5),
            (Role.DECISION_MAKER, globex, Channel.EMAIL, None, 5),
        ]
        for i, (role, account, channel, score, ago) in enumerate(rows):
            when = now - timedelta(days=ago)
            person = person_row(when, email=f"p{i}@x.example", role=role, account=account)
            inv = Invitation(
                survey=survey,
                person=person,
                account_id=None,
                channel=channel,
                status=InvitationStatus.RESPONDED
                if score is not None
                else InvitationStatus.EXPIRED,
                trigger=Trigger.API,
                scheduled_at=when,
                sent_at=when,
                deadline_at=when + timedelta(days=10),
                attempts=0,
                created_at=when,
                updated_at=when,
            )
            db.session.add_all([person, inv])
            db.session.flush()
            inv.account_id = account.id
            if score is not None:
                db.session.add(
                    Response(
                        invitation=inv,
                        survey=survey,
                        person=person,
                        account=account,
                        score=score,
                        category=category(score),
                        role=role,
                        channel=channel,
                        answered_at=when,
                        updated_at=when,
                    )
                )
        # A canceled invitation is not counted as asked.
        db.session.add(
            Invitation(
                survey=survey,
                person=person,
                account_id=initech.id,
                channel=Channel.SMS,
                status=InvitationStatus.CANCELED,
                trigger=Trigger.API,
                scheduled_at=now,
                sent_at=now,
                deadline_at=now + timedelta(days=10),
                attempts=0,
                created_at=now,
                updated_at=now,
            )
        )
        db.session.commit()
        return {"survey": survey.id, "globex": globex.id, "initech": initech.id}


def test_overall_figures_and_response_rate(app: Flask, clock: FrozenClock, api: Api) -> None:
    ids = _data(app, clock)
    report = api.get(f"/api/v1/reports/nps?survey_id={ids['survey']}").get_json()
    assert (report["promoters"], report["passives"], report["detractors"]) == (2, 1, 1)
    assert report["nps"] == 25.0
    assert report["invited"] == 6 and report["responded"] == 4
    assert report["response_rate"] == 66.7


@pytest.mark.parametrize("group_by", ["role", "account", "channel", "month", "week"])
@pytest.mark.parametrize("filters", ["", "&channel=email", "&role=end_user", "&role=unknown"])
def test_grouped_reports_carry_the_ungrouped_overall_figures(
    app: Flask, clock: FrozenClock, api: Api, group_by: str, filters: str
) -> None:
    _data(app, clock)
    plain = api.get(f"/api/v1/reports/nps?{filters}").get_json()
    grouped = api.get(f"/api/v1/reports/nps?group_by={group_by}{filters}").get_json()
    figures = ("nps", "responses", "promoters", "passives", "detractors", "invited", "responded")
    assert {k: grouped[k] for k in (*figures, "response_rate")} == {
        k: plain[k] for k in (*figures, "response_rate")
    }


def test_grouped_by_role(app: Flask, clock: FrozenClock, api: Api) -> None:
    _data(app, clock)
    groups = {
        g["key"]: g for g in api.get("/api/v1/reports/nps?group_by=role").get_json()["groups"]
    }
    assert groups["executive"]["nps"] == 100.0
    assert groups["end_user"]["responses"] == 2 and groups["end_user"]["nps"] == -50.0
    assert groups["end_user"]["invited"] == 3 and groups["end_user"]["response_rate"] == 66.7
    assert groups["decision_maker"]["responses"] == 0 and groups["decision_maker"]["nps"] is None
    assert groups["decision_maker"]["invited"] == 1
    assert groups["unknown"]["label"] == "Unknown role"
    assert list(groups) == ["end_user", "decision_maker", "executive", "unknown"]


def test_grouped_by_account_and_channel(app: Flask, clock: FrozenClock, api: Api) -> None:
    ids = _data(app, clock)
    by_account = {
        g["label"]: g for g in api.get("/api/v1/reports/nps?group_by=account").get_json()["groups"]
    }
    assert by_account["Globex"]["nps"] == 0.0 and by_account["Globex"]["invited"] == 3
    assert by_account["Initech"]["nps"] == 50.0
    assert by_account["Globex"]["key"] == ids["globex"]
    by_channel = {
        g["key"]: g for g in api.get("/api/v1/reports/nps?group_by=channel").get_json()["groups"]
    }
    assert by_channel["email"]["responses"] == 2 and by_channel["email"]["invited"] == 4
    assert by_channel["sms"]["label"] == "SMS" and by_channel["sms"]["nps"] == -100.0


def test_grouped_by_month_and_week(app: Flask, clock: FrozenClock, api: Api) -> None:
    _data(app, clock)
    months = api.get("/api/v1/reports/nps?group_by=month").get_json()["groups"]
    assert [(g["key"], g["responses"]) for g in months] == [("2026-10", 2), ("2026-11", 2)]
    weeks = api.get("/api/v1/reports/nps?group_by=week").get_json()["groups"]
    assert [g["key"] for g in weeks] == ["2026-10-05", "2026-11-09"]


def test_filters(app: Flask, clock: FrozenClock, api: Api) -> None:
    _data(app, clock)
    recent = api.get("/api/v1/reports/nps?since=2026-11-01").get_json()
    assert recent["responses"] == 2 and recent["invited"] == 4
    globex = api.get("/api/v1/reports/nps?account=globex").get_json()
    assert globex["responses"] == 2
    unknown_role = api.get("/api/v1/reports/nps?role=unknown").get_json()
    assert unknown_role["responses"] == 1 and unknown_role["promoters"] == 1
    email = api.get("/api/v1/reports/nps?channel=email&until=2026-11-01T00:00:00Z").get_json()
    assert email["responses"] == 1 and email["promoters"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("group_by=planet", "group_by"),
        ("role=ceo", "role"),
        ("channel=fax", "channel"),
        ("since=yesterday", "since"),
        ("since=2026-11-01T10:00:00", "since"),
        ("since=2026-11-02&until=2026-11-01", "until"),
        ("survey_id=abc", "survey_id"),
        ("account_id=x", "account_id"),
    ],
)
def test_bad_report_queries_are_400(api: Api, query: str, field: str) -> None:
    response = api.get(f"/api/v1/reports/nps?{query}")
    assert response.status_code == 400
    assert error_of(response)["field"] == field


def test_unknown_account_is_404(api: Api) -> None:
    response = api.get("/api/v1/reports/nps?account=nope")
    assert response.status_code == 404 and error_of(response)["field"] == "account"


def test_empty_report(api: Api) -> None:
    report = api.get("/api/v1/reports/nps").get_json()
    assert report["nps"] is None and report["responses"] == 0 and report["response_rate"] is None


def test_responses_list_filters_and_pages(app: Flask, clock: FrozenClock, api: Api) -> None:
    _data(app, clock)
    first = api.get("/api/v1/responses?limit=3").get_json()
    assert len(first["data"]) == 3 and first["next_cursor"]
    second = api.get(f"/api/v1/responses?limit=3&cursor={first['next_cursor']}").get_json()
    assert len(second["data"]) == 1 and second["next_cursor"] is None
    seen = [r["id"] for r in first["data"] + second["data"]]
    assert len(set(seen)) == 4
    execs = api.get("/api/v1/responses?role=executive").get_json()["data"]
    assert [r["score"] for r in execs] == [10]
    assert set(execs[0]) >= {"score", "comment", "role", "account", "channel", "answered_at"}
    assert api.get("/api/v1/responses?cursor=%%%").status_code == 400
