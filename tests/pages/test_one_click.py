"""One click on a score in the email records it; a scanner opening all eleven records nothing.

The clicks are GETs of the score links of a real email (from the outbox); time is the test
clock; the sweep that settles clicks is the real one."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.clock import FrozenClock
from app.db import db
from app.jobs.sweep import sweep
from app.models import Invitation, OutboxMessage, Response, ScoreClick
from app.policy.clicks import BURST_WINDOW, MAX_CLICKS, QUIET_PERIOD
from app.vocabulary import ClickState, InvitationStatus
from tests.support.api import Api
from tests.support.factories import new_person, new_survey

BASE = "http://sounding.test"


@pytest.fixture
def links(app: Flask, api: Api) -> dict[int, str]:
    """The eleven score links of an emailed invitation, by score (paths)."""
    survey = new_survey(api)
    person = new_person(api, name="Dana Scully")
    made = api.post(
        "/api/v1/invitations",
        json={"survey_id": survey["id"], "person_id": person["id"], "channel": "email"},
    )
    assert made.status_code == 201
    with app.app_context():
        html = db.session.query(OutboxMessage).one().html
    found = re.findall(r'href="(http://sounding\.test/s/[^"?]+\?score=(\d+))"', html)
    assert [int(n) for _, n in found] == list(range(11))
    return {int(n): url.removeprefix(BASE) for url, n in found}


def answer_of(app: Flask) -> tuple[int, str | None] | None:
    with app.app_context():
        response = db.session.query(Response).one_or_none()
        return (response.score, response.comment) if response else None


def invitation(app: Flask) -> Invitation:
    with app.app_context():
        return db.session.query(Invitation).one()


def states(app: Flask) -> list[str]:
    with app.app_context():
        return [c.state.value for c in db.session.query(ScoreClick).order_by(ScoreClick.id)]


def settle(app: Flask) -> int:
    with app.app_context():
        return sweep()["clicks_answered"]


def scanner_pass(client: FlaskClient, links: dict[int, str], clock: FrozenClock) -> None:
    """What a mail scanner does: open every link, a moment apart."""
    for n in range(11):
        assert client.get(links[n]).status_code == 200
        clock.advance(seconds=1)


def test_one_click_says_received_and_is_recorded_after_the_quiet_period(
    app: Flask, client: FlaskClient, clock: FrozenClock, links: dict[int, str]
) -> None:
    clicked_at = clock.now()
    page = client.get(links[9])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Right away: the person reads that the score arrived and may say why.
    assert "We received your score of 9 out of 10" in html and 'role="status"' in html
    assert '<textarea id="comment" name="comment"' in html
    assert re.findall(r'id="score-(\d+)" value="\d+" checked', html) == ["9"]
    assert answer_of(app) is None and states(app) == ["pending"]

    clock.advance(QUIET_PERIOD - timedelta(seconds=1))
    assert settle(app) == 0 and answer_of(app) is None  # still quiet

    clock.advance(seconds=1)
    assert settle(app) == 1  # they never pressed a button: the click is the answer
    assert answer_of(app) == (9, None)
    assert states(app) == ["answered"]
    done = invitation(app)
    assert done.status == InvitationStatus.RESPONDED and done.responded_at == clicked_at
    with app.app_context():
        assert db.session.query(Response).one().channel.value == "email"
    # Opening the page again shows the answer; a comment can still be added.
    again = client.get(links[9].split("?")[0]).get_data(as_text=True)
    assert "You have already answered" in again and 'value="9" checked' in again


def test_a_click_is_also_settled_when_the_page_is_opened_again(
    app: Flask, client: FlaskClient, clock: FrozenClock, links: dict[int, str]
) -> None:
    client.get(links[6])
    clock.advance(QUIET_PERIOD)
    page = client.get(links[6].split("?")[0]).get_data(as_text=True)
    assert answer_of(app) == (6, None)
    assert "You have already answered" in page


def test_a_scanner_burst_records_nothing(
    app: Flask, client: FlaskClient, clock: FrozenClock, links: dict[int, str]
) -> None:
    scanner_pass(client, links, clock)
    clock.advance(QUIET_PERIOD)
    assert settle(app) == 0
    assert answer_of(app) is None
    assert states(app) == ["scanner"] * 11
    assert invitation(app).status == InvitationStatus.SENT  # reminders go on


def test_a_scanner_burst_does_not_overwrite_an_explicit_answer(
    app: Flask, client: FlaskClient, clock: FrozenClock, links: dict[int, str]
) -> None:
    path = links[0].split("?")[0]
    assert client.post(path, data={"score": "3", "comment": "Slow."}).status_code == 303
    scanner_pass(client, links, clock)
    client.get(links[10])  # and a single late fetch too
    clock.advance(hours=1)
    settle(app)
    assert answer_of(app) == (3, "Slow.")
    assert states(app) == []  # once answered, a click is not even kept


def test_the_form_wins_over_a_pending_click_and_a_burst_around_it(
    app: Flask, client: FlaskClient, clock: FrozenClock, links: dict[int, str]
) -> None:
    client.get(links[9])  # the person's click...
    clock.advance(seconds=20)
    path = links[0].split("?")[0]
    assert client.post(path, data={"score": "7", "comment": "Meant 7."}).status_code == 303
    clock.advance(QUIET_PERIOD)
    settle(app)
    assert answer_of(app) == (7, "Meant 7.")
    assert states(app) == ["superseded"]


def test_a_person_clicking_after_the_scanner_is_recorded(
    app: Flask, client: FlaskClient, clock: FrozenClock, links: dict[int, str]
) -> None:
    scanner_pass(client, links, clock)  # at delivery
    clock.advance(hours=3)
    client.get(links[8])  # the person, hours later
    clock.advance(QUIET_PERIOD)
    assert settle(app) == 1
    assert answer_of(app) == (8, None)
    assert states(app) == ["scanner"] * 11 + ["answered"]


def test_a_click_within_a_scanners_burst_window_waits_for_the_form(
    app: Flask, client: FlaskClient, clock: FrozenClock, links: dict[int, str]
) -> None:
    """The price of safety: a click among a scanner's counts as a scanner's."""
    scanner_pass(client, links, clock)
    clock.advance(BURST_WINDOW - timedelta(seconds=20))
    page = client.get(links[8]).get_data(as_text=True)
    assert "Send my answer" in page  # the page they see offers the button that always records
    clock.advance(QUIET_PERIOD)
    settle(app)
    assert answer_of(app) is None


def test_the_same_score_twice_is_not_a_burst(
    app: Flask, client: FlaskClient, clock: FrozenClock, links: dict[int, str]
) -> None:
    client.get(links[10])  # a time-of-click scanner checks the link...
    client.get(links[10])  # ...then the person's browser opens it
    clock.advance(QUIET_PERIOD)
    settle(app)
    assert answer_of(app) == (10, None)
    assert sorted(states(app)) == ["answered", "superseded"]


def test_a_click_just_before_the_deadline_counts(
    app: Flask, client: FlaskClient, clock: FrozenClock, links: dict[int, str]
) -> None:
    deadline = invitation(app).deadline_at
    clock.set(deadline - timedelta(seconds=30))
    client.get(links[4])
    clock.set(deadline + timedelta(minutes=5))
    with app.app_context():
        stats = sweep()
    assert stats["clicks_answered"] == 1 and stats["expired"] == 0
    assert answer_of(app) == (4, None)
    assert invitation(app).status == InvitationStatus.RESPONDED


def test_head_requests_and_bad_scores_record_nothing(
    app: Flask, client: FlaskClient, clock: FrozenClock, links: dict[int, str]
) -> None:
    path = links[0].split("?")[0]
    assert client.head(links[5]).status_code == 200
    for junk in ("11", "-1", "x", ""):
        assert client.get(f"{path}?score={junk}").status_code == 200
    assert states(app) == []


def test_clicks_per_invitation_are_capped(
    app: Flask, client: FlaskClient, clock: FrozenClock, links: dict[int, str]
) -> None:
    for _ in range(MAX_CLICKS + 5):
        client.get(links[1])
    assert len(states(app)) == MAX_CLICKS
    clock.advance(QUIET_PERIOD)
    settle(app)
    assert answer_of(app) == (1, None)
    with app.app_context():
        assert db.session.query(ScoreClick).filter_by(state=ClickState.ANSWERED).count() == 1
