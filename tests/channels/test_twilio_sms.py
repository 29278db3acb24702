"""The Twilio SMS channel, run with the real twilio SDK against a local stand-in for the API."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from channels.base import Outcome, SendResult, SmsChannel, SmsMessage, Step
from channels.twilio_sms import TwilioSmsChannel, parse_retry_after

ACCOUNT = "AC" + "a" * 32
TOKEN = "auth-token-0123456789"
SERVICE = "MG" + "b" * 32
FROM = "+15005550006"
CALLBACK = "https://sounding.example.com/hooks/twilio/status"
PATH = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"


def message(message_id: int = 1, to: str = "+14155550100", **kwargs: object) -> SmsMessage:
    return SmsMessage(
        message_id=message_id,
        invitation_id=10 + message_id,
        step=Step.INITIAL,
        to=to,
        body=str(kwargs.pop("body", "Hi from Acme. How likely...? Reply STOP to opt out.")),
        **kwargs,  # type: ignore[arg-type]
    )


def created(sid: str = "SM" + "c" * 32) -> dict[str, object]:
    return {"sid": sid, "status": "queued", "account_sid": ACCOUNT, "num_segments": "1"}


def twilio_error(code: int, status: int, text: str) -> str:
    return json.dumps(
        {
            "code": code,
            "message": text,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
    )


def channel(base_url: str, **overrides: object) -> TwilioSmsChannel:
    config: dict[str, object] = {
        "account_sid": ACCOUNT,
        "auth_token": TOKEN,
        "messaging_service_sid": SERVICE,
        "status_callback": CALLBACK,
        "base_url": base_url,
        "timeout": 2.0,
    }
    config.update(overrides)
    return TwilioSmsChannel(**config)  # type: ignore[arg-type]


@pytest.fixture
def api(httpserver: HTTPServer) -> Iterator[HTTPServer]:
    yield httpserver
    httpserver.check_assertions()


@pytest.fixture
def sms(api: HTTPServer) -> TwilioSmsChannel:
    return channel(api.url_for("/"))


def basic_auth(request: Request) -> tuple[str, str]:
    scheme, _, encoded = request.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    return user, password


# --- the request -------------------------------------------------------------------------------


def test_it_is_an_sms_channel() -> None:
    sms = channel("http://127.0.0.1:9")
    assert isinstance(sms, SmsChannel)
    assert (sms.name, sms.max_batch) == ("twilio_sms", 100)


def test_an_empty_batch_makes_no_request(api: HTTPServer, sms: TwilioSmsChannel) -> None:
    assert sms.send([]) == []
    assert api.log == []


def test_close_then_send_again(api: HTTPServer, sms: TwilioSmsChannel) -> None:
    api.expect_request(PATH, method="POST").respond_with_json(created(), status=201)
    assert sms.send([message(1)])[0].outcome is Outcome.ACCEPTED
    sms.close()
    assert sms.send([message(2)])[0].outcome is Outcome.ACCEPTED
    sms.close()


def test_one_exact_request_per_message(api: HTTPServer, sms: TwilioSmsChannel) -> None:
    api.expect_oneshot_request(PATH, method="POST").respond_with_json(created(), status=201)

    results = sms.send([message(body="Hi, it's Zoë from Acme. Reply STOP to opt out.")])

    assert results == [SendResult(1, Outcome.ACCEPTED, provider_id="SM" + "c" * 32)]
    [(request, _)] = api.log
    assert request.path == PATH
    assert request.content_type == "application/x-www-form-urlencoded"
    assert request.form.to_dict(flat=False) == {
        "To": ["+14155550100"],
        "MessagingServiceSid": [SERVICE],
        "Body": ["Hi, it's Zoë from Acme. Reply STOP to opt out."],
        "StatusCallback": [CALLBACK],
    }
    assert basic_auth(request) == (ACCOUNT, TOKEN)
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("twilio-python/9.")


def test_from_number_and_per_message_callback(api: HTTPServer) -> None:
    api.expect_oneshot_request(PATH, method="POST").respond_with_json(created(), status=201)
    sms = channel(api.url_for("/"), messaging_service_sid=None, from_number=FROM)

    sms.send([message(status_callback="https://other.example.com/cb?m=1")])

    [(request, _)] = api.log
    assert request.form.to_dict() == {
        "To": "+14155550100",
        "From": FROM,
        "Body": message().body,
        "StatusCallback": "https://other.example.com/cb?m=1",
    }


def test_service_and_number_together_and_no_callback(api: HTTPServer) -> None:
    api.expect_oneshot_request(PATH, method="POST").respond_with_json(created(), status=201)
    sms = channel(api.url_for("/"), from_number=FROM, status_callback=None)

    sms.send([message()])

    form = api.log[0][0].form
    assert sorted(form) == ["Body", "From", "MessagingServiceSid", "To"]


def test_api_key_authentication_keeps_the_account_in_the_path(api: HTTPServer) -> None:
    api.expect_oneshot_request(PATH, method="POST").respond_with_json(created(), status=201)
    key = "SK" + "d" * 32
    sms = channel(api.url_for("/"), auth_token=None, api_key_sid=key, api_key_secret="s3cret")

    assert sms.send([message()])[0].outcome is Outcome.ACCEPTED
    assert basic_auth(api.log[0][0]) == (key, "s3cret")


def test_base_url_with_a_path_prefix(api: HTTPServer) -> None:
    api.expect_oneshot_request("/fake-twilio" + PATH).respond_with_json(created(), status=201)
    sms = channel(api.url_for("/fake-twilio/"))
    assert sms.send([message()])[0].outcome is Outcome.ACCEPTED


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"account_sid": ""}, "account_sid"),
        ({"auth_token": None}, "auth_token"),
        ({"api_key_sid": "SK1"}, "either auth_token"),
        ({"auth_token": None, "api_key_sid": "SK1"}, "either auth_token"),
        ({"messaging_service_sid": None}, "messaging_service_sid or from_number"),
        ({"max_batch": 0}, "max_batch"),
    ],
)
def test_configuration_is_checked(overrides: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        channel("http://127.0.0.1:9", **overrides)


def test_a_batch_is_one_call_per_message_in_order(api: HTTPServer, sms: TwilioSmsChannel) -> None:
    def handler(request: Request) -> Response:
        to = request.form["To"]
        if to == "+14155550102":
            body = twilio_error(21211, 400, f"Invalid 'To' Phone Number: {to}")
            return Response(body, status=400, content_type="application/json")
        sid = "SM" + to[-3:] * 10 + "00"
        return Response(json.dumps(created(sid)), status=201, content_type="application/json")

    api.expect_request(PATH, method="POST").respond_with_handler(handler)
    batch = [message(i, to=f"+14155550{100 + i}") for i in range(1, 4)]

    results = sms.send(batch)

    assert [r.message_id for r in results] == [1, 2, 3]
    assert [r.outcome for r in results] == [Outcome.ACCEPTED, Outcome.PERMANENT, Outcome.ACCEPTED]
    assert results[0].provider_id == "SM" + "101" * 10 + "00"
    assert (results[1].error_code, results[1].suppress) == ("21211", "sms_invalid")
    assert [r.form["To"] for r, _ in api.log] == ["+14155550101", "+14155550102", "+14155550103"]


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "suppress"),
    [
        (21610, 400, "sms_stop"),  # the recipient replied STOP
        (21211, 400, "sms_invalid"),  # invalid 'To' number
        (21614, 400, "sms_invalid"),  # not a mobile number
        (21408, 400, None),  # region not enabled on our account
        (21606, 400, None),  # 'From' is not one of our numbers
        (20003, 401, None),  # bad credentials
        (20404, 404, None),
    ],
)
def test_permanent_errors(
    api: HTTPServer, sms: TwilioSmsChannel, code: int, status: int, suppress: str | None
) -> None:
    body = twilio_error(code, status, "nope")
    api.expect_oneshot_request(PATH).respond_with_data(
        body, status=status, content_type="application/json"
    )

    [result] = sms.send([message()])

    assert result.outcome is Outcome.PERMANENT
    assert result.error_code == str(code)
    assert result.suppress == suppress
    assert result.provider_id is None and result.retry_after is None
    assert result.error and result.error.startswith(f"HTTP {status}: ")


def test_a_problem_details_error_body_is_read_too(api: HTTPServer, sms: TwilioSmsChannel) -> None:
    problem = {
        "type": "https://www.twilio.com/docs/errors/21610",
        "title": "Attempt to send to unsubscribed recipient",
        "status": 400,
        "code": 21610,
        "detail": "The recipient replied STOP",
    }
    api.expect_oneshot_request(PATH).respond_with_json(problem, status=400)

    [result] = sms.send([message()])

    assert result == SendResult(
        1,
        Outcome.PERMANENT,
        error_code="21610",
        error="HTTP 400: Attempt to send to unsubscribed recipient",
        suppress="sms_stop",
    )


def test_429_is_transient_with_retry_after_and_halts_the_batch(
    api: HTTPServer, sms: TwilioSmsChannel
) -> None:
    api.expect_oneshot_request(PATH).respond_with_data(
        twilio_error(20429, 429, "Too Many Requests"),
        status=429,
        headers={"Retry-After": "7"},
        content_type="application/json",
    )

    results = sms.send([message(1), message(2), message(3)])

    assert len(api.log) == 1  # the rest is not even tried while Twilio says "slow down"
    first, *rest = results
    assert (first.outcome, first.error_code, first.retry_after) == (Outcome.TRANSIENT, "20429", 7.0)
    assert first.suppress is None
    for result in rest:
        assert (result.outcome, result.retry_after) == (Outcome.TRANSIENT, 7.0)
        assert result.error and result.error.startswith("not attempted")


def test_500_without_a_twilio_body_is_transient(api: HTTPServer, sms: TwilioSmsChannel) -> None:
    api.expect_oneshot_request(PATH).respond_with_data(
        "<html>Internal Server Error</html>", status=500, content_type="text/html"
    )

    [result] = sms.send([message()])

    assert result == SendResult(
        1, Outcome.TRANSIENT, error="HTTP 500: Unable to create record", retry_after=None
    )


def test_503_with_an_http_date_retry_after(api: HTTPServer, sms: TwilioSmsChannel) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    api.expect_oneshot_request(PATH).respond_with_data(
        twilio_error(20503, 503, "Service Unavailable"),
        status=503,
        headers={"retry-after": later},
        content_type="application/json",
    )

    [result] = sms.send([message()])

    assert (result.outcome, result.error_code) == (Outcome.TRANSIENT, "20503")
    assert result.retry_after is not None and 100 < result.retry_after <= 120


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_is_transient() -> None:
    sms = channel(f"http://127.0.0.1:{_closed_port()}")

    first, second = sms.send([message(1), message(2)])

    assert first.outcome is Outcome.TRANSIENT
    assert first.error and "ConnectionError" in first.error
    assert second.outcome is Outcome.TRANSIENT
    assert second.error and second.error.startswith("not attempted")


def test_a_read_timeout_after_sending_is_unknown(api: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.6)
        return Response(json.dumps(created()), status=201, content_type="application/json")

    api.expect_oneshot_request(PATH).respond_with_handler(slow)
    sms = channel(api.url_for("/"), timeout=0.2)

    first, second = sms.send([message(1), message(2)])

    assert first.outcome is Outcome.UNKNOWN
    assert first.error and first.error.startswith("ReadTimeout")
    assert second.outcome is Outcome.TRANSIENT  # never sent: safe to retry
    time.sleep(0.6)  # let the stand-in finish its slow answer before the fixture checks it
    assert len(api.log) == 1


def test_a_connection_dropped_after_the_request_was_written_is_unknown() -> None:
    received = threading.Event()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)

        def accept_read_and_hang_up() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(65536)
                received.set()

        thread = threading.Thread(target=accept_read_and_hang_up)
        thread.start()
        sms = channel(f"http://127.0.0.1:{server.getsockname()[1]}")
        [result] = sms.send([message()])
        thread.join(timeout=5)

    assert received.is_set()
    assert result.outcome is Outcome.UNKNOWN
    assert result.error and "ConnectionError" in result.error


def test_an_unreadable_2xx_body_is_still_accepted(api: HTTPServer, sms: TwilioSmsChannel) -> None:
    api.expect_oneshot_request(PATH).respond_with_data("not json", status=201)

    [result] = sms.send([message()])

    assert result.outcome is Outcome.ACCEPTED and result.provider_id is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("3", 3.0),
        (" 1.5 ", 1.5),
        ("-4", 0.0),
        ("nan", None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),
        ("Wed, 21 Oct 2015 07:26:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 27, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == expected
