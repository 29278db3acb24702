"""Email through SendGrid end to end: the real delivery job and the real SDK, with
pytest-httpserver standing in for the SendGrid API (``SENDGRID_HOST``). Checks the exact
request (From, Reply-To, headers, custom args, both parts, subject, signed links), the From
rules, batching, and what provider errors do to the invitation."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer

from app.clock import FrozenClock
from app.db import db
from app.jobs.sweep import sweep
from app.messages import links
from app.models import Invitation, Message
from app.vocabulary import InvitationStatus, MessageStatus
from channels.base import substitute
from tests.support.api import Api, error_of, issue_test_key
from tests.support.app import make_app
from tests.support.factories import invite_person, new_person, new_staff, new_survey
from tests.support.jobs import run_worker
from tests.support.sendgrid import SEND, accept_all, bodies, sendgrid_settings

BASE = "http://sounding.test"


@pytest.fixture
def sg_app(database_url: str, clock: FrozenClock, httpserver: HTTPServer) -> Iterator[Flask]:
    """The app sending email through the SendGrid channel to the local stand-in."""
    yield from make_app(database_url, clock, **sendgrid_settings(httpserver))


@pytest.fixture
def sg_api(sg_app: Flask) -> Api:
    return Api(sg_app.test_client(), issue_test_key(sg_app, "admin"))


def person_of(api: Api, external_id: str, csm: str | None = None) -> dict[str, Any]:
    account = {"external_id": "globex", "name": "Globex", **({"csm": csm} if csm else {})}
    return new_person(api, external_id, name="Dana Scully", account=account)


def test_the_exact_request(sg_app: Flask, sg_api: Api, httpserver: HTTPServer) -> None:
    accept_all(httpserver)
    new_staff(sg_api, "jane@acme.example", name="Jane Doe", role="csm")
    survey = new_survey(sg_api)
    person = person_of(sg_api, "u-1", csm="jane@acme.example")
    made = invite_person(sg_api, survey["id"], person["id"])

    [(request, _)] = httpserver.log
    assert request.headers["Authorization"] == "Bearer SG.test-key"
    [body] = bodies(httpserver)
    [p] = body["personalizations"]
    jane = {"email": "jane@acme.example", "name": "Jane Doe"}
    assert p["to"] == [{"email": "u-1@globex.example", "name": "Dana Scully"}]
    assert p["from"] == jane and body["from"] == jane
    # Jane's domain is authenticated: From is Jane, and a reply goes to her (From; a Reply-To
    # equal to From is left out so CSMs share requests).
    assert "reply_to" not in body and "reply_to" not in p
    with sg_app.app_context():
        message = db.session.query(Message).one()
        unsubscribe = p["substitutions"]["%unsubscribe_url%"]
        assert unsubscribe.startswith(f"{BASE}/u/")
        assert links.verify(links.Purpose.UNSUBSCRIBE, unsubscribe.rsplit("/", 1)[1]) == {
            "k": "email",
            "v": "u-1@globex.example",
        }
    assert p["headers"] == {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert p["custom_args"] == {
        "sounding_message_id": str(message.id),
        "sounding_invitation_id": str(made["id"]),
        "sounding_step": "initial",
    }
    assert body["tracking_settings"] == {
        "click_tracking": {"enable": False, "enable_text": False},
        "subscription_tracking": {"enable": False},
        "open_tracking": {"enable": True},
    }
    assert body["mail_settings"] == {"sandbox_mode": {"enable": False}}
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]

    subject = substitute(body["subject"], p["substitutions"])
    text, html = (substitute(c["value"], p["substitutions"]) for c in body["content"])
    assert subject == "Quick question from Jane Doe at Acme"
    assert text.startswith("Hi Dana,\n") and '<p style="margin:0 0 16px 0;">Hi Dana,</p>' in html
    assert "How likely are you to recommend Acme to a friend or colleague?" in text
    assert "This survey closes on Thursday, November 26, 2026." in text + html
    assert f'href="{unsubscribe}"' in html and unsubscribe in text

    score_links = re.findall(r'href="([^"]+\?score=\d+)"', html)
    assert len(score_links) == 11
    for n, url in enumerate(score_links):
        assert f"{n}: {url}" in text
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == BASE
        assert parse_qs(parts.query) == {"score": [str(n)]}
        with sg_app.app_context():
            token = parts.path.removeprefix("/s/")
            assert links.read_survey_token(token).invitation_id == made["id"]
    with sg_app.app_context():
        assert message.status == MessageStatus.ACCEPTED and message.provider_id == "xmsg-1"
        assert db.session.get(Invitation, made["id"]).status == InvitationStatus.SENT


@pytest.mark.parametrize(
    ("csm", "sender", "from_", "reply_to"),
    [
        # A CSM on an authenticated domain sends as themselves.
        ("jane@acme.example", None, ("jane@acme.example", "Jane Doe"), None),
        # A CSM elsewhere: From the default sender "via" the company, Reply-To the CSM.
        (
            "omar@gmail.example",
            None,
            ("surveys@acme.example", "Omar Ali via Acme"),
            ("omar@gmail.example", "Omar Ali"),
        ),
        # No CSM: the company.
        (None, None, ("surveys@acme.example", "Acme"), None),
        # The sender named on the invitation wins over the account's CSM.
        (
            "jane@acme.example",
            "omar@gmail.example",
            ("surveys@acme.example", "Omar Ali via Acme"),
            ("omar@gmail.example", "Omar Ali"),
        ),
        ("omar@gmail.example", "jane@acme.example", ("jane@acme.example", "Jane Doe"), None),
    ],
)
def test_who_the_email_comes_from(
    sg_api: Api,
    httpserver: HTTPServer,
    csm: str | None,
    sender: str | None,
    from_: tuple[str, str],
    reply_to: tuple[str, str] | None,
) -> None:
    accept_all(httpserver)
    new_staff(sg_api, "jane@acme.example", name="Jane Doe", role="csm")
    new_staff(sg_api, "omar@gmail.example", name="Omar Ali", role="csm")
    survey = new_survey(sg_api)
    person = person_of(sg_api, "u-1", csm=csm)
    invite_person(sg_api, survey["id"], person["id"], **({"sender": sender} if sender else {}))
    [body] = bodies(httpserver)
    [p] = body["personalizations"]
    assert (p["from"]["email"], p["from"]["name"]) == from_
    got = body.get("reply_to")
    assert ((got["email"], got["name"]) if got else None) == reply_to


def test_a_csm_key_cannot_send_as_another_csm(
    sg_app: Flask, sg_api: Api, httpserver: HTTPServer
) -> None:
    accept_all(httpserver)
    new_staff(sg_api, "omar@gmail.example", name="Omar Ali", role="csm")
    jane = Api(sg_app.test_client(), issue_test_key(sg_app, "csm", "jane@acme.example"))
    survey = new_survey(sg_api)
    person = person_of(sg_api, "u-1", csm="jane@acme.example")  # Jane's customer
    refused = jane.post(
        "/api/v1/invitations",
        json={
            "survey_id": survey["id"],
            "person_id": person["id"],
            "channel": "email",
            "sender": "omar@gmail.example",
        },
    )
    assert refused.status_code == 403 and error_of(refused)["field"] == "sender"
    assert httpserver.log == []
    invite_person(jane, survey["id"], person["id"])  # as herself: fine
    [body] = bodies(httpserver)
    assert body["personalizations"][0]["from"]["email"] == "jane@acme.example"


def test_sandbox_mode(database_url: str, clock: FrozenClock, httpserver: HTTPServer) -> None:
    httpserver.expect_request(SEND, method="POST").respond_with_data("", status=200)
    for app in make_app(
        database_url, clock, **sendgrid_settings(httpserver, SENDGRID_SANDBOX=True)
    ):
        api = Api(app.test_client(), issue_test_key(app, "admin"))
        invite_person(api, new_survey(api)["id"], new_person(api)["id"])
        assert bodies(httpserver)[0]["mail_settings"] == {"sandbox_mode": {"enable": True}}


# --- batching -------------------------------------------------------------------------------


@pytest.fixture
def sg_rq_app(
    database_url: str, redis_url: str, clock: FrozenClock, httpserver: HTTPServer
) -> Iterator[Flask]:
    from redis import Redis

    Redis.from_url(redis_url).flushdb()
    yield from make_app(database_url, clock, REDIS_URL=redis_url, **sendgrid_settings(httpserver))
    Redis.from_url(redis_url).flushdb()


def test_steps_due_together_go_in_one_request_per_content_and_reply_to(
    sg_rq_app: Flask, clock: FrozenClock, httpserver: HTTPServer
) -> None:
    accept_all(httpserver)
    api = Api(sg_rq_app.test_client(), issue_test_key(sg_rq_app, "admin"))
    new_staff(api, "jane@acme.example", name="Jane Doe", role="csm")
    new_staff(api, "kim@acme.example", name="Kim Lee", role="csm")
    new_staff(api, "omar@gmail.example", name="Omar Ali", role="csm")
    survey = new_survey(api)
    send_at = (clock.now() + timedelta(hours=1)).isoformat()
    csms = ["jane@acme.example", "kim@acme.example", "omar@gmail.example", None]
    for n in range(12):
        person = new_person(api, f"u-{n}", name=f"Person {n}")
        invite_person(
            api,
            survey["id"],
            person["id"],
            send_at=send_at,
            **({"sender": csms[n % 4]} if csms[n % 4] else {}),
        )
    clock.advance(hours=1)
    with sg_rq_app.app_context():
        assert sweep()["enqueued"] == 12
    assert run_worker(sg_rq_app) == 1  # one job claimed all twelve at once...
    sent = bodies(httpserver)
    # ...and sent them in one request for the CSMs who send as themselves and the company,
    # and one for Omar's Reply-To (message-level in SendGrid's API).
    assert sorted(len(b["personalizations"]) for b in sent) == [3, 9]
    assert {(b.get("reply_to") or {}).get("email") for b in sent} == {None, "omar@gmail.example"}
    with sg_rq_app.app_context():
        assert db.session.query(Message).filter_by(status=MessageStatus.ACCEPTED).count() == 12


# --- provider errors ------------------------------------------------------------------------


def _one_invitation(sg_app: Flask, sg_api: Api) -> int:
    return invite_person(sg_api, new_survey(sg_api)["id"], new_person(sg_api)["id"])["id"]


def _state(sg_app: Flask, invitation_id: int) -> tuple[Invitation, list[Message]]:
    with sg_app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        messages = list(db.session.query(Message).filter_by(invitation_id=invitation_id))
        db.session.expunge_all()
        return invitation, messages


def test_a_4xx_fails_the_step_with_sendgrids_reason(
    sg_app: Flask, sg_api: Api, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(SEND, method="POST").respond_with_json(
        {
            "errors": [
                {
                    "message": "The from address does not match a verified Sender Identity",
                    "field": "from",
                }
            ]
        },
        status=403,
    )
    invitation, [message] = _state(sg_app, _one_invitation(sg_app, sg_api))
    assert invitation.status == InvitationStatus.FAILED
    assert invitation.end_reason == (
        "http_403: The from address does not match a verified Sender Identity (from)"
    )
    assert message.status == MessageStatus.FAILED and message.error_code == "http_403"


@pytest.mark.parametrize(
    ("status", "headers", "wait"),
    [
        (429, lambda now: {"X-RateLimit-Reset": str(int(now) + 900)}, 900),
        (429, lambda now: {"Retry-After": "30"}, 60),  # never sooner than our own backoff
        (503, lambda now: {}, 60),
    ],
)
def test_429_and_5xx_are_retried_after_the_providers_wait(
    sg_app: Flask,
    sg_api: Api,
    clock: FrozenClock,
    httpserver: HTTPServer,
    status: int,
    headers: Callable[[float], dict[str, str]],
    wait: int,
) -> None:
    httpserver.expect_oneshot_request(SEND, method="POST").respond_with_json(
        {"errors": [{"message": "slow down"}]},
        status=status,
        headers=headers(clock.now().timestamp()),
    )
    accept_all(httpserver)
    invitation_id = _one_invitation(sg_app, sg_api)
    invitation, messages = _state(sg_app, invitation_id)
    assert invitation.status == InvitationStatus.SCHEDULED  # released: nothing went out
    assert invitation.attempts == 1 and invitation.last_error == "slow down"
    assert invitation.next_action_at == clock.now() + timedelta(seconds=wait)
    assert messages == []

    clock.advance(seconds=wait - 1)
    with sg_app.app_context():
        assert sweep()["enqueued"] == 0  # not before the wait
    clock.advance(seconds=1)
    with sg_app.app_context():
        assert sweep()["enqueued"] == 1
    invitation, [message] = _state(sg_app, invitation_id)
    assert invitation.status == InvitationStatus.SENT and message.provider_id == "xmsg-1"
    assert len(httpserver.log) == 2
