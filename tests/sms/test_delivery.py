"""Texting an invitation through the real twilio SDK (against a local stand-in for Twilio's
API), what Twilio answers, and its signed status callbacks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from app.clock import FrozenClock
from app.config import ConfigError, build
from app.db import db
from app.models import Invitation, Message, Person, Suppression
from tests.support.api import Api, error_of, issue_test_key
from tests.support.app import make_app
from tests.support.factories import new_survey, post_invitation
from tests.support.settings import TEST_SETTINGS
from tests.support.twilio import (
    OUR_NUMBER,
    PUBLIC,
    SERVICE,
    TwilioStandIn,
    make_twilio_app,
    post_signed,
    sign,
    twilio_settings,
)

PHONE = "+14155550100"


@pytest.fixture
def twilio(httpserver: HTTPServer) -> Iterator[TwilioStandIn]:
    yield TwilioStandIn(httpserver)
    httpserver.check_assertions()


@pytest.fixture
def sms_app(
    database_url: str, clock: FrozenClock, httpserver: HTTPServer, twilio: TwilioStandIn
) -> Iterator[Flask]:
    yield from make_twilio_app(database_url, clock, httpserver)


@pytest.fixture
def api(sms_app: Flask) -> Api:
    return Api(sms_app.test_client(), issue_test_key(sms_app, "admin"))


def survey_id(api: Api) -> int:
    return new_survey(api)["id"]


def invite(api: Api, phone: str | None = "+1 415 555 0100", survey: int | None = None) -> object:
    person: dict[str, object] = {"external_id": "u-7", "name": "Fox Mulder"}
    if phone is not None:
        person["phone"] = phone
    return post_invitation(api, survey_id=survey or survey_id(api), channel="sms", person=person)


def invited(api: Api) -> int:
    answer = invite(api)
    assert answer.status_code == 201, answer.get_json()  # type: ignore[attr-defined]
    return answer.get_json()["id"]  # type: ignore[attr-defined]


def the_message(app: Flask) -> Message:
    with app.app_context():
        message = db.session.scalar(select(Message))
        db.session.expunge(message)
        return message


def status_callback(
    app: Flask, twilio: TwilioStandIn, status: str, error_code: str | None = None, **kw: str
) -> int:
    """Post Twilio's status callback for the last text sent, to the URL the text named."""
    sent = twilio.requests[-1]
    url = sent["StatusCallback"]
    params = {
        "MessageSid": kw.pop("sid", None) or the_message(app).provider_id or "",
        "SmsSid": "",
        "AccountSid": "AC" + "a" * 32,
        "MessagingServiceSid": SERVICE,
        "From": OUR_NUMBER,
        "To": sent["To"],
        "MessageStatus": status,
        "SmsStatus": status,
        **({"ErrorCode": error_code} if error_code else {}),
    }
    answer = post_signed(app.test_client(), url.removeprefix(PUBLIC), params, signed_url=url)
    return answer.status_code


def suppressions(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        return [(s.value, s.reason.value) for s in db.session.scalars(select(Suppression))]


def status_of(app: Flask, invitation_id: int) -> str:
    with app.app_context():
        return db.session.get(Invitation, invitation_id).status.value


# --- sending -------------------------------------------------------------------------------------


def test_the_text_goes_out_through_the_sdk_exactly(
    sms_app: Flask, api: Api, twilio: TwilioStandIn
) -> None:
    invitation_id = invited(api)
    [sent] = twilio.requests
    assert sent == {
        "To": PHONE,
        "MessagingServiceSid": SERVICE,
        "Body": "Hi from Acme. How likely are you to recommend Acme to a friend or colleague? "
        "Reply with a number from 0 to 10 by Thu, Nov 26. Reply STOP to opt out.",
        "StatusCallback": f"{PUBLIC}/hooks/twilio/status?m=1",
    }
    message = the_message(sms_app)
    assert (message.status.value, message.provider_id) == ("accepted", "SM" + "0" * 31 + "1")
    assert message.recipient == PHONE
    assert status_of(sms_app, invitation_id) == "sent"


def test_a_sender_number_instead_of_a_messaging_service(
    database_url: str, clock: FrozenClock, httpserver: HTTPServer, twilio: TwilioStandIn
) -> None:
    settings = {**twilio_settings(httpserver), "TWILIO_MESSAGING_SERVICE_SID": None}
    settings["TWILIO_FROM_NUMBER"] = OUR_NUMBER
    apps = make_app(database_url, clock, **settings)
    app = next(apps)
    try:
        invited(Api(app.test_client(), issue_test_key(app, "admin")))
        [sent] = twilio.requests
        assert sent["From"] == OUR_NUMBER
        assert "MessagingServiceSid" not in sent
        assert set(sent) == {"To", "From", "Body", "StatusCallback"}
    finally:
        next(apps, None)


def test_an_api_key_sends_and_the_auth_token_still_verifies_webhooks(
    database_url: str, clock: FrozenClock, httpserver: HTTPServer, twilio: TwilioStandIn
) -> None:
    settings = {**twilio_settings(httpserver), "TWILIO_API_KEY_SID": "SK" + "d" * 32}
    settings["TWILIO_API_KEY_SECRET"] = "api-key-secret"
    apps = make_app(database_url, clock, **settings)
    app = next(apps)
    try:
        invited(Api(app.test_client(), issue_test_key(app, "admin")))
        assert twilio.usernames == ["SK" + "d" * 32]
        assert status_callback(app, twilio, "delivered") == 204
        assert the_message(app).status.value == "delivered"
    finally:
        next(apps, None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"TWILIO_AUTH_TOKEN": None}, "needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"),
        ({"TWILIO_MESSAGING_SERVICE_SID": None}, "needs TWILIO_MESSAGING_SERVICE_SID or"),
        ({"TWILIO_API_KEY_SID": "SK" + "d" * 32}, "both TWILIO_API_KEY_SID and"),
    ],
)
def test_twilio_settings_that_cannot_work_name_themselves(
    tmp_path: Path, httpserver: HTTPServer, change: dict[str, object], message: str
) -> None:
    settings = {**TEST_SETTINGS, **twilio_settings(httpserver), **change}
    with pytest.raises(ConfigError, match=message):
        build({"TWILIO_FROM_NUMBER": None, **settings}, str(tmp_path))


