"""Query parameters of GET /api/v1/responses and /api/v1/reports/nps: each bad one is a 400
naming it, never a 500."""

from __future__ import annotations

import pytest

from tests.support.api import Api, error_of


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("role=ceo", "role"),
        ("channel=pigeon", "channel"),
        ("since=yesterday", "since"),
        ("since=2026-11-01T09:00:00", "since"),  # no time zone
        ("since=0001-01-01T00:00:00%2B14:00", "since"),  # before the year 1 in UTC
        ("until=9999-12-31T23:59:59-14:00", "until"),  # after the year 9999 in UTC
        ("since=2026-11-02&until=2026-11-01", "until"),
        ("survey_id=abc", "survey_id"),
        ("account=nobody", "account"),
        ("account=%00", "account"),
        ("role=end_user%00", "role"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/responses", "/api/v1/reports/nps"])
def test_bad_filters(api: Api, path: str, query: str, field: str) -> None:
    response = api.get(f"{path}?{query}")
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert error_of(response)["field"] == field


def test_bad_group_by_and_limit(api: Api) -> None:
    assert error_of(api.get("/api/v1/reports/nps?group_by=planet"))["field"] == "group_by"
    assert error_of(api.get("/api/v1/responses?limit=0"))["field"] == "limit"


def test_good_filters_answer(api: Api) -> None:
    query = "role=unknown&channel=email&since=2026-11-01&until=2026-11-17T00:00:00Z"
    assert api.get(f"/api/v1/responses?{query}").get_json() == {"data": [], "next_cursor": None}
    assert api.get(f"/api/v1/reports/nps?{query}&group_by=role").status_code == 200
