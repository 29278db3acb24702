"""Twilio webhook helpers, with signatures made by the SDK's own RequestValidator.

Also the form fields of inbound messages and status callbacks, and TwiML replies.
"""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from channels.twilio_webhooks import (
    DeliveryUpdate,
    InboundSms,
    parse_inbound_sms,
    parse_status_callback,
    twiml_reply,
    verify_signature,
)

ACCOUNT = "AC" + "a" * 32
TOKEN = "auth-token-0123456789"
FROM = "+15005550006"

HOOK = "https://sounding.example.com/hooks/twilio/sms"
INBOUND = {
    "MessageSid": "SM" + "e" * 32,
    "AccountSid": ACCOUNT,
    "From": "+14155550100",
    "To": FROM,
    "Body": "10 great support",
    "NumMedia": "0",
}


def sign(url: str, params: object, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def test_a_signed_request_verifies() -> None:
    signature = sign(HOOK, INBOUND)
    assert verify_signature(url=HOOK, params=INBOUND, signature=signature, auth_token=TOKEN)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda url, params, sig, token: (url, {**params, "Body": "0 terrible"}, sig, token),
        lambda url, params, sig, token: (url, {**params, "Extra": "1"}, sig, token),
        lambda url, params, sig, token: (url + "?x=1", params, sig, token),
        lambda url, params, sig, token: (url.replace("https", "http"), params, sig, token),
        lambda url, params, sig, token: (url, params, sig[:-2] + "A=", token),
        lambda url, params, sig, token: (url, params, "", token),
        lambda url, params, sig, token: (url, params, None, token),
        lambda url, params, sig, token: (url, params, sig, "another-token"),
        lambda url, params, sig, token: (url, params, sig, ""),
        lambda url, params, sig, token: (url, params, sig, []),
    ],
)
def test_a_tampered_or_unsigned_request_is_rejected(tamper: object) -> None:
    url, params, signature, token = tamper(HOOK, INBOUND, sign(HOOK, INBOUND), TOKEN)  # type: ignore[operator]
    assert not verify_signature(url=url, params=params, signature=signature, auth_token=token)


def test_signature_with_a_multidict_and_a_rotated_token() -> None:
    form = MultiDict([*INBOUND.items(), ("MediaUrl0", "https://a"), ("MediaUrl0", "https://b")])
    signature = sign(HOOK, form, token="old-token")
    assert verify_signature(
        url=HOOK, params=form, signature=signature, auth_token=[TOKEN, "old-token"]
    )
    assert not verify_signature(url=HOOK, params=form, signature=signature, auth_token=TOKEN)


def test_signature_tolerates_the_default_port_like_the_sdk() -> None:
    signature = sign(HOOK, INBOUND)
    with_port = HOOK.replace("example.com/", "example.com:443/")
    assert verify_signature(url=with_port, params=INBOUND, signature=signature, auth_token=TOKEN)


def test_parse_inbound_sms() -> None:
    assert parse_inbound_sms(INBOUND) == InboundSms(
        provider_id="SM" + "e" * 32,
        from_number="+14155550100",
        to_number=FROM,
        body="10 great support",
        opt_out_type=None,
    )
    stop = parse_inbound_sms({**INBOUND, "Body": "Stop", "OptOutType": "stop"})
    assert (stop.body, stop.opt_out_type) == ("Stop", "STOP")
    assert parse_inbound_sms({k: v for k, v in INBOUND.items() if k != "Body"}).body == ""
    with pytest.raises(ValueError, match="From"):
        parse_inbound_sms({**INBOUND, "From": ""})


def status(status: str, code: str | None = None) -> dict[str, str]:
    params = {"MessageSid": "SM" + "c" * 32, "MessageStatus": status, "AccountSid": ACCOUNT}
    if code is not None:
        params["ErrorCode"] = code
    return params


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (status("sent"), ("sent", None, False, False, None)),
        (status("delivered"), ("delivered", None, True, False, None)),
        (status("undelivered", "30003"), ("undelivered", 30003, True, True, None)),
        (status("undelivered", "30004"), ("undelivered", 30004, True, True, "sms_blocked")),
        (status("undelivered", "30005"), ("undelivered", 30005, True, True, "sms_invalid")),
        (status("failed", "30006"), ("failed", 30006, True, True, "sms_invalid")),
        (status("failed", "21610"), ("failed", 21610, True, True, "sms_stop")),
        (status("failed", "30007"), ("failed", 30007, True, True, None)),
        (status("Failed", ""), ("failed", None, True, True, None)),
        (status("queued", "junk"), ("queued", None, False, False, None)),
    ],
)
def test_parse_status_callback(params: dict[str, str], expected: tuple[object, ...]) -> None:
    update = parse_status_callback(params)
    assert update == DeliveryUpdate("SM" + "c" * 32, *expected)  # type: ignore[arg-type]


def test_status_callback_needs_sid_and_status() -> None:
    with pytest.raises(ValueError, match="MessageStatus"):
        parse_status_callback({"MessageSid": "SM1"})
    with pytest.raises(ValueError, match="MessageSid"):
        parse_status_callback({"MessageStatus": "sent"})


def test_twiml_reply() -> None:
    assert twiml_reply("Thanks! Why 8? <Reply> & tell us") == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        "<Message>Thanks! Why 8? &lt;Reply&gt; &amp; tell us</Message></Response>"
    )
    assert twiml_reply(None) == '<?xml version="1.0" encoding="UTF-8"?><Response />'
