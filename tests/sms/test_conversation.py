"""Answering by text, over HTTP: the survey goes out through the real twilio SDK to a local
stand-in for Twilio's API, and the replies come back as webhooks signed with the SDK's own
RequestValidator. PostgreSQL, Redis and the RQ worker are real."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from app.clock import FrozenClock
from app.db import db
from app.models import Invitation, Response, SmsReply, Suppression
from app.policy.sms_conversation import closed_text, thanks_text
from app.policy.sms_grammar import Problem, help_text, hint_text
from tests.support.api import Api, error_of, issue_test_key
from tests.support.factories import account_ref, invite, new_staff, new_survey, permissive_cadence
from tests.support.jobs import run_worker
from tests.support.twilio import (
    PUBLIC,
    SERVICE,
    TwilioStandIn,
    inbound,
    make_twilio_app,
    post_signed,
    sign,
    text_back,
)

PHONE = "+14155550100"
SMS_HOOK = "/hooks/twilio/sms"


@pytest.fixture
def twilio(httpserver: HTTPServer) -> Iterator[TwilioStandIn]:
    yield TwilioStandIn(httpserver)
    httpserver.check_assertions()


@pytest.fixture
def sms_app(
    database_url: str, clock: FrozenClock, httpserver: HTTPServer, twilio: TwilioStandIn
) -> Iterator[Flask]:
    """Jobs run in-process after each commit."""
    yield from make_twilio_app(database_url, clock, httpserver)


@pytest.fixture
def sms_rq_app(
    database_url: str,
    redis_url: str,
    clock: FrozenClock,
    httpserver: HTTPServer,
    twilio: TwilioStandIn,
) -> Iterator[Flask]:
    """Real RQ queues on Redis; run them with run_worker."""
    yield from make_twilio_app(database_url, clock, httpserver, redis_url)


@pytest.fixture
def api(sms_app: Flask) -> Api:
    return Api(sms_app.test_client(), issue_test_key(sms_app, "admin"))


def invite_by_sms(api: Api, phone: str = "+1 (415) 555-0100", **survey: Any) -> dict[str, int]:
    """A CSM, a survey with a follow-up per category, a decision maker at Globex, and an SMS
    invitation to them (sent at once with inline jobs, queued with RQ)."""
    if not api.get("/api/v1/staff").get_json()["data"]:
        new_staff(api, "jane@acme.example", name="Jane Doe")
    created = new_survey(
        api,
        follow_up_promoter="What do you like most?",
        follow_up_passive="What would make it a 10?",
        follow_up_detractor="What should we fix first?",
        **survey,
    )
    body = invite(
        api,
        created["id"],
        "sms",
        email=None,
        external_id="u-42",
        phone=phone,
        name="Dana Scully",
        role="decision_maker",
        account=account_ref(csm="jane@acme.example"),
    )
    return {"survey_id": body["survey_id"], "invitation_id": body["id"]}


def reply(app: Flask, body: str, from_number: str = PHONE, **extra: str) -> str | None:
    return text_back(post_signed(app.test_client(), SMS_HOOK, inbound(from_number, body, **extra)))


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def invitation_status(app: Flask, invitation_id: int) -> str:
    with app.app_context():
        return db.session.get(Invitation, invitation_id).status.value


def the_response(app: Flask) -> Response | None:
    with app.app_context():
        response = db.session.scalar(select(Response))
        if response is not None:
            db.session.expunge(response)
        return response


def test_a_whole_conversation_by_text(sms_rq_app: Flask, twilio: TwilioStandIn) -> None:
    client = sms_rq_app.test_client()
    api = Api(client, issue_test_key(sms_rq_app, "admin"))
    ids = invite_by_sms(api)
    assert twilio.requests == []  # nothing goes out before a worker runs the job
    assert run_worker(sms_rq_app) >= 1

    [sent] = twilio.requests
    assert sent["To"] == PHONE
    assert sent["MessagingServiceSid"] == SERVICE
    assert sent["Body"].startswith("Hi, it's Jane Doe from Acme. How likely are you to recommend")
    assert sent["Body"].endswith(
        "Reply with a number from 0 to 10 by Thu, Nov 26. Reply STOP to opt out."
    )
    assert sent["StatusCallback"] == f"{PUBLIC}/hooks/twilio/status?m=1"

    # "8" is a passive's score: recorded, and the passives' follow-up is asked.
    score = inbound(PHONE, "8")
    answer = post_signed(client, SMS_HOOK, score)
    assert text_back(answer) == "Thank you! What would make it a 10?"
    assert invitation_status(sms_rq_app, ids["invitation_id"]) == "responded"

    # Twilio delivers the same webhook again: same answer, nothing changes twice.
    assert text_back(post_signed(client, SMS_HOOK, score)) == "Thank you! What would make it a 10?"
    assert count(sms_rq_app, SmsReply) == 1

    comment = inbound(PHONE, "Faster onboarding, honestly.")
    assert text_back(post_signed(client, SMS_HOOK, comment)) == thanks_text()
    assert text_back(post_signed(client, SMS_HOOK, comment)) == thanks_text()

    responses = api.get(f"/api/v1/responses?survey_id={ids['survey_id']}").get_json()["data"]
    assert len(responses) == 1
    recorded = responses[0]
    assert recorded["score"] == 8
    assert recorded["category"] == "passive"
    assert recorded["comment"] == "Faster onboarding, honestly."
    assert recorded["role"] == "decision_maker"
    assert recorded["account"]["external_id"] == "globex"
    assert recorded["channel"] == "sms"
    assert recorded["invitation_id"] == ids["invitation_id"]

    report = api.get(f"/api/v1/reports/nps?survey_id={ids['survey_id']}&group_by=channel")
    groups = {g["key"]: g for g in report.get_json()["groups"]}
    assert groups["sms"]["responses"] == 1
    assert groups["sms"]["passives"] == 1
    assert groups["sms"]["nps"] == 0.0
    assert report.get_json()["response_rate"] == 100.0
    # Answered: no reminder is queued any more.
    assert run_worker(sms_rq_app) == 0
    assert len(twilio.requests) == 1


def test_a_score_with_a_comment_in_one_text_is_thanked(sms_app: Flask, api: Api) -> None:
    invite_by_sms(api)
    assert reply(sms_app, "10 great support") == thanks_text()
    response = the_response(sms_app)
    assert response is not None
    assert (response.score, response.comment, response.channel.value) == (
        10,
        "great support",
        "sms",
    )


def test_the_follow_up_follows_the_category(sms_app: Flask, api: Api) -> None:
    invite_by_sms(api)
    assert reply(sms_app, "nine out of ten") == "Thank you! What do you like most?"
    # A bare number in the comment window corrects the score and asks again.
    assert reply(sms_app, "3") == "Thank you! What should we fix first?"
    response = the_response(sms_app)
    assert response is not None and (response.score, response.comment) == (3, None)
    # More than one text in the window: the first is thanked, the next are added silently.
    assert reply(sms_app, "Billing is confusing.") == thanks_text()
    assert reply(sms_app, "And the app is slow.") is None
    response = the_response(sms_app)
    assert response is not None
    assert response.comment == "Billing is confusing.\nAnd the app is slow."


def test_after_the_comment_window_a_text_is_no_comment(
    sms_app: Flask, api: Api, clock: FrozenClock
) -> None:
    invite_by_sms(api)
    assert reply(sms_app, "7") == "Thank you! What would make it a 10?"
    clock.advance(hours=25)
    assert reply(sms_app, "ok thanks") is None  # answered already: no hint, nothing recorded
    response = the_response(sms_app)
    assert response is not None and (response.score, response.comment) == (7, None)
    # Answering again before the deadline updates the answer.
    assert reply(sms_app, "9, support fixed it") == thanks_text()
    response = the_response(sms_app)
    assert response is not None and (response.score, response.comment) == (9, "support fixed it")
    assert count(sms_app, Response) == 1


def test_an_unreadable_reply_gets_one_polite_hint(
    sms_app: Flask, api: Api, clock: FrozenClock
) -> None:
    ids = invite_by_sms(api)
    assert reply(sms_app, "I'd say seven") == hint_text(Problem.UNRECOGNISED)
    assert reply(sms_app, "7 or 8") is None  # one hint per day, not a flood
    assert reply(sms_app, "11") is None
    assert count(sms_app, Response) == 0
    assert invitation_status(sms_app, ids["invitation_id"]) == "sent"
    clock.advance(hours=24)
    assert reply(sms_app, "7 or 8") == hint_text(Problem.AMBIGUOUS)
    assert reply(sms_app, "7") == "Thank you! What would make it a 10?"
    assert count(sms_app, Response) == 1


def test_a_reply_after_the_deadline_records_nothing(
    sms_app: Flask, api: Api, clock: FrozenClock
) -> None:
    ids = invite_by_sms(api)
    clock.advance(days=11)
    assert reply(sms_app, "9") == closed_text("Acme")
    assert reply(sms_app, "9!") is None  # told once a day at most
    assert count(sms_app, Response) == 0
    assert invitation_status(sms_app, ids["invitation_id"]) == "sent"  # the sweep expires it


def test_a_number_we_never_texted_gets_no_answer(sms_app: Flask, api: Api) -> None:
    invite_by_sms(api)
    assert reply(sms_app, "10", from_number="+14155550199") is None
    assert count(sms_app, Response) == 0
    with sms_app.app_context():
        assert db.session.scalar(select(SmsReply.outcome)).value == "unknown"


def test_stop_then_start(sms_app: Flask, api: Api, twilio: TwilioStandIn) -> None:
    permissive_cadence(api)  # the person is asked again after START
    ids = invite_by_sms(api)
    assert reply(sms_app, "STOP") is None  # Twilio confirms the opt-out itself
    with sms_app.app_context():
        suppression = db.session.scalar(select(Suppression))
        assert (suppression.kind.value, suppression.value) == ("phone", PHONE)
        assert suppression.reason.value == "sms_stop"
        invitation = db.session.get(Invitation, ids["invitation_id"])
        assert invitation.status.value == "suppressed"
        assert invitation.next_action_at is None
        person_id = invitation.person_id
    again = {"survey_id": ids["survey_id"], "person_id": person_id, "channel": "sms"}
    refused = api.post("/api/v1/invitations", json=again)
    assert refused.status_code == 409
    assert (error_of(refused)["code"], error_of(refused)["rule"]) == ("throttled", "suppressed")
    # A score after STOP is not taken: the invitation has ended.
    assert reply(sms_app, "9") == closed_text("Acme")
    assert count(sms_app, Response) == 0

    assert reply(sms_app, "start") is None  # Twilio confirms the opt-in itself
    assert count(sms_app, Suppression) == 0
    assert invitation_status(sms_app, ids["invitation_id"]) == "suppressed"  # stays ended
    invited = api.post("/api/v1/invitations", json=again)
    assert invited.status_code == 201, invited.get_json()
    assert len(twilio.requests) == 2
    assert reply(sms_app, "10") == "Thank you! What do you like most?"


def test_twilios_opt_out_type_is_honoured(sms_app: Flask, api: Api) -> None:
    ids = invite_by_sms(api)
    # Advanced Opt-Out with a custom keyword: Twilio says what it was.
    assert reply(sms_app, "ARRET", OptOutType="STOP") is None
    assert invitation_status(sms_app, ids["invitation_id"]) == "suppressed"
    assert reply(sms_app, "Help", OptOutType="HELP") is None  # Twilio answered it already
    assert reply(sms_app, "ALLEZ", OptOutType="START") is None
    assert count(sms_app, Suppression) == 0


def test_start_does_not_lift_what_the_person_did_not_ask_for(sms_app: Flask, api: Api) -> None:
    from app.services.suppressions import suppress
    from app.vocabulary import SuppressionKind, SuppressionReason

    invite_by_sms(api)
    with sms_app.app_context():
        from app import clock as app_clock

        suppress(SuppressionKind.PHONE, PHONE, SuppressionReason.MANUAL, app_clock.now())
        db.session.commit()
    assert reply(sms_app, "UNSTOP") is None
    with sms_app.app_context():
        assert db.session.scalar(select(Suppression.reason)).value == "manual"


def test_help_says_who_is_asking_and_how_to_stop(sms_app: Flask, api: Api) -> None:
    invite_by_sms(api)
    answer = reply(sms_app, "help")
    assert answer == help_text(company="Acme", csm_name="Jane Doe")
    assert answer is not None and "Jane Doe" in answer and "Reply STOP to opt out" in answer
    assert reply(sms_app, "INFO") == answer
    assert count(sms_app, Response) == 0
    # Someone we never texted asking who we are is answered too.
    assert reply(sms_app, "HELP", from_number="+14155550199") == help_text(company="Acme")


def test_unsigned_and_tampered_webhooks_are_refused_and_change_nothing(
    sms_app: Flask, api: Api
) -> None:
    ids = invite_by_sms(api)
    client = sms_app.test_client()
    params = inbound(PHONE, "0")

    unsigned = client.post(SMS_HOOK, data=params)
    assert unsigned.status_code == 403
    assert error_of(unsigned) == {
        "code": "bad_signature",
        "message": "The request is not signed by Twilio for this URL "
        "(X-Twilio-Signature missing or wrong).",
        "field": "X-Twilio-Signature",
    }
    signature = sign(f"{PUBLIC}{SMS_HOOK}", params)
    tampered = client.post(
        SMS_HOOK, data={**params, "Body": "STOP"}, headers={"X-Twilio-Signature": signature}
    )
    assert tampered.status_code == 403
    wrong_token = post_signed(
        client, SMS_HOOK, params, signature=sign(f"{PUBLIC}{SMS_HOOK}", params, "other")
    )
    assert wrong_token.status_code == 403
    # Signed for the address the request reached (request.url), not the public one: refused.
    internal = post_signed(client, SMS_HOOK, params, signed_url=f"http://localhost{SMS_HOOK}")
    assert internal.status_code == 403

    assert count(sms_app, SmsReply) == 0
    assert count(sms_app, Response) == 0
    assert count(sms_app, Suppression) == 0
    assert invitation_status(sms_app, ids["invitation_id"]) == "sent"

    # Behind a proxy the request arrives on another host; the public URL still verifies.
    proxied = sms_app.test_client().post(
        SMS_HOOK,
        data=params,
        headers={"X-Twilio-Signature": signature},
        base_url="http://10.0.0.7:8000",
    )
    assert text_back(proxied) == "Thank you! What should we fix first?"


def test_a_signed_request_that_is_not_a_message_is_a_400(sms_app: Flask) -> None:
    params = {"AccountSid": "AC" + "a" * 32, "Body": "9"}
    answer = post_signed(sms_app.test_client(), SMS_HOOK, params)
    assert answer.status_code == 400
    assert error_of(answer)["code"] == "bad_request"
    assert "MessageSid" in error_of(answer)["message"]
    assert count(sms_app, SmsReply) == 0


def test_trying_it_without_twilio(sms_app: Flask, api: Api) -> None:
    invite_by_sms(api)
    runner = sms_app.test_cli_runner()
    result = runner.invoke(args=["sms-reply", "+1 415 555 0100", "6"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "[score] Thank you! What should we fix first?"
    bad = runner.invoke(args=["sms-reply", "12", "6"])
    assert bad.exit_code != 0
    assert "not a valid phone number" in bad.output


def test_duplicate_deliveries_with_a_later_conflict_replay_the_first_answer(
    sms_app: Flask, api: Api, clock: FrozenClock
) -> None:
    invite_by_sms(api)
    first = inbound(PHONE, "I'd say seven")
    assert reply_params(sms_app, first) == hint_text(Problem.UNRECOGNISED)
    clock.advance(timedelta(days=2))  # a hint would be due again, but this is the same text
    assert reply_params(sms_app, first) == hint_text(Problem.UNRECOGNISED)
    assert count(sms_app, SmsReply) == 1


def reply_params(app: Flask, params: dict[str, str]) -> str | None:
    return text_back(post_signed(app.test_client(), SMS_HOOK, params))


def test_the_same_webhook_delivered_at_once_changes_things_once(sms_app: Flask, api: Api) -> None:
    """Twilio retries: the same text may arrive several times at the same moment."""
    invite_by_sms(api)
    score = inbound(PHONE, "8")
    start = threading.Barrier(4)
    answers: list[str | None] = []

    def deliver() -> None:
        client = sms_app.test_client()
        start.wait()
        answers.append(text_back(post_signed(client, SMS_HOOK, score)))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["Thank you! What would make it a 10?"] * 4
    assert count(sms_app, SmsReply) == 1
    assert count(sms_app, Response) == 1
    # Two different texts at once from one person are read one after the other.
    both = [inbound(PHONE, "Onboarding was slow."), inbound(PHONE, "Docs are thin.")]
    start = threading.Barrier(2)
    answers.clear()

    def send(params: dict[str, str]) -> None:
        client = sms_app.test_client()
        start.wait()
        answers.append(text_back(post_signed(client, SMS_HOOK, params)))

    threads = [threading.Thread(target=send, args=(p,)) for p in both]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers, key=str) == [None, thanks_text()]
    response = the_response(sms_app)
    assert response is not None and response.comment is not None
    assert sorted(response.comment.split("\n")) == ["Docs are thin.", "Onboarding was slow."]


def test_without_an_auth_token_every_webhook_is_refused(app: Flask) -> None:
    """SMS_BACKEND=outbox and no TWILIO_AUTH_TOKEN: nothing can be verified, so nothing is."""
    client = app.test_client()
    for path, params in (
        (SMS_HOOK, inbound(PHONE, "STOP")),
        ("/hooks/twilio/status", {"MessageSid": "SM1", "MessageStatus": "delivered"}),
    ):
        answer = post_signed(client, path, params)
        assert answer.status_code == 403
        assert error_of(answer)["code"] == "bad_signature"
    assert count(app, SmsReply) == 0
    assert count(app, Suppression) == 0
