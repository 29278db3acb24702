"""POST /hooks/sendgrid: signed event batches (a key pair made here) change messages and
suppress addresses; unsigned, tampered, stale or foreign-key batches change nothing; the same
event twice changes nothing twice."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient

from app.clock import FrozenClock
from app.db import db
from app.jobs.prune import prune
from app.models import Invitation, Message, ProviderEvent, Suppression
from app.services.suppressions import lift
from app.vocabulary import InvitationStatus, MessageStatus, SuppressionKind
from tests.support.api import Api, error_of, issue_test_key, row_counts
from tests.support.app import make_app
from tests.support.factories import new_person, new_survey
from tests.support.sendgrid import new_key, shown_public_key, sign

HOOK = "/hooks/sendgrid"


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return new_key()


@pytest.fixture
def hook_app(
    database_url: str, clock: FrozenClock, key: ec.EllipticCurvePrivateKey
) -> Iterator[Flask]:
    yield from make_app(database_url, clock, SENDGRID_WEBHOOK_PUBLIC_KEY=shown_public_key(key))


@pytest.fixture
def sent(hook_app: Flask) -> list[dict[str, Any]]:
    """Two emailed invitations, sent (as the outbox does): their message ids and addresses."""
    api = Api(hook_app.test_client(), issue_test_key(hook_app, "admin"))
    survey = new_survey(api)
    out = []
    for n in (1, 2):
        person = new_person(api, f"u-{n}")
        made = api.post(
            "/api/v1/invitations",
            json={"survey_id": survey["id"], "person_id": person["id"], "channel": "email"},
        )
        assert made.status_code == 201
        out.append({"invitation_id": made.get_json()["id"], "email": person["email"]})
    with hook_app.app_context():
        for item in out:
            message = db.session.query(Message).filter_by(invitation_id=item["invitation_id"]).one()
            item["message_id"] = message.id
            message.provider_id = "XMSG-shared"  # one request, one X-Message-Id for both
        db.session.commit()
    return out


def event(item: dict[str, Any], kind: str, n: int, at: int, **extra: Any) -> dict[str, Any]:
    return {
        "email": item["email"],
        "timestamp": at,
        "event": kind,
        "sg_event_id": f"evt-{kind}-{item['message_id']}-{n}",
        "sg_message_id": "XMSG-shared.filterdrecv-1.0",
        "sounding_message_id": str(item["message_id"]),
        "sounding_invitation_id": str(item["invitation_id"]),
        "sounding_step": "initial",
        **extra,
    }


def post(
    client: FlaskClient,
    events: list[dict[str, Any]] | bytes,
    key: ec.EllipticCurvePrivateKey | None,
    timestamp: int,
    body_sent: bytes | None = None,
) -> Any:
    body = events if isinstance(events, bytes) else json.dumps(events).encode()
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-Twilio-Email-Event-Webhook-Signature"] = sign(key, str(timestamp), body)
        headers["X-Twilio-Email-Event-Webhook-Timestamp"] = str(timestamp)
    return client.post(HOOK, data=body_sent if body_sent is not None else body, headers=headers)


def now_ts(clock: FrozenClock) -> int:
    return int(clock.now().timestamp())


def message_state(app: Flask, item: dict[str, Any]) -> tuple[str, Any, str | None]:
    with app.app_context():
        message = db.session.get(Message, item["message_id"])
        return message.status.value, message.last_event_at, message.error


def invitation_status(app: Flask, item: dict[str, Any]) -> InvitationStatus:
    with app.app_context():
        return db.session.get(Invitation, item["invitation_id"]).status


def suppressions(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        return [(s.value, s.reason.value) for s in db.session.query(Suppression)]


# --- only a fresh, correctly signed batch changes anything ---------------------------------


def test_a_signed_batch_updates_only_the_message_it_names(
    hook_app: Flask, clock: FrozenClock, key: ec.EllipticCurvePrivateKey, sent: list[dict]
) -> None:
    ts = now_ts(clock)
    answer = post(hook_app.test_client(), [event(sent[1], "delivered", 1, ts - 5)], key, ts)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {
        "received": 1,
        "applied": 1,
        "duplicate": 0,
        "ignored": 0,
        "suppressed": 0,
    }
    # Mapped by our custom args: the X-Message-Id both share would not say which.
    assert message_state(hook_app, sent[1])[0] == "delivered"
    assert message_state(hook_app, sent[1])[1] == clock.now() - timedelta(seconds=5)
    assert message_state(hook_app, sent[0])[0] == "accepted"


@pytest.mark.parametrize("how", ["unsigned", "tampered", "stale", "future", "other_key", "junk"])
def test_unsigned_tampered_or_stale_batches_are_refused_and_change_nothing(
    hook_app: Flask,
    clock: FrozenClock,
    key: ec.EllipticCurvePrivateKey,
    sent: list[dict],
    how: str,
) -> None:
    ts = now_ts(clock)
    events = [event(sent[0], "bounce", 1, ts - 5, type="bounce", reason="550 no such user")]
    body = json.dumps(events).encode()
    client = hook_app.test_client()
    before = row_counts(hook_app)
    if how == "unsigned":
        answer = post(client, events, None, ts)
    elif how == "tampered":
        changed = json.dumps([{**events[0], "email": "someone@else.example"}]).encode()
        answer = post(client, events, key, ts, body_sent=changed)
    elif how == "stale":
        answer = post(client, events, key, ts - 3600)
    elif how == "future":
        answer = post(client, events, key, ts + 3600)
    elif how == "other_key":
        answer = post(client, events, new_key(), ts)
    else:
        answer = client.post(
            HOOK,
            data=body,
            headers={
                "X-Twilio-Email-Event-Webhook-Signature": "bm90IGEgc2lnbmF0dXJl",
                "X-Twilio-Email-Event-Webhook-Timestamp": str(ts),
            },
        )
    assert answer.status_code == 403
    assert error_of(answer)["code"] in {"unsigned", "bad_signature", "stale"}
    assert row_counts(hook_app) == before
    assert message_state(hook_app, sent[0])[0] == "accepted"
    assert suppressions(hook_app) == []
    assert invitation_status(hook_app, sent[0]) == InvitationStatus.SENT
    # The same batch, signed and fresh, does what it says.
    assert post(client, events, key, ts).status_code == 200
    assert suppressions(hook_app) == [(sent[0]["email"], "bounced")]


def test_a_signed_body_that_is_not_events_is_a_400(
    hook_app: Flask, clock: FrozenClock, key: ec.EllipticCurvePrivateKey
) -> None:
    before = row_counts(hook_app)
    for body in (b"not json", b'"a string"'):
        answer = post(hook_app.test_client(), body, key, now_ts(clock))
        assert answer.status_code == 400 and error_of(answer)["field"] == "body"
    assert row_counts(hook_app) == before


def test_without_a_configured_key_every_request_is_refused(app: Flask) -> None:
    answer = app.test_client().post(HOOK, data=b"[]", headers={"Content-Type": "application/json"})
    assert answer.status_code == 503 and error_of(answer)["code"] == "not_configured"


# --- what events do -------------------------------------------------------------------------


def test_status_moves_forward_only_and_keeps_the_last_event_time(
    hook_app: Flask, clock: FrozenClock, key: ec.EllipticCurvePrivateKey, sent: list[dict]
) -> None:
    ts, client, item = now_ts(clock), hook_app.test_client(), sent[0]
    post(client, [event(item, "delivered", 1, ts - 60)], key, ts)
    post(client, [event(item, "open", 2, ts - 30)], key, ts)
    assert message_state(hook_app, item)[:2] == ("opened", clock.now() - timedelta(seconds=30))
    # Late and out of order: a 'delivered' and a 'deferred' from before the open.
    post(
        client, [event(item, "delivered", 3, ts - 90), event(item, "deferred", 4, ts - 95)], key, ts
    )
    assert message_state(hook_app, item)[:2] == ("opened", clock.now() - timedelta(seconds=30))
    post(client, [event(item, "click", 5, ts - 10, url="https://example.com")], key, ts)
    assert message_state(hook_app, item)[0] == "clicked"


def test_events_in_one_batch_apply_in_their_own_time_order(
    hook_app: Flask, clock: FrozenClock, key: ec.EllipticCurvePrivateKey, sent: list[dict]
) -> None:
    ts = now_ts(clock)
    batch = [event(sent[0], "open", 2, ts - 10), event(sent[0], "processed", 1, ts - 100)]
    assert post(hook_app.test_client(), batch, key, ts).get_json()["applied"] == 2
    assert message_state(hook_app, sent[0])[:2] == ("opened", clock.now() - timedelta(seconds=10))


@pytest.mark.parametrize(
    ("kind", "extra", "reason"),
    [
        (
            "bounce",
            {"type": "bounce", "reason": "550 5.1.1 no such user", "status": "5.1.1"},
            "bounced",
        ),
        ("dropped", {"reason": "Bounced Address"}, "bounced"),
        ("dropped", {"reason": "Unsubscribed Address"}, "unsubscribed"),
        ("dropped", {"reason": "Invalid"}, "bounced"),
        ("spamreport", {}, "spam_report"),
        ("unsubscribe", {}, "unsubscribed"),
        ("group_unsubscribe", {"asm_group_id": 1}, "unsubscribed"),
    ],
)
def test_events_about_the_address_suppress_it_and_end_its_invitations(
    hook_app: Flask,
    clock: FrozenClock,
    key: ec.EllipticCurvePrivateKey,
    sent: list[dict],
    kind: str,
    extra: dict[str, Any],
    reason: str,
) -> None:
    ts = now_ts(clock)
    answer = post(hook_app.test_client(), [event(sent[0], kind, 1, ts - 5, **extra)], key, ts)
    assert answer.get_json()["suppressed"] == 1
    assert suppressions(hook_app) == [(sent[0]["email"], reason)]
    assert invitation_status(hook_app, sent[0]) == InvitationStatus.SUPPRESSED  # at once
    assert invitation_status(hook_app, sent[1]) == InvitationStatus.SENT
    if kind == "bounce":
        assert message_state(hook_app, sent[0])[0::2] == ("bounced", "550 5.1.1 no such user")


@pytest.mark.parametrize(
    ("kind", "extra", "status"),
    [
        ("bounce", {"type": "blocked", "reason": "IP listed"}, "undelivered"),
        ("dropped", {"reason": "Spam Content"}, "dropped"),
        ("deferred", {"response": "try later"}, "deferred"),
    ],
)
def test_events_about_our_message_do_not_suppress_the_person(
    hook_app: Flask,
    clock: FrozenClock,
    key: ec.EllipticCurvePrivateKey,
    sent: list[dict],
    kind: str,
    extra: dict[str, Any],
    status: str,
) -> None:
    ts = now_ts(clock)
    post(hook_app.test_client(), [event(sent[0], kind, 1, ts - 5, **extra)], key, ts)
    assert suppressions(hook_app) == []
    assert message_state(hook_app, sent[0])[0] == status
    assert invitation_status(hook_app, sent[0]) == InvitationStatus.SENT


def test_the_same_event_twice_changes_nothing_twice(
    hook_app: Flask, clock: FrozenClock, key: ec.EllipticCurvePrivateKey, sent: list[dict]
) -> None:
    ts, client = now_ts(clock), hook_app.test_client()
    bounce = event(sent[0], "bounce", 1, ts - 5, type="bounce", reason="550")
    first = post(client, [bounce, bounce], key, ts).get_json()  # a duplicate inside a batch too
    assert (first["applied"], first["duplicate"], first["suppressed"]) == (1, 1, 1)
    with hook_app.app_context():  # an admin decides the address is fine after all
        assert lift(SuppressionKind.EMAIL, sent[0]["email"])
        db.session.commit()
    again = post(client, [bounce], key, ts).get_json()  # SendGrid posts the batch again
    assert (again["applied"], again["duplicate"]) == (0, 1)
    assert suppressions(hook_app) == []


def test_events_that_are_not_ours_are_ignored(
    hook_app: Flask, clock: FrozenClock, key: ec.EllipticCurvePrivateKey, sent: list[dict]
) -> None:
    ts = now_ts(clock)
    foreign = event(sent[0], "bounce", 1, ts - 5, type="bounce")
    del foreign["sounding_message_id"]
    unknown = {**event(sent[0], "delivered", 2, ts - 5), "sounding_message_id": "987654"}
    mismatched = {**event(sent[0], "delivered", 3, ts - 5), "sounding_invitation_id": "987654"}
    resubscribe = event(sent[0], "group_resubscribe", 4, ts - 5)
    batch = [foreign, unknown, mismatched, resubscribe, "not an object"]
    answer = post(hook_app.test_client(), batch, key, ts).get_json()  # type: ignore[list-item]
    assert answer["ignored"] == 4 and answer["applied"] == 0
    assert suppressions(hook_app) == [] and message_state(hook_app, sent[0])[0] == "accepted"


def test_processed_event_ids_are_pruned_after_a_while(
    hook_app: Flask, clock: FrozenClock, key: ec.EllipticCurvePrivateKey, sent: list[dict]
) -> None:
    ts = now_ts(clock)
    post(hook_app.test_client(), [event(sent[0], "delivered", 1, ts - 5)], key, ts)
    clock.advance(days=2)
    with hook_app.app_context():
        assert prune()["provider_events"] == 0
        clock.advance(days=2)
        assert prune()["provider_events"] == 1
        assert db.session.query(ProviderEvent).count() == 0
        assert db.session.get(Message, sent[0]["message_id"]).status == MessageStatus.DELIVERED


def test_a_malformed_verification_key_stops_the_app_at_start(database_url: str) -> None:
    from app import create_app
    from app.config import ConfigError
    from tests.support.settings import TEST_SETTINGS

    with pytest.raises(ConfigError, match="SENDGRID_WEBHOOK_PUBLIC_KEY"):
        create_app(
            {**TEST_SETTINGS, "DATABASE_URL": database_url, "SENDGRID_WEBHOOK_PUBLIC_KEY": "abc"}
        )
