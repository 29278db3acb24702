"""The signed survey page /s/<token> and the unsubscribe page /u/<token>, as a person's
browser uses them. GET records no answer (a score link's click waits: see
tests/test_one_click.py); bad input re-renders with 400 and records nothing; a bad link gets
a friendly 404 page, a closed survey a 410 page. The page takes no CSRF token: the signed
link is the credential."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer

from app.clock import FrozenClock
from app.db import db
from app.messages import links
from app.models import Invitation, OutboxMessage, Response, ScoreClick, Suppression
from tests.support.api import Api, iso
from tests.support.factories import invite_person, new_person, new_survey, permissive_cadence

BASE = "http://sounding.test"


@dataclass
class Invited:
    path: str
    token: str
    invitation_id: int
    deadline_at: str


def invite(api: Api, channel: str = "link", **person: Any) -> Invited:
    """A new survey, a new person and their invitation, with the path of its signed link."""
    body = invite_person(api, new_survey(api)["id"], new_person(api, **person)["id"], channel)
    path = body["link"].removeprefix(BASE)
    return Invited(path, path.removeprefix("/s/"), body["id"], body["deadline_at"])


@pytest.fixture
def invited(api: Api) -> Invited:
    return invite(api)


def responses(app: Flask) -> list[Response]:
    with app.app_context():
        return list(db.session.query(Response).order_by(Response.id))


def answer(client: FlaskClient, path: str, **form: str) -> Any:
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    assert "csrf_token" not in page.get_data(as_text=True)
    return client.post(path, data=form)


# --- showing the page -----------------------------------------------------------------------


def test_the_page_shows_the_question_the_scale_and_the_follow_up(
    app: Flask, client: FlaskClient, invited: Invited
) -> None:
    page = client.get(invited.path)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "How likely are you to recommend Acme to a friend or colleague?" in html
    radios = re.findall(r'<input type="radio" name="score" id="score-(\d+)" value="(\d+)"', html)
    assert radios == [(str(n), str(n)) for n in range(11)]
    for n in range(11):
        assert f'<label for="score-{n}">' in html
        assert f"{n} out of 10" in html
    assert 'role="radiogroup"' in html
    assert " checked" not in html
    assert "What is the main reason for your score?" in html
    assert '<select id="role" name="role"' in html  # the role is unknown, so it is asked
    assert responses(app) == []


def test_the_role_is_not_asked_when_known(client: FlaskClient, api: Api) -> None:
    known = invite(api, role="executive")
    assert 'name="role"' not in client.get(known.path).get_data(as_text=True)


def test_a_score_in_the_link_preselects_and_records_no_answer_yet(
    app: Flask, client: FlaskClient, api: Api, invited: Invited
) -> None:
    html = client.get(f"{invited.path}?score=7").get_data(as_text=True)
    assert re.findall(r'id="score-(\d+)" value="\d+" checked', html) == ["7"]
    assert "We received your score of 7 out of 10" in html
    for junk in ("11", "-1", "abc", "7.5", "²", "٣"):
        page = client.get(f"{invited.path}?score={junk}")
        assert page.status_code == 200, junk
    assert responses(app) == []
    body = api.get(f"/api/v1/invitations/{invited.invitation_id}").get_json()
    assert body["status"] == "sent" and body["responded_at"] is None


# --- answering ------------------------------------------------------------------------------


def test_an_answer_is_recorded_and_redirects_to_thanks(
    app: Flask, client: FlaskClient, api: Api, invited: Invited
) -> None:
    done = answer(client, invited.path, score="9", comment="  Fast support.  ", role="influencer")
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"{invited.path}/thanks")
    [response] = responses(app)
    assert (response.score, response.comment) == (9, "Fast support.")
    assert response.category.value == "promoter" and response.role.value == "influencer"
    assert response.channel.value == "link"
    person = api.get(f"/api/v1/people/{response.person_id}").get_json()
    assert person["role"] == "influencer"  # learnt from the answer
    thanks = client.get(done.headers["Location"])
    assert "9 out of 10" in thanks.get_data(as_text=True)


def test_answering_again_before_the_deadline_updates_the_answer(
    app: Flask, client: FlaskClient, clock: FrozenClock, invited: Invited
) -> None:
    assert answer(client, invited.path, score="3", comment="Slow.").status_code == 303
    clock.advance(days=2)
    page = client.get(invited.path).get_data(as_text=True)
    assert 'id="score-3" value="3" checked' in page and "Slow." in page
    assert answer(client, invited.path, score="8", comment="Better now.").status_code == 303
    [response] = responses(app)
    assert (response.score, response.comment, response.category.value) == (
        8,
        "Better now.",
        "passive",
    )


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "Please choose a number from 0 to 10."),
        ({"score": ""}, "Please choose a number from 0 to 10."),
        ({"score": "11"}, "whole number from 0 to 10"),
        ({"score": "abc"}, "whole number from 0 to 10"),
        ({"score": "-1"}, "whole number from 0 to 10"),
        ({"score": "7.5"}, "whole number from 0 to 10"),
        ({"score": "²"}, "whole number from 0 to 10"),
        ({"score": "5", "comment": "x" * 5001}, "keep your comment under 5000"),
        ({"score": "5", "role": "ceo"}, "choose one of the roles"),
    ],
)
def test_bad_answers_re_render_with_400_and_record_nothing(
    app: Flask, client: FlaskClient, invited: Invited, form: dict[str, str], message: str
) -> None:
    response = answer(client, invited.path, **{"comment": "I typed this.", **form})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'role="alert"' in html and 'name="score"' in html  # the form, with the error
    if "comment" not in form:
        assert "I typed this." in html  # what the person typed is kept
    assert responses(app) == []


def test_a_nul_in_the_comment_is_dropped_not_a_500(
    app: Flask, client: FlaskClient, invited: Invited
) -> None:
    assert answer(client, invited.path, score="6", comment="bad\x00byte").status_code == 303
    assert [(r.score, r.comment) for r in responses(app)] == [(6, "badbyte")]


def test_a_post_without_any_cookie_still_records(
    app: Flask, client: FlaskClient, invited: Invited
) -> None:
    """No page view, no session cookie, no CSRF token: the signed link is enough."""
    fresh = app.test_client(use_cookies=False)
    response = fresh.post(invited.path, data={"score": "9", "comment": "Lost my cookies."})
    assert response.status_code == 303
    assert "Set-Cookie" not in response.headers
    assert [(r.score, r.comment) for r in responses(app)] == [(9, "Lost my cookies.")]


def test_a_post_with_a_tampered_link_records_nothing(
    app: Flask, client: FlaskClient, invited: Invited
) -> None:
    for name, token in _bad_tokens(app, invited).items():
        response = client.post(f"/s/{token}", data={"score": "9"})
        assert response.status_code == 404, name
    assert responses(app) == []


# --- links that do not work -----------------------------------------------------------------


def _bad_tokens(app: Flask, invited: Invited) -> dict[str, str]:
    payload = {"i": invited.invitation_id}
    salt = links.Purpose.SURVEY.value
    flipped = invited.token[:-1] + ("A" if invited.token[-1] != "A" else "B")
    with app.app_context():
        other_purpose = links.sign(links.Purpose.UNSUBSCRIBE, payload)
        unknown_id = links.survey_token(
            987654, db.session.get(Invitation, invited.invitation_id).deadline_at
        )
    return {
        "tampered": flipped,
        "payload-swapped": URLSafeSerializer("k", salt=salt).dumps({"i": 2}).split(".")[0]
        + "."
        + invited.token.split(".")[1],
        "garbage": "not-a-token",
        "unknown-key": URLSafeSerializer("someone-elses-key", salt=salt).dumps(payload),
        "other-purpose": other_purpose,
        "unknown-invitation": unknown_id,
    }


def test_bad_links_get_a_friendly_404_and_record_nothing(
    app: Flask, client: FlaskClient, invited: Invited
) -> None:
    for name, token in _bad_tokens(app, invited).items():
        for response in (
            client.get(f"/s/{token}"),
            client.get(f"/s/{token}?score=9"),
            client.post(f"/s/{token}", data={"score": "9"}),
        ):
            assert response.status_code == 404, name
            assert response.mimetype == "text/html", name
            assert "This link doesn't work" in response.get_data(as_text=True), name
    assert responses(app) == []
    with app.app_context():
        assert db.session.query(ScoreClick).count() == 0


def test_a_deleted_invitation_is_a_404(app: Flask, client: FlaskClient, invited: Invited) -> None:
    with app.app_context():
        db.session.delete(db.session.get(Invitation, invited.invitation_id))
        db.session.commit()
    assert client.get(invited.path).status_code == 404


def test_after_the_deadline_the_survey_is_closed_and_records_nothing(
    app: Flask, client: FlaskClient, clock: FrozenClock, invited: Invited
) -> None:
    clock.advance(days=11)
    for response in (
        client.get(invited.path),
        client.post(invited.path, data={"score": "9"}),
    ):
        assert response.status_code == 410
        html = response.get_data(as_text=True)
        assert "This survey has closed" in html and "nothing was recorded" in html
    assert responses(app) == []


def test_the_closed_page_remembers_an_answer(
    app: Flask, client: FlaskClient, clock: FrozenClock, invited: Invited
) -> None:
    assert answer(client, invited.path, score="10").status_code == 303
    clock.advance(days=11)
    response = client.get(invited.path)
    assert response.status_code == 410
    assert "your answer was recorded" in response.get_data(as_text=True)
    assert [r.score for r in responses(app)] == [10]


def test_a_canceled_invitation_is_closed(
    app: Flask, client: FlaskClient, api: Api, invited: Invited
) -> None:
    assert api.post(f"/api/v1/invitations/{invited.invitation_id}/cancel").status_code == 200
    assert client.get(invited.path).status_code == 410
    assert client.post(invited.path, data={"score": "9"}).status_code == 410
    assert responses(app) == []


def test_a_link_signed_with_the_older_key_still_works(
    app: Flask, client: FlaskClient, invited: Invited
) -> None:
    older = app.config["SECRET_KEYS"][1]
    with app.app_context():
        deadline = db.session.get(Invitation, invited.invitation_id).deadline_at
    token = URLSafeSerializer(older, salt=links.Purpose.SURVEY.value).dumps(
        {"i": invited.invitation_id, "exp": int(deadline.timestamp())}
    )
    assert token != invited.token
    assert answer(client, f"/s/{token}", score="4").status_code == 303
    assert [r.score for r in responses(app)] == [4]


# --- unsubscribe ----------------------------------------------------------------------------


def _unsubscribe_path(app: Flask) -> str:
    with app.app_context():
        message = db.session.query(OutboxMessage).filter_by(channel="email").one()
    match = re.search(r"<(http://sounding\.test(/u/[^>]+))>", message.headers["List-Unsubscribe"])
    assert match, message.headers
    assert match.group(1) in message.text
    return match.group(2)


def _statuses(api: Api, *ids: int) -> list[str]:
    return [api.get(f"/api/v1/invitations/{i}").get_json()["status"] for i in ids]


def test_unsubscribe_get_changes_nothing_post_suppresses(
    app: Flask, client: FlaskClient, api: Api
) -> None:
    permissive_cadence(api)
    by_email = invite(api, channel="email", phone="+33 6 12 34 56 78")
    survey_id = api.get(f"/api/v1/invitations/{by_email.invitation_id}").get_json()["survey_id"]
    person_id = api.get(f"/api/v1/invitations/{by_email.invitation_id}").get_json()["person_id"]
    by_sms = api.post(
        "/api/v1/invitations",
        json={"survey_id": survey_id, "person_id": person_id, "channel": "sms"},
    ).get_json()["id"]
    path = _unsubscribe_path(app)

    page = client.get(path)
    assert page.status_code == 200
    assert "u-1@globex.example" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Suppression).count() == 0
    assert _statuses(api, by_email.invitation_id, by_sms) == ["sent", "sent"]

    done = client.post(path)  # the page's own form carries no CSRF token; the link is the proof
    assert done.status_code == 200
    assert "unsubscribed" in done.get_data(as_text=True)
    with app.app_context():
        suppression = db.session.query(Suppression).one()
        assert (suppression.value, suppression.reason.value) == (
            "u-1@globex.example",
            "unsubscribed",
        )
    # The email invitation ends at once; the SMS one is another address and goes on.
    assert _statuses(api, by_email.invitation_id, by_sms) == ["suppressed", "sent"]
    assert client.post(path).status_code == 200  # again: nothing changes
    with app.app_context():
        assert db.session.query(Suppression).count() == 1


def test_one_click_unsubscribe_without_a_csrf_token(
    app: Flask, client: FlaskClient, api: Api
) -> None:
    invited = invite(api, channel="email")
    path = _unsubscribe_path(app)
    response = client.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert _statuses(api, invited.invitation_id) == ["suppressed"]
    refused = api.post(
        "/api/v1/invitations",
        json={"survey_id": new_survey(api)["id"], "person_id": 1, "channel": "email"},
    )
    error = refused.get_json()["error"]
    assert refused.status_code == 409
    assert (error["code"], error["rule"]) == ("throttled", "suppressed")


def test_a_bad_unsubscribe_link_is_a_404(app: Flask, client: FlaskClient, invited: Invited) -> None:
    for path in ("/u/garbage", f"/u/{invited.token}"):  # a survey token is not an unsubscribe one
        assert client.get(path).status_code == 404
        assert client.post(path).status_code == 404
    with app.app_context():
        assert db.session.query(Suppression).count() == 0


def test_a_survey_that_closes_early_closes_its_links(
    app: Flask, client: FlaskClient, api: Api, clock: FrozenClock, invited: Invited
) -> None:
    survey_id = api.get(f"/api/v1/invitations/{invited.invitation_id}").get_json()["survey_id"]
    closes_at = (clock.now() + timedelta(hours=1)).isoformat()
    assert (
        api.patch(f"/api/v1/surveys/{survey_id}", json={"closes_at": closes_at}).status_code == 200
    )
    invitation = api.get(f"/api/v1/invitations/{invited.invitation_id}").get_json()
    assert invitation["deadline_at"] == iso(clock.now() + timedelta(hours=1))
    clock.advance(hours=2)
    assert client.get(invited.path).status_code == 410
    assert client.post(invited.path, data={"score": "9"}).status_code == 410
    assert responses(app) == []