def test_numbers_are_stored_in_e164_and_must_take_texts(sms_app: Flask, api: Api) -> None:
    survey = survey_id(api)
    bad = invite(api, "+1 555", survey)
    assert bad.status_code == 400  # type: ignore[attr-defined]
    assert error_of(bad)["field"] == "person.phone"  # type: ignore[arg-type]
    assert "not a valid phone number" in error_of(bad)["message"]  # type: ignore[arg-type]

    landline = invite(api, "+44 20 7946 0958", survey)
    assert landline.status_code == 400  # type: ignore[attr-defined]
    assert error_of(landline) == {  # type: ignore[arg-type]
        "code": "unreachable",
        "message": "+442079460958 is not a mobile number; it cannot receive texts.",
        "field": "person.phone",
    }
    none = invite(api, None, survey)
    assert none.status_code == 400  # type: ignore[attr-defined]
    assert error_of(none)["code"] == "unreachable"  # type: ignore[arg-type]
    with sms_app.app_context():  # the refused requests changed nothing
        assert db.session.scalar(select(func.count()).select_from(Person)) == 0
        assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0

    # A US number may be mobile or fixed (the numbering plan cannot tell): it is tried.
    ok = invite(api, "+1 (415) 555-0100", survey)
    assert ok.status_code == 201  # type: ignore[attr-defined]
    with sms_app.app_context():
        assert db.session.scalar(select(Person.phone)) == PHONE


@pytest.mark.parametrize(
    ("code", "reason"), [(21211, "sms_invalid"), (21614, "sms_invalid"), (21610, "sms_stop")]
)
def test_a_number_twilio_refuses_fails_the_step_and_is_suppressed(
    sms_app: Flask, api: Api, twilio: TwilioStandIn, code: int, reason: str
) -> None:
    twilio.errors.append((400, code, "refused"))
    invitation_id = invited(api)
    # The step failed with Twilio's reason, and the number is suppressed for the future.
    assert status_of(sms_app, invitation_id) == "failed"
    assert suppressions(sms_app) == [(PHONE, reason)]
    message = the_message(sms_app)
    assert (message.status.value, message.error_code) == ("failed", str(code))


def test_a_rate_limited_send_is_retried_later(
    sms_app: Flask, api: Api, twilio: TwilioStandIn
) -> None:
    twilio.errors.append((429, 20429, "Too Many Requests"))
    invitation_id = invited(api)
    with sms_app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        assert (invitation.status.value, invitation.attempts) == ("scheduled", 1)
        assert invitation.next_action_at is not None
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    assert suppressions(sms_app) == []


# --- status callbacks ----------------------------------------------------------------------------


def test_delivered_is_final_and_late_callbacks_change_nothing(
    sms_app: Flask, api: Api, twilio: TwilioStandIn
) -> None:
    invited(api)
    assert status_callback(sms_app, twilio, "sent") == 204
    assert the_message(sms_app).status.value == "accepted"
    assert status_callback(sms_app, twilio, "delivered") == 204
    assert the_message(sms_app).status.value == "delivered"
    assert status_callback(sms_app, twilio, "sent") == 204  # out of order
    assert status_callback(sms_app, twilio, "undelivered", "30005") == 204  # cannot follow
    assert status_callback(sms_app, twilio, "delivered") == 204  # a retried delivery
    message = the_message(sms_app)
    assert (message.status.value, message.error_code) == ("delivered", None)
    assert message.last_event_at is not None
    assert suppressions(sms_app) == []


