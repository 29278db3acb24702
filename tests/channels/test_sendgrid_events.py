"""SendGrid's signed Event Webhook: verification with a key pair made here, and parsing."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from channels.base import Step
from channels.sendgrid_events import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    EventAction,
    SendGridWebhookVerifier,
    WebhookRejected,
    parse_event,
    parse_events,
)
from tests.support.sendgrid import new_key, shown_public_key, sign

NOW = 1_700_000_000


def event(kind: str, n: int = 1, **extra: object) -> dict[str, object]:
    return {
        "email": f"person{n}@customer.example",
        "timestamp": NOW - 30,
        "smtp-id": f"<abc{n}@ismtpd-1>",
        "event": kind,
        "sg_event_id": f"evt-{kind}-{n}",
        "sg_message_id": f"XMSG{n}.filterdrecv-1234-5-ABC.0",
        "sounding_message_id": str(n),
        "sounding_invitation_id": str(1000 + n),
        "sounding_step": "initial",
        **extra,
    }


BATCH = json.dumps(
    [event("delivered", 1, response="250 OK"), event("bounce", 2, reason="550 no such user")],
    ensure_ascii=False,
).encode()


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return new_key()


@pytest.fixture
def verifier(key: ec.EllipticCurvePrivateKey) -> SendGridWebhookVerifier:
    return SendGridWebhookVerifier(shown_public_key(key))


def test_a_fresh_correctly_signed_batch_verifies(
    key: ec.EllipticCurvePrivateKey, verifier: SendGridWebhookVerifier
) -> None:
    ts = str(NOW - 5)
    verifier.verify(BATCH, sign(key, ts, BATCH), ts, now=NOW)
    events = parse_events(BATCH)
    assert [(e.event, e.message_id) for e in events] == [("delivered", 1), ("bounce", 2)]


def test_the_raw_bytes_are_what_is_signed(
    key: ec.EllipticCurvePrivateKey, verifier: SendGridWebhookVerifier
) -> None:
    body = '[{"event":"bounce","email":"j\u00fcrgen@kunde.example","reason":"caf\u00e9"}]'
    raw = body.encode()
    ts = str(NOW)
    verifier.verify(raw, sign(key, ts, raw), ts, now=NOW)
    reencoded = json.dumps(json.loads(raw)).encode()  # same JSON, different bytes
    with pytest.raises(WebhookRejected) as rejected:
        verifier.verify(reencoded, sign(key, ts, raw), ts, now=NOW)
    assert rejected.value.code == "bad_signature"


def test_a_tampered_payload_is_rejected(
    key: ec.EllipticCurvePrivateKey, verifier: SendGridWebhookVerifier
) -> None:
    ts = str(NOW)
    signature = sign(key, ts, BATCH)
    tampered = BATCH.replace(b'"delivered"', b'"spamreport"')
    assert tampered != BATCH
    with pytest.raises(WebhookRejected) as rejected:
        verifier.verify(tampered, signature, ts, now=NOW)
    assert rejected.value.code == "bad_signature"


def test_a_batch_signed_with_another_key_is_rejected(verifier: SendGridWebhookVerifier) -> None:
    ts = str(NOW)
    with pytest.raises(WebhookRejected) as rejected:
        verifier.verify(BATCH, sign(new_key(), ts, BATCH), ts, now=NOW)
    assert rejected.value.code == "bad_signature"


def test_the_timestamp_is_part_of_the_signature(
    key: ec.EllipticCurvePrivateKey, verifier: SendGridWebhookVerifier
) -> None:
    signature = sign(key, str(NOW - 3000), BATCH)  # an old capture, re-dated
    with pytest.raises(WebhookRejected) as rejected:
        verifier.verify(BATCH, signature, str(NOW), now=NOW)
    assert rejected.value.code == "bad_signature"


@pytest.mark.parametrize(
    ("signature", "timestamp"),
    [(None, str(NOW)), ("sig", None), (None, None), ("", ""), ("sig", "")],
)
def test_unsigned_requests_are_rejected(
    verifier: SendGridWebhookVerifier, signature: str | None, timestamp: str | None
) -> None:
    with pytest.raises(WebhookRejected) as rejected:
        verifier.verify(BATCH, signature, timestamp, now=NOW)
    assert rejected.value.code == "unsigned"


@pytest.mark.parametrize(("age", "ok"), [(0, True), (600, True), (601, False), (86_400, False)])
def test_only_fresh_signatures_are_accepted(
    key: ec.EllipticCurvePrivateKey, verifier: SendGridWebhookVerifier, age: int, ok: bool
) -> None:
    ts = str(NOW - age)
    signature = sign(key, ts, BATCH)  # correctly signed, possibly replayed
    if ok:
        verifier.verify(BATCH, signature, ts, now=NOW)
    else:
        with pytest.raises(WebhookRejected) as rejected:
            verifier.verify(BATCH, signature, ts, now=NOW)
        assert rejected.value.code == "stale"


def test_a_timestamp_far_in_the_future_is_rejected(
    key: ec.EllipticCurvePrivateKey, verifier: SendGridWebhookVerifier
) -> None:
    verifier.verify(BATCH, sign(key, str(NOW + 60), BATCH), str(NOW + 60), now=NOW)
    ts = str(NOW + 3600)
    with pytest.raises(WebhookRejected) as rejected:
        verifier.verify(BATCH, sign(key, ts, BATCH), ts, now=NOW)
    assert rejected.value.code == "stale"


def test_the_window_is_configurable(key: ec.EllipticCurvePrivateKey) -> None:
    strict = SendGridWebhookVerifier(shown_public_key(key), max_age=60)
    ts = str(NOW - 61)
    with pytest.raises(WebhookRejected):
        strict.verify(BATCH, sign(key, ts, BATCH), ts, now=NOW)


@pytest.mark.parametrize(
    ("signature", "timestamp", "code"),
    [
        ("not base64 !!!", str(NOW), "bad_signature"),
        (base64.b64encode(b"not DER").decode(), str(NOW), "bad_signature"),
        ("c2ln", "yesterday", "bad_timestamp"),
    ],
)
def test_garbage_headers_are_rejected(
    verifier: SendGridWebhookVerifier, signature: str, timestamp: str, code: str
) -> None:
    with pytest.raises(WebhookRejected) as rejected:
        verifier.verify(BATCH, signature, timestamp, now=NOW)
    assert rejected.value.code == code


def test_a_body_that_is_not_utf8_is_rejected(
    key: ec.EllipticCurvePrivateKey, verifier: SendGridWebhookVerifier
) -> None:
    body = b"[\xff\xfe]"
    ts = str(NOW)
    with pytest.raises(WebhookRejected) as rejected:
        verifier.verify(body, sign(key, ts, body), ts, now=NOW)
    assert rejected.value.code == "bad_signature"


def test_headers_are_found_in_any_letter_case(
    key: ec.EllipticCurvePrivateKey, verifier: SendGridWebhookVerifier
) -> None:
    ts = str(NOW)
    headers = {SIGNATURE_HEADER.lower(): sign(key, ts, BATCH), TIMESTAMP_HEADER.upper(): ts}
    verifier.verify_headers(BATCH, headers, now=NOW)
    with pytest.raises(WebhookRejected) as rejected:
        verifier.verify_headers(BATCH, {"Content-Type": "application/json"}, now=NOW)
    assert rejected.value.code == "unsigned"


def test_a_pem_key_is_accepted_too(key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ts = str(NOW)
    SendGridWebhookVerifier(pem.decode()).verify(BATCH, sign(key, ts, BATCH), ts, now=NOW)


def test_a_bad_key_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        SendGridWebhookVerifier("")
    with pytest.raises(ValueError):
        SendGridWebhookVerifier("bm90IGEga2V5")
    rsa_der = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="EC"):
        SendGridWebhookVerifier(base64.b64encode(rsa_der).decode())


SUP, UPD, IGN = EventAction.SUPPRESS, EventAction.UPDATE, EventAction.IGNORE


@pytest.mark.parametrize(
    ("kind", "extra", "action", "status", "suppress"),
    [
        ("processed", {}, UPD, "processed", None),
        ("deferred", {"response": "421 try later"}, UPD, "deferred", None),
        ("delivered", {"response": "250 OK"}, UPD, "delivered", None),
        ("open", {"sg_machine_open": False}, UPD, "opened", None),
        ("click", {"url": "https://x.example"}, UPD, "clicked", None),
        ("bounce", {"reason": "550 5.1.1 no such user"}, SUP, "bounced", "email_bounced"),
        ("bounce", {"type": "bounce"}, SUP, "bounced", "email_bounced"),
        ("bounce", {"type": "blocked"}, UPD, "blocked", None),
        ("dropped", {"reason": "Bounced Address"}, SUP, "dropped", "email_bounced"),
        ("dropped", {"reason": "Unsubscribed Address"}, SUP, "dropped", "email_unsubscribed"),
        ("dropped", {"reason": "Invalid"}, SUP, "dropped", "email_invalid"),
        ("dropped", {"reason": "Something new"}, SUP, "dropped", "email_dropped"),
        ("dropped", {"reason": "Spam Content"}, UPD, "dropped", None),
        ("spamreport", {}, SUP, "spam_report", "email_spam_report"),
        ("unsubscribe", {}, SUP, "unsubscribed", "email_unsubscribed"),
        ("group_unsubscribe", {"asm_group_id": 10}, SUP, "unsubscribed", "email_unsubscribed"),
        ("group_resubscribe", {"asm_group_id": 10}, IGN, None, None),
        ("something_new", {}, IGN, None, None),
    ],
)
def test_events_are_classified(
    kind: str, extra: dict, action: EventAction, status: str | None, suppress: str | None
) -> None:
    parsed = parse_event(event(kind, 3, **extra))
    assert (parsed.event, parsed.action, parsed.status, parsed.suppress) == (
        kind,
        action,
        status,
        suppress,
    )


def test_an_event_carries_what_the_application_needs() -> None:
    parsed = parse_event(event("bounce", 7, reason="550 no such user", status="5.1.1"))
    assert parsed.sg_event_id == parsed.dedupe_key == "evt-bounce-7"
    assert parsed.sg_message_id == "XMSG7.filterdrecv-1234-5-ABC.0"
    assert parsed.provider_id == "XMSG7"
    assert parsed.email == "person7@customer.example"
    assert parsed.timestamp == datetime.fromtimestamp(NOW - 30, tz=UTC)
    assert (parsed.reason, parsed.smtp_status) == ("550 no such user", "5.1.1")
    assert (parsed.message_id, parsed.invitation_id, parsed.step) == (7, 1007, Step.INITIAL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.status = "delivered"  # type: ignore[misc]


def test_custom_args_are_read_tolerantly() -> None:
    numbers = parse_event(
        {"event": "open", "sounding_message_id": 5, "sounding_invitation_id": " 6 "}
    )
    assert (numbers.message_id, numbers.invitation_id, numbers.step) == (5, 6, None)
    nested = parse_event(
        {
            "event": "open",
            "unique_args": {"sounding_message_id": "8", "sounding_step": "reminder_2"},
        }
    )
    assert (nested.message_id, nested.step) == (8, Step.REMINDER_2)
    garbage = parse_event(
        {
            "event": "open",
            "sounding_message_id": "x1",
            "sounding_invitation_id": -4,
            "sounding_step": "reminder_9",
            "timestamp": "soon",
            "email": 42,
        }
    )
    assert (garbage.message_id, garbage.invitation_id, garbage.step) == (None, None, None)
    assert garbage.timestamp is None
    bare = parse_event({"event": "delivered"})
    assert (bare.message_id, bare.sg_message_id, bare.provider_id, bare.email) == (
        None,
        None,
        None,
        None,
    )


def test_events_without_an_id_still_dedupe() -> None:
    raw = {"event": "delivered", "email": "a@b.example", "timestamp": NOW}
    first = parse_event(raw)
    again = parse_event(dict(reversed(list(raw.items()))))
    other = parse_event({**raw, "timestamp": NOW + 1})
    assert first.dedupe_key == again.dedupe_key != other.dedupe_key
    assert first.dedupe_key.startswith("sha256:")


def test_a_batch_is_parsed_in_order_skipping_non_objects() -> None:
    body = json.dumps([event("delivered", 1), "noise", 3, event("open", 2)]).encode()
    assert [(e.event, e.message_id) for e in parse_events(body)] == [("delivered", 1), ("open", 2)]
    assert len(parse_events(json.dumps(event("click", 4)).encode())) == 1
    assert parse_events(b"[]") == []


@pytest.mark.parametrize("body", [b"", b"not json", b'"a string"', b"42", b"\xff"])
def test_a_body_that_is_not_an_event_batch_is_rejected(body: bytes) -> None:
    with pytest.raises(WebhookRejected) as rejected:
        parse_events(body)
    assert rejected.value.code == "bad_payload"
