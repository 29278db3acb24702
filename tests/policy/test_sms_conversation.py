"""The SMS conversation policy: plain values in, plain values out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.policy.sms import SmsTooLong, count_segments
from app.policy.sms_conversation import (
    COMMENT_WINDOW,
    HINT_INTERVAL,
    Answer,
    Conversation,
    Decision,
    ReplyOutcome,
    closed_text,
    compose_reminder,
    decide,
    follow_up_text,
    sms_day,
)
from app.policy.sms_grammar import Keyword, Problem

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
OPEN = Conversation(invited=True, answerable=True)
JUST_SCORED = Conversation(invited=True, answerable=True, answered=True, score_at=NOW)
Out = ReplyOutcome


@pytest.mark.parametrize(
    ("body", "keyword", "outcome", "answer"),
    [
        ("STOP", Keyword.OPT_OUT, Out.OPT_OUT, None),
        ("unsubscribe", Keyword.OPT_OUT, Out.OPT_OUT, None),
        (" Quit! ", Keyword.OPT_OUT, Out.OPT_OUT, None),
        ("start", Keyword.OPT_IN, Out.OPT_IN, None),
        ("YES", Keyword.OPT_IN, Out.OPT_IN, None),
        ("unstop", Keyword.OPT_IN, Out.OPT_IN, None),
        ("Help", Keyword.HELP, Out.HELP, Answer.HELP),
        ("info", Keyword.HELP, Out.HELP, Answer.HELP),
    ],
)
def test_keywords_come_first_in_every_state(
    body: str, keyword: Keyword, outcome: ReplyOutcome, answer: Answer | None
) -> None:
    for state in (Conversation(invited=False), OPEN, JUST_SCORED, Conversation(invited=True)):
        assert decide(body, state, NOW) == Decision(outcome, answer, keyword=keyword)


def test_twilios_opt_out_type_names_the_keyword() -> None:
    assert decide("ARRET", OPEN, NOW, "STOP").outcome == Out.OPT_OUT
    assert decide("ALLEZ", OPEN, NOW, "start").outcome == Out.OPT_IN
    # Twilio answered HELP itself (Advanced Opt-Out): no second answer.
    assert decide("AIDE", OPEN, NOW, "HELP") == Decision(Out.HELP, None, keyword=Keyword.HELP)
    # An unknown OptOutType is no keyword.
    assert decide("9", OPEN, NOW, "OTHER").outcome == Out.SCORE


def test_a_score_is_recorded_and_the_follow_up_asked() -> None:
    assert decide("8", OPEN, NOW) == Decision(Out.SCORE, Answer.FOLLOW_UP, score=8)
    assert decide("10 great support", OPEN, NOW) == Decision(
        Out.SCORE, Answer.THANKS, score=10, comment="great support"
    )


def test_in_the_comment_window_a_text_is_the_comment() -> None:
    assert decide("3 things: price, speed, docs", JUST_SCORED, NOW) == Decision(
        Out.COMMENT, Answer.THANKS, comment="3 things: price, speed, docs"
    )
    later = Conversation(
        invited=True, answerable=True, answered=True, score_at=NOW, comment_since_score=True
    )
    assert decide("and support", later, NOW + timedelta(hours=2)) == Decision(
        Out.COMMENT, comment="and support", append=True
    )
    # A bare score corrects the score.
    assert decide(" 9 ", JUST_SCORED, NOW) == Decision(Out.SCORE, Answer.FOLLOW_UP, score=9)
    assert decide("   ", JUST_SCORED, NOW).outcome == Out.IGNORED


def test_the_comment_window_closes() -> None:
    after = NOW + COMMENT_WINDOW
    assert decide("slow support", JUST_SCORED, after) == Decision(
        Out.IGNORED, problem=Problem.UNRECOGNISED
    )
    assert decide("9", JUST_SCORED, after) == Decision(Out.SCORE, Answer.FOLLOW_UP, score=9)


def test_a_comment_in_the_window_is_taken_past_the_deadline_but_a_new_score_is_not() -> None:
    closed = Conversation(invited=True, answerable=False, answered=True, score_at=NOW)
    assert decide("it was fine", closed, NOW).outcome == Out.COMMENT
    assert decide("9", closed, NOW) == Decision(Out.CLOSED, Answer.CLOSED)


def test_an_unreadable_reply_gets_one_hint_per_period() -> None:
    assert decide("7 or 8", OPEN, NOW) == Decision(Out.HINT, Answer.HINT, problem=Problem.AMBIGUOUS)
    hinted = Conversation(invited=True, answerable=True, last_hint_at=NOW)
    assert decide("dunno", hinted, NOW + HINT_INTERVAL - timedelta(seconds=1)).answer is None
    assert decide("dunno", hinted, NOW + HINT_INTERVAL).answer == Answer.HINT


def test_closed_and_unknown() -> None:
    closed = Conversation(invited=True, answerable=False)
    assert decide("9", closed, NOW) == Decision(Out.CLOSED, Answer.CLOSED)
    told = Conversation(invited=True, answerable=False, last_closed_notice_at=NOW)
    assert decide("9", told, NOW + timedelta(hours=1)) == Decision(Out.IGNORED)
    assert decide("9", Conversation(invited=False), NOW) == Decision(Out.UNKNOWN)


def test_sms_day_is_short_and_local() -> None:
    deadline = datetime(2026, 11, 27, 4, 59, 59, tzinfo=UTC)  # Nov 26, 23:59:59 in New York
    assert sms_day(deadline, "America/New_York", None) == "Thu, Nov 26"
    assert sms_day(deadline, None, "en_GB") == "Fri 27 Nov"
    assert sms_day(deadline, "Europe/Paris", "fr") == "ven. 27 nov"
    assert sms_day(deadline, "Nowhere/City", "xx-YY") == "Fri, Nov 27"


def test_reminders_are_marked_short_and_carry_the_deadline() -> None:
    q = "How likely are you to recommend Acme to a friend or colleague?"
    first = compose_reminder(company="Acme", question=q, deadline="Thu, Nov 26")
    assert first.text.startswith("Reminder from Acme: How likely")
    assert first.text.endswith("by Thu, Nov 26. Reply STOP to opt out.")
    assert first.info.segments == 1
    last = compose_reminder(company="Acme", question=q, deadline="Thu, Nov 26", last=True)
    assert last.text.startswith("Last reminder from Acme: ")
    long_q = q + " Please think of the last three months, including onboarding and support."
    short = compose_reminder(company="Acme", question=long_q, deadline="Thu, Nov 26")
    assert short.text == (
        "Reminder from Acme: please reply to our survey with a number from 0 to 10 by "
        "Thu, Nov 26. Reply STOP to opt out."
    )
    assert short.info.segments == 1
    # A company name that would turn the text into UCS-2 is transliterated.
    folded = compose_reminder(company="Łódź Tech", question=q, deadline="Thu, Nov 26")
    assert folded.text.startswith("Reminder from Lodz Tech: ")
    assert count_segments(folded.text).encoding.value == "GSM-7"
    with pytest.raises(SmsTooLong):
        compose_reminder(company="A" * 400, question=q, deadline="Thu, Nov 26")


def test_texts_back() -> None:
    assert follow_up_text("What  would make it\na 10?") == "Thank you! What would make it a 10?"
    assert closed_text("Acme") == (
        "Sorry, this Acme survey has closed, so we could not record your reply. "
        "Thank you all the same!"
    )