def test_undelivered_for_a_dead_number_suppresses_it(
    sms_app: Flask, api: Api, twilio: TwilioStandIn
) -> None:
    invitation_id = invited(api)
    assert status_callback(sms_app, twilio, "undelivered", "30005") == 204
    message = the_message(sms_app)
    assert (message.status.value, message.error_code) == ("undelivered", "30005")
    assert suppressions(sms_app) == [(PHONE, "sms_invalid")]
    assert status_of(sms_app, invitation_id) == "suppressed"
    # Twilio retries the callback: nothing happens twice.
    assert status_callback(sms_app, twilio, "undelivered", "30005") == 204
    assert suppressions(sms_app) == [(PHONE, "sms_invalid")]


def test_undelivered_for_a_switched_off_phone_does_not_suppress(
    sms_app: Flask, api: Api, twilio: TwilioStandIn
) -> None:
    invitation_id = invited(api)
    assert status_callback(sms_app, twilio, "failed", "30003") == 204
    message = the_message(sms_app)
    assert (message.status.value, message.error_code) == ("failed", "30003")
    assert suppressions(sms_app) == []
    assert status_of(sms_app, invitation_id) == "sent"  # the reminders will try again


def test_a_callback_without_our_id_is_matched_by_message_sid(
    sms_app: Flask, api: Api, twilio: TwilioStandIn
) -> None:
    invited(api)
    sid = the_message(sms_app).provider_id
    params = {"MessageSid": sid or "", "MessageStatus": "delivered", "To": PHONE}
    url = f"{PUBLIC}/hooks/twilio/status"
    assert post_signed(sms_app.test_client(), "/hooks/twilio/status", params).status_code == 204
    assert the_message(sms_app).status.value == "delivered"
    unknown = {"MessageSid": "SM" + "f" * 32, "MessageStatus": "failed", "ErrorCode": "30005"}
    assert post_signed(sms_app.test_client(), "/hooks/twilio/status", unknown).status_code == 204
    assert suppressions(sms_app) == []
    # Our id and another message's SID do not match: the SID wins, nothing is touched.
    mismatch = {**unknown, "MessageStatus": "undelivered"}
    answer = post_signed(
        sms_app.test_client(), "/hooks/twilio/status?m=1", mismatch, signed_url=f"{url}?m=1"
    )
    assert answer.status_code == 204
    assert the_message(sms_app).status.value == "delivered"


def test_a_callback_that_overtakes_the_worker_is_kept(
    sms_app: Flask, api: Api, twilio: TwilioStandIn
) -> None:
    """A batch of texts takes a while: Twilio may report on the first before the job has
    recorded its answer. The report is kept, and the job's record does not overwrite it."""
    outcomes: list[int] = []

    def callback_now(form: dict[str, str], sid: str) -> None:
        url = form["StatusCallback"]
        params = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30006"}
        answer = post_signed(
            sms_app.test_client(), url.removeprefix(PUBLIC), params, signed_url=url
        )
        outcomes.append(answer.status_code)

    twilio.during_send = callback_now
    invitation_id = invited(api)
    assert outcomes == [204]
    message = the_message(sms_app)
    assert (message.status.value, message.error_code) == ("undelivered", "30006")
    assert message.provider_id == "SM" + "0" * 31 + "1"
    assert suppressions(sms_app) == [(PHONE, "sms_invalid")]
    assert status_of(sms_app, invitation_id) == "suppressed"


def test_unsigned_or_tampered_status_callbacks_are_refused(
    sms_app: Flask, api: Api, twilio: TwilioStandIn
) -> None:
    invitation_id = invited(api)
    sid = the_message(sms_app).provider_id or ""
    path = "/hooks/twilio/status?m=1"
    params = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30005"}
    client = sms_app.test_client()
    assert client.post(path, data=params).status_code == 403
    signature = sign(f"{PUBLIC}{path}", params)
    tampered = client.post(
        path, data={**params, "ErrorCode": "30006"}, headers={"X-Twilio-Signature": signature}
    )
    assert tampered.status_code == 403
    other_message = client.post(
        "/hooks/twilio/status?m=2", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert other_message.status_code == 403
    assert error_of(other_message)["code"] == "bad_signature"
    assert the_message(sms_app).status.value == "accepted"
    assert suppressions(sms_app) == []
    assert status_of(sms_app, invitation_id) == "sent"
    missing = post_signed(client, "/hooks/twilio/status", {"MessageSid": sid})
    assert missing.status_code == 400
    assert "MessageStatus" in error_of(missing)["message"]


def test_a_reminder_is_short_and_marked(
    sms_app: Flask, api: Api, twilio: TwilioStandIn, clock: FrozenClock
) -> None:
    from app.jobs.sweep import sweep

    invited(api)
    for days, label in ((3, "Reminder"), (4, "Last reminder")):
        clock.advance(timedelta(days=days))
        with sms_app.app_context():
            sweep()
        body = twilio.requests[-1]["Body"]
        assert body == (
            f"{label} from Acme: How likely are you to recommend Acme to a friend or colleague? "
            "Reply with a number from 0 to 10 by Thu, Nov 26. Reply STOP to opt out."
        )
    assert len(twilio.requests) == 3
