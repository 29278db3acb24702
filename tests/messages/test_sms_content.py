"""What the survey text says and what it costs: built from a real invitation and read from the
outbox, its segments counted the way Twilio bills them (GSM-7 or UCS-2)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app.db import db
from app.models import OutboxMessage
from app.policy.sms import Encoding, SegmentInfo, count_segments
from tests.support.api import Api

QUESTION = "How likely are you to recommend Acme to a friend or colleague?"
TAIL = f"{QUESTION} Reply with a number from 0 to 10 by Thu, Nov 26. Reply STOP to opt out."
VERY_LONG = (
    "Maximiliana Alexandrina Konstantina Wilhelmina Friederike Louise "
    "von Hohenzollern-Sigmaringen und Württemberg-Hohenlohe-Langenburg-Oettingen, "
    "Customer Success EMEA"
)


def text_sent(app: Flask, api: Api, csm_name: str, n: int) -> str:
    """Invite a person whose account's CSM is ``csm_name`` by SMS; the text the outbox got."""
    email = f"csm{n}@acme.example"
    staff = api.post("/api/v1/staff", json={"email": email, "name": csm_name})
    assert staff.status_code == 201, staff.get_json()
    survey = api.post("/api/v1/surveys", json={"name": f"NPS {n}"}).get_json()["id"]
    invitation = api.post(
        "/api/v1/invitations",
        json={
            "survey_id": survey,
            "channel": "sms",
            "person": {
                "external_id": f"p-{n}",
                "phone": f"+1 415 555 01{n:02d}",
                "account": {"external_id": f"a-{n}", "name": "Globex", "csm": email},
            },
        },
    )
    assert invitation.status_code == 201, invitation.get_json()
    with app.app_context():
        outbox = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.invitation_id == invitation.get_json()["id"])
        )
        return outbox.text


@pytest.mark.parametrize(
    ("n", "csm_name", "text", "info"),
    [
        (
            1,
            "Jane Doe",
            f"Hi, it's Jane Doe from Acme. {TAIL}",
            SegmentInfo(Encoding.GSM7, 163, 2),
        ),
        # A long name still fits in two GSM-7 segments: kept whole.
        (
            2,
            "Maximiliana Alexandrina von Hohenzollern-Sigmaringen",
            f"Hi, it's Maximiliana Alexandrina von Hohenzollern-Sigmaringen from Acme. {TAIL}",
            SegmentInfo(Encoding.GSM7, 207, 2),
        ),
        # A name too long for two segments: the first name.
        (
            3,
            VERY_LONG,
            f"Hi, it's Maximiliana from Acme. {TAIL}",
            SegmentInfo(Encoding.GSM7, 166, 2),
        ),
        # ë and Ł are not GSM-7: as typed, the text would be 3 UCS-2 segments (see below);
        # transliterated, it is 2 GSM-7 segments.
        (
            4,
            "Zoë Łukasiewicz",
            f"Hi, it's Zoe Lukasiewicz from Acme. {TAIL}",
            SegmentInfo(Encoding.GSM7, 170, 2),
        ),
        # é and Ø are GSM-7: kept as typed.
        (
            5,
            "Renée Ødegård",
            f"Hi, it's Renée Ødegård from Acme. {TAIL}",
            SegmentInfo(Encoding.GSM7, 168, 2),
        ),
        # Nothing of a Cyrillic name survives in GSM-7, and in UCS-2 the text is too long.
        (6, "Дмитрий Иванов", f"Hi from Acme. {TAIL}", SegmentInfo(Encoding.GSM7, 148, 1)),
    ],
)
def test_the_first_text_fits_in_two_segments(
    app: Flask, api: Api, n: int, csm_name: str, text: str, info: SegmentInfo
) -> None:
    sent = text_sent(app, api, csm_name, n)
    assert sent == text
    assert count_segments(sent) == info
    print(f"{csm_name!r}: {info.encoding.value}, {info.units} units, {info.segments} segment(s)")


def test_what_the_names_would_cost_as_typed() -> None:
    """Why the names above are shortened or transliterated."""
    as_typed = f"Hi, it's Zoë Łukasiewicz from Acme. {TAIL}"
    assert count_segments(as_typed) == SegmentInfo(Encoding.UCS2, 170, 3)
    cyrillic_first_name = f"Hi, it's Дмитрий from Acme. {TAIL}"
    assert count_segments(cyrillic_first_name) == SegmentInfo(Encoding.UCS2, 162, 3)
    very_long = f"Hi, it's {VERY_LONG} from Acme. {TAIL}"
    assert count_segments(very_long).segments == 3


@pytest.mark.parametrize("locale", ["fr", "es", "de", "en"])
def test_translated_first_texts_fit_two_segments(locale: str) -> None:
    from app.messages.content import sms_phrases
    from app.policy.sms import compose_invitation

    composed = compose_invitation(
        company="Acme",
        question="How likely are you to recommend Acme to a friend or colleague?",
        deadline="jeu. 26 nov",
        csm_name="Maximilian Alexander Featherstonehaugh",
        phrases=sms_phrases(locale),
    )
    assert composed.info.segments <= 2
    assert "STOP" in composed.text and "0" in composed.text and "10" in composed.text
