"""The workspace in a real browser (the system Chromium): create a survey and see its plan
preview, change a cadence rule after its dry run, and every page passes axe-core with no
serious or critical violation and has no horizontal overflow at 1280 and 375 px."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, Page

from app.clock import FrozenClock
from app.db import db
from app.models import Account, StaffUser, WidgetKey
from app.services.cadence_rules import workspace_rules
from app.vocabulary import Role, StaffRole
from tests.support.browser import chromium, serving, watch
from tests.support.staff import STAFF_PASSWORD, make_staff
from tests.support.workspace import asked, make_person, make_survey

pytestmark = pytest.mark.slow
SHOTS = os.environ.get("SOUNDING_SHOTS", "")
WIDTHS = (1280, 375)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture
def sounding(app: Flask) -> Iterator[str]:
    with serving(app) as base:
        yield base


def _data(app: Flask, clock: FrozenClock) -> dict[str, int]:
    now = clock.now()
    with app.app_context():
        csm = StaffUser(
            email="jane@acme.example", name="Jane Doe", role=StaffRole.CSM, created_at=now
        )
        account = Account(external_id="globex", name="Globex", csm=csm, created_at=now)
        survey = make_survey(now, name="Product NPS")
        person = None
        for i, (score, role) in enumerate([(10, Role.EXECUTIVE), (3, Role.END_USER), (8, None)]):
            when = now - timedelta(days=40 * i + 1)
            person = make_person(when, f"p{i}@globex.example", account, name=f"Pat {i}", role=role)
            comment = "A long comment about exports that time out on large projects. " * (i + 1)
            asked(survey, person, when, score, role, comment)
        db.session.add(
            WidgetKey(
                name="App",
                public_key="pk_test",
                secret="wsk_test",
                allowed_origins=["https://app.example.com"],
                created_at=now,
            )
        )
        db.session.commit()
        assert person is not None
        return {"survey": survey.id, "person": person.id, "account": account.id}


def make_admin(app: Flask) -> str:
    make_staff(app, "admin", "alex@acme.example")
    return "alex@acme.example"


def _sign_in(page: Page, base: str, email: str) -> None:
    """Sign in with a password on the sign-in page."""
    page.goto(f"{base}/dashboard/sign-in")
    page.fill("#email", email)
    page.fill("#password", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard/")


def _check(page: Page, axe: Axe, name: str) -> None:
    results = axe.run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], (name, bad)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, (name, overflow)
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_every_page_is_accessible_and_fits(
    app: Flask, clock: FrozenClock, browser: Browser, sounding: str
) -> None:
    ids = _data(app, clock)
    key = make_admin(app)
    axe = Axe()
    paths = [
        "/dashboard/",
        "/dashboard/responses",
        "/dashboard/surveys",
        "/dashboard/surveys/new",
        f"/dashboard/surveys/{ids['survey']}",
        f"/dashboard/surveys/{ids['survey']}/email",
        "/dashboard/cadence",
        f"/dashboard/cadence/surveys/{ids['survey']}",
        "/dashboard/people",
        f"/dashboard/people/{ids['person']}",
        "/dashboard/accounts",
        f"/dashboard/accounts/{ids['account']}",
        "/dashboard/widget-keys",
        # The staff pages, in the same layout and navigation.
        "/dashboard/staff",
        "/dashboard/api-keys",
        "/dashboard/audit-log",
        "/dashboard/account",
    ]
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        log = watch(page)
        _sign_in(page, sounding, key)
        for path in paths:
            response = page.goto(sounding + path)
            assert response is not None and response.status == 200, path
            _check(page, axe, f"{path.strip('/').replace('/', '_')}_{width}")
        # The overview's chart was drawn by Chart.js from the page's JSON (no inline script).
        page.goto(f"{sounding}/dashboard/")
        assert page.evaluate("Chart.getChart(document.querySelector('canvas[data-chart]')) != null")
        assert log.script_errors == []
        context.close()


def test_create_a_survey_and_see_its_plan_preview(
    app: Flask, browser: Browser, sounding: str
) -> None:
    key = make_admin(app)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, sounding, key)
    page.goto(f"{sounding}/dashboard/surveys/new")
    page.fill("#name", "Onboarding NPS")
    page.fill("#deadline_days", "9")
    page.select_option("#sample-timezone", "Asia/Tokyo")
    page.fill("#sample-day", "2026-11-20")
    page.fill("#sample-time", "16:30")
    page.click("button[value=preview]")
    preview = page.locator("#preview")
    assert "Fri 20 Nov 2026, 16:30" in preview.inner_text()
    page.click("button[value=save]")
    page.wait_for_url(f"{sounding}/dashboard/surveys/*")
    text = page.locator("#preview").inner_text()
    assert "Reminder 1" in text and "Reminder 2" in text and "Deadline" in text
    assert "created" in page.locator(".flash").inner_text()
    page.close()


def test_change_a_cadence_rule_after_its_dry_run(
    app: Flask, clock: FrozenClock, browser: Browser, sounding: str
) -> None:
    _data(app, clock)
    key = make_admin(app)
    page = browser.new_page(viewport={"width": 375, "height": 800})
    _sign_in(page, sounding, key)
    page.goto(f"{sounding}/dashboard/cadence")
    # Everyone got the survey 1, 41 and 81 days ago: a 30-day recurrence frees two of them.
    page.fill("#recurrence_days", "30")
    page.click("button[value=dry_run]")
    result = page.locator(".dry-result").inner_text()
    assert "Of 3 people, 2 may be asked today (now 0, +2)." in result
    assert "got this survey too recently (recurrence)" in result
    with app.app_context():
        assert workspace_rules().recurrence_days == 90
    page.click("button[value=save]")
    assert "saved" in page.locator(".flash").inner_text()
    with app.app_context():
        assert workspace_rules().recurrence_days == 30
    page.close()
