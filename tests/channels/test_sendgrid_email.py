"""The SendGrid channel, with the real SDK talking to a local stand-in for the API."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from channels.base import Address, EmailChannel, EmailContent, EmailMessage, Outcome, Step
from channels.sendgrid_email import SendGridConfig, SendGridEmailChannel
from tests.support.sendgrid import SEND, accept_all
from tests.support.sendgrid import bodies as sent_bodies

NOW = 1_700_000_000.0
CONTENT = EmailContent(
    subject="-first_name-, how likely are you to recommend Acme?",
    text="Hi -first_name-,\nAnswer: -score_url_7-\nUnsubscribe: -unsubscribe_url-\n",
    html='<p>Hi -first_name-,</p><a href="-score_url_7-">7</a><a href="-unsubscribe_url-">x</a>',
)
CSM = Address("jane@acme.example", "Jane Doe")
DEFAULT_SENDER = Address("surveys@acme.example", "Jane Doe via Acme")


def message(
    n: int,
    *,
    to: str | None = None,
    sender: Address = CSM,
    reply_to: Address | None = CSM,
    content: EmailContent = CONTENT,
    substitutions: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    step: Step = Step.INITIAL,
) -> EmailMessage:
    unsubscribe = f"https://nps.acme.example/u/tok{n}"
    return EmailMessage(
        message_id=n,
        invitation_id=1000 + n,
        step=step,
        to=Address(to or f"person{n}@customer.example", f"Person {n}"),
        sender=sender,
        reply_to=reply_to,
        content=content,
        substitutions=substitutions
        if substitutions is not None
        else {
            "-first_name-": f"Person{n}",
            "-score_url_7-": f"https://nps.acme.example/s/tok{n}?score=7",
            "-unsubscribe_url-": unsubscribe,
        },
        headers=headers
        if headers is not None
        else {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def channel(httpserver: HTTPServer, **config: object) -> SendGridEmailChannel:
    settings: dict[str, object] = {"api_key": "SG.test-key", "host": httpserver.url_for("")}
    settings.update(config)
    return SendGridEmailChannel(SendGridConfig(**settings), clock=lambda: NOW)  # type: ignore[arg-type]


def test_implements_the_email_channel_protocol(httpserver: HTTPServer) -> None:
    sg = channel(httpserver)
    assert isinstance(sg, EmailChannel)
    assert sg.max_batch == 1000


def test_one_request_carries_each_message_as_a_personalization(httpserver: HTTPServer) -> None:
    accept_all(httpserver, "sg-")
    sg = channel(httpserver)
    other_csm = Address("omar@acme.example", "Omar Ali")
    messages = [
        message(1),
        message(2, sender=other_csm, reply_to=other_csm, step=Step.REMINDER_1),
    ]

    results = sg.send(messages)

    assert [(r.message_id, r.outcome, r.provider_id) for r in results] == [
        (1, Outcome.ACCEPTED, "sg-1"),
        (2, Outcome.ACCEPTED, "sg-1"),
    ]
    ((request, _),) = httpserver.log
    assert request.headers["Authorization"] == "Bearer SG.test-key"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.get_data()) == {
        "personalizations": [
            {
                "to": [{"email": "person1@customer.example", "name": "Person 1"}],
                "from": {"email": "jane@acme.example", "name": "Jane Doe"},
                "headers": {
                    "List-Unsubscribe": "<https://nps.acme.example/u/tok1>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
                "substitutions": {
                    "-first_name-": "Person1",
                    "-score_url_7-": "https://nps.acme.example/s/tok1?score=7",
                    "-unsubscribe_url-": "https://nps.acme.example/u/tok1",
                },
                "custom_args": {
                    "sounding_message_id": "1",
                    "sounding_invitation_id": "1001",
                    "sounding_step": "initial",
                },
            },
            {
                "to": [{"email": "person2@customer.example", "name": "Person 2"}],
                "from": {"email": "omar@acme.example", "name": "Omar Ali"},
                "headers": {
                    "List-Unsubscribe": "<https://nps.acme.example/u/tok2>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
                "substitutions": {
                    "-first_name-": "Person2",
                    "-score_url_7-": "https://nps.acme.example/s/tok2?score=7",
                    "-unsubscribe_url-": "https://nps.acme.example/u/tok2",
                },
                "custom_args": {
                    "sounding_message_id": "2",
                    "sounding_invitation_id": "1002",
                    "sounding_step": "reminder_1",
                },
            },
        ],
        # Each From is its own Reply-To, so none is set: replies go to From, and CSMs who
        # send as themselves share one request.
        "from": {"email": "jane@acme.example", "name": "Jane Doe"},
        "subject": CONTENT.subject,
        "content": [
            {"type": "text/plain", "value": CONTENT.text},
            {"type": "text/html", "value": CONTENT.html},
        ],
        "mail_settings": {"sandbox_mode": {"enable": False}},
        "tracking_settings": {
            "click_tracking": {"enable": False, "enable_text": False},
            "subscription_tracking": {"enable": False},
            "open_tracking": {"enable": True},
        },
    }


def test_open_tracking_can_be_turned_off(httpserver: HTTPServer) -> None:
    accept_all(httpserver, "sg-")
    channel(httpserver, open_tracking=False).send([message(1)])
    assert sent_bodies(httpserver)[0]["tracking_settings"]["open_tracking"] == {"enable": False}


def test_sandbox_mode_is_sent_and_a_200_counts_as_accepted(httpserver: HTTPServer) -> None:
    httpserver.expect_request(SEND, method="POST").respond_with_data("", status=200)
    results = channel(httpserver, sandbox_mode=True).send([message(1)])
    assert sent_bodies(httpserver)[0]["mail_settings"] == {"sandbox_mode": {"enable": True}}
    assert results[0].outcome is Outcome.ACCEPTED
    assert results[0].provider_id is None


def test_2500_messages_with_one_content_and_reply_to_make_three_requests(
    httpserver: HTTPServer,
) -> None:
    accept_all(httpserver, "sg-")
    messages = [message(n) for n in range(1, 2501)]

    results = channel(httpserver).send(messages)

    bodies = sent_bodies(httpserver)
    assert [len(b["personalizations"]) for b in bodies] == [1000, 1000, 500]
    sent_ids = [
        p["custom_args"]["sounding_message_id"] for b in bodies for p in b["personalizations"]
    ]
    assert sent_ids == [str(n) for n in range(1, 2501)]
    assert [r.message_id for r in results] == list(range(1, 2501))
    assert {r.outcome for r in results} == {Outcome.ACCEPTED}
    assert [r.provider_id for r in results] == ["sg-1"] * 1000 + ["sg-2"] * 1000 + ["sg-3"] * 500


def test_each_reply_to_gets_its_own_request(httpserver: HTTPServer) -> None:
    accept_all(httpserver, "sg-")
    omar = Address("omar@acme.example", "Omar Ali")
    messages = [
        message(1),
        message(2, sender=DEFAULT_SENDER, reply_to=omar),
        message(3),
        message(4, sender=DEFAULT_SENDER, reply_to=None),
    ]

    results = channel(httpserver).send(messages)

    bodies = sent_bodies(httpserver)
    assert [(b.get("reply_to"), _ids(b)) for b in bodies] == [
        (None, ["1", "3", "4"]),  # Reply-To = From (1, 3) needs none, like no Reply-To (4)
        ({"email": "omar@acme.example", "name": "Omar Ali"}, ["2"]),
    ]
    for body in bodies:
        for p in body["personalizations"]:
            assert "reply_to" not in p
            assert all(h.lower() != "reply-to" for h in p["headers"])
    assert [r.provider_id for r in results] == ["sg-1", "sg-2", "sg-1", "sg-1"]


def test_different_content_goes_in_different_requests(httpserver: HTTPServer) -> None:
    accept_all(httpserver, "sg-")
    reminder = EmailContent("Reminder: " + CONTENT.subject, CONTENT.text, CONTENT.html)
    channel(httpserver).send([message(1), message(2, content=reminder), message(3)])
    assert [(b["subject"], _ids(b)) for b in sent_bodies(httpserver)] == [
        (CONTENT.subject, ["1", "3"]),
        (reminder.subject, ["2"]),
    ]


def test_an_address_appears_once_per_request(httpserver: HTTPServer) -> None:
    accept_all(httpserver, "sg-")
    same = "twice@customer.example"
    channel(httpserver).send([message(1, to=same), message(2), message(3, to=same.upper())])
    assert [_ids(b) for b in sent_bodies(httpserver)] == [["1", "2"], ["3"]]


def test_recipient_names_lose_the_characters_sendgrid_rejects(httpserver: HTTPServer) -> None:
    accept_all(httpserver, "sg-")
    m = message(1)
    m = EmailMessage(**{**_fields(m), "to": Address("doe@customer.example", "Doe, Jane; CFO")})
    channel(httpserver).send([m])
    assert sent_bodies(httpserver)[0]["personalizations"][0]["to"] == [
        {"email": "doe@customer.example", "name": "Doe Jane CFO"}
    ]


def test_substitutions_sendgrid_cannot_apply_are_rendered_here(httpserver: HTTPServer) -> None:
    accept_all(httpserver, "sg-")
    tricky = {
        "-first_name-": "Ann -score_url_7-",  # a value holding a key: SendGrid cannot nest
        "-score_url_7-": "https://nps.acme.example/s/t?score=7",
        "-unsubscribe_url-": "https://nps.acme.example/u/t",
    }
    huge = {"-first_name-": "x" * 10_001, "-score_url_7-": "s", "-unsubscribe_url-": "u"}
    results = channel(httpserver).send(
        [message(1), message(2, substitutions=tricky), message(3, substitutions=huge)]
    )

    assert {r.outcome for r in results} == {Outcome.ACCEPTED}
    plain, rendered, big = sent_bodies(httpserver)
    assert _ids(plain) == ["1"]
    assert _ids(rendered) == ["2"]
    assert "substitutions" not in rendered["personalizations"][0]
    assert rendered["subject"] == "Ann -score_url_7-, how likely are you to recommend Acme?"
    assert rendered["content"][0]["value"] == (
        "Hi Ann -score_url_7-,\nAnswer: https://nps.acme.example/s/t?score=7\n"
        "Unsubscribe: https://nps.acme.example/u/t\n"
    )
    assert _ids(big) == ["3"]
    assert "substitutions" not in big["personalizations"][0]


def test_unsendable_messages_fail_alone_without_a_request(httpserver: HTTPServer) -> None:
    accept_all(httpserver, "sg-")
    messages = [
        message(1, headers={"Reply-To": "someone@else.example"}),
        message(2, to="not an address"),
        message(3, headers={"X-Note": "line\r\nBcc: victim@example.com"}),
        message(4),
        message(5, substitutions={}, headers={}, content=EmailContent("", "", "")),
    ]
    messages.append(EmailMessage(**{**_fields(message(6)), "custom_args": {"blob": "y" * 10_000}}))

    results = channel(httpserver).send(messages)

    assert [(r.message_id, r.outcome, r.error_code) for r in results] == [
        (1, Outcome.PERMANENT, "reserved_header"),
        (2, Outcome.PERMANENT, "invalid_address"),
        (3, Outcome.PERMANENT, "invalid_header"),
        (4, Outcome.ACCEPTED, None),
        (5, Outcome.PERMANENT, "empty_content"),
        (6, Outcome.PERMANENT, "custom_args_too_large"),
    ]
    assert [_ids(b) for b in sent_bodies(httpserver)] == [["4"]]


def test_our_custom_args_win_over_the_applications(httpserver: HTTPServer) -> None:
    accept_all(httpserver, "sg-")
    m = EmailMessage(
        **{**_fields(message(1)), "custom_args": {"campaign": "q3", "sounding_message_id": "99"}}
    )
    channel(httpserver).send([m])
    assert sent_bodies(httpserver)[0]["personalizations"][0]["custom_args"] == {
        "campaign": "q3",
        "sounding_message_id": "1",
        "sounding_invitation_id": "1001",
        "sounding_step": "initial",
    }


SENDGRID_400 = {
    "errors": [
        {
            "message": "The from address does not match a verified Sender Identity.",
            "field": "from",
            "help": "https://sendgrid.com/docs/for-developers/sending-email/sender-identity/",
        }
    ]
}


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, SENDGRID_400, "The from address does not match a verified Sender Identity. (from)"),
        (401, {"errors": [{"message": "authorization required", "field": None}]}, None),
        (403, {"errors": [{"message": "access forbidden", "field": "null"}]}, "access forbidden"),
        (413, None, "HTTP 413"),
    ],
)
def test_4xx_fails_every_message_of_the_request_for_good(
    httpserver: HTTPServer, status: int, body: dict | None, error: str | None
) -> None:
    response = json.dumps(body) if body is not None else ""
    httpserver.expect_request(SEND, method="POST").respond_with_data(
        response, status=status, content_type="application/json"
    )
    results = channel(httpserver).send([message(1), message(2)])
    for r in results:
        assert r.outcome is Outcome.PERMANENT
        assert r.error_code == f"http_{status}"
        assert r.error.startswith(error or "authorization required")
        assert r.provider_id is None


def test_429_is_retried_after_the_rate_limit_reset(httpserver: HTTPServer) -> None:
    httpserver.expect_request(SEND, method="POST").respond_with_json(
        {"errors": [{"message": "too many requests", "field": None}]},
        status=429,
        headers={"X-RateLimit-Limit": "600", "X-RateLimit-Reset": str(int(NOW) + 42)},
    )
    results = channel(httpserver).send([message(1), message(2)])
    assert [(r.outcome, r.error_code, r.retry_after) for r in results] == [
        (Outcome.TRANSIENT, "http_429", 42.0)
    ] * 2
    assert results[0].error == "too many requests"


def test_429_falls_back_to_retry_after(httpserver: HTTPServer) -> None:
    httpserver.expect_request(SEND, method="POST").respond_with_data(
        "", status=429, headers={"Retry-After": "7"}
    )
    (result,) = channel(httpserver).send([message(1)])
    assert (result.outcome, result.retry_after) == (Outcome.TRANSIENT, 7.0)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_transient(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request(SEND, method="POST").respond_with_json(
        {"errors": [{"message": "internal server error"}]}, status=status
    )
    results = channel(httpserver).send([message(1), message(2)])
    assert [(r.outcome, r.error_code) for r in results] == [
        (Outcome.TRANSIENT, f"http_{status}")
    ] * 2


def test_a_gateway_timeout_is_unknown(httpserver: HTTPServer) -> None:
    httpserver.expect_request(SEND, method="POST").respond_with_data("", status=504)
    (result,) = channel(httpserver).send([message(1)])
    assert (result.outcome, result.error_code) == (Outcome.UNKNOWN, "http_504")


def test_connection_refused_is_transient() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sg = SendGridEmailChannel(SendGridConfig(api_key="SG.k", host=f"http://127.0.0.1:{port}"))
    results = sg.send([message(1), message(2)])
    assert [(r.outcome, r.error_code) for r in results] == [
        (Outcome.TRANSIENT, "connection_error")
    ] * 2


def test_a_timeout_after_sending_is_unknown(httpserver: HTTPServer) -> None:
    received, release = threading.Event(), threading.Event()

    def slow(request: Request) -> Response:
        received.set()
        release.wait(5)
        return Response("", status=202, headers={"X-Message-Id": "too-late"})

    httpserver.expect_request(SEND, method="POST").respond_with_handler(slow)
    try:
        results = channel(httpserver, timeout=0.3).send([message(1), message(2)])
    finally:
        release.set()
    assert received.is_set()  # SendGrid had the request: it may well have gone out
    assert [(r.outcome, r.error_code, r.provider_id) for r in results] == [
        (Outcome.UNKNOWN, "timeout", None)
    ] * 2
    deadline = time.monotonic() + 5  # let the stand-in finish before the next test
    while not httpserver.log and time.monotonic() < deadline:
        time.sleep(0.01)


def test_an_empty_batch_makes_no_request(httpserver: HTTPServer) -> None:
    assert channel(httpserver).send([]) == []
    assert httpserver.log == []


def test_configuration_is_checked() -> None:
    with pytest.raises(ValueError, match="API key"):
        SendGridEmailChannel(SendGridConfig(api_key=""))
    with pytest.raises(ValueError, match="max_batch"):
        SendGridEmailChannel(SendGridConfig(api_key="SG.k"), max_batch=1001)


def _ids(body: dict) -> list[str]:
    return [p["custom_args"]["sounding_message_id"] for p in body["personalizations"]]


def _fields(m: EmailMessage) -> dict[str, object]:
    return {name: getattr(m, name) for name in EmailMessage.__dataclass_fields__}
