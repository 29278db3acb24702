"""The SMS conversation: what a reply means where the conversation stands, and what to text.

Plain values in, plain values out (:mod:`app.policy.sms` reads the words; the service in
:mod:`app.services.sms_replies` reads and writes the database).

A conversation is one number and the SMS invitation last texted to it:

1. **Keywords first**, whatever the state: STOP and the other opt-out words suppress the
   number; START, YES and UNSTOP lift an opt-out; HELP and INFO answer who is asking and how to
   stop. Twilio's own ``OptOutType`` (Advanced Opt-Out) counts as the keyword it names.
   Nothing is texted back for STOP and START (Twilio confirms them itself, and texts to an
   opted-out number are refused), nor for a HELP that Twilio already answered (``OptOutType``).
2. **The comment window**: for :data:`COMMENT_WINDOW` after a score came in by text, a reply
   is the comment (the first one is thanked, later ones are added to it silently), except a
   bare score (``9``), which corrects the score and asks the follow-up again.
3. **A score** (see :func:`app.policy.sms_grammar.parse_reply`) is recorded while the invitation
   takes answers, with its comment when one came along (``10 great support``, thanked), or
   answered with the follow-up question for its category. Answering again updates the answer.
4. **Anything else** gets one polite hint per invitation per :data:`HINT_INTERVAL`, and
   nothing is recorded; a person who has already answered gets no hint.
5. **Closed**: a reply to an invitation past its deadline (or ended) records nothing and is
   told so, at most once per number per :data:`CLOSED_NOTICE_INTERVAL`; a number Sounding
   never texted gets no answer at all (answering strangers costs money and invites abuse).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton

from app.policy.deadlines import zone
from app.policy.sms import (
    ENGLISH,
    ComposedSms,
    SmsPhrases,
    SmsTooLong,
    count_segments,
    fold_phrases,
    gsm_fold,
    is_gsm7,
)
from app.policy.sms_grammar import (
    InvalidReply,
    Keyword,
    Problem,
    ScoreReply,
    classify_keyword,
    parse_reply,
)

COMMENT_WINDOW = timedelta(hours=24)
"""How long after a score by text the next texts are its comment."""
HINT_INTERVAL = timedelta(hours=24)
"""At most one hint per invitation in this period: a confused person is not flooded."""
CLOSED_NOTICE_INTERVAL = timedelta(hours=24)
"""At most one "this survey has closed" per number in this period."""

_OPT_OUT_TYPES = {"STOP": Keyword.OPT_OUT, "START": Keyword.OPT_IN, "HELP": Keyword.HELP}


class ReplyOutcome(enum.StrEnum):
    """What Sounding made of one incoming text (kept with the text)."""

    SCORE = "score"
    """A score recorded (with its comment when it came along)."""
    COMMENT = "comment"
    """The follow-up comment, or more of it."""
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    HINT = "hint"
    """Unreadable: the one polite hint was sent; nothing recorded."""
    IGNORED = "ignored"
    """Nothing to record and nothing to say (a hint was sent already, an empty text...)."""
    CLOSED = "closed"
    """The invitation no longer takes answers; nothing recorded."""
    UNKNOWN = "unknown"
    """No SMS invitation ever went to this number."""


class Answer(enum.StrEnum):
    """What to text back; the service words it with names from the database."""

    FOLLOW_UP = "follow_up"
    THANKS = "thanks"
    HINT = "hint"
    HELP = "help"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where the conversation with one number stands, as read from the database."""

    invited: bool
    """An SMS invitation went (or may have gone) to this number."""
    answerable: bool = False
    """That invitation still takes answers (open or answered, before its deadline)."""
    answered: bool = False
    score_at: datetime | None = None
    """When the last score by text was recorded for that invitation."""
    comment_since_score: bool = False
    """A comment text came after that score."""
    last_hint_at: datetime | None = None
    last_closed_notice_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: ReplyOutcome
    answer: Answer | None = None
    score: int | None = None
    comment: str | None = None
    append: bool = False
    """Add ``comment`` to the comment already recorded instead of replacing it."""
    keyword: Keyword | None = None
    problem: Problem | None = None


def _recent(at: datetime | None, now: datetime, period: timedelta) -> bool:
    return at is not None and now - at < period


def _clean_comment(body: str) -> str:
    return body.strip()


def decide(
    body: str, conversation: Conversation, now: datetime, opt_out_type: str | None = None
) -> Decision:
    """What to do with the text ``body`` (rules in the module docstring)."""
    keyword = _OPT_OUT_TYPES.get((opt_out_type or "").upper()) or classify_keyword(body)
    if keyword is not None:
        outcome = {
            Keyword.OPT_OUT: ReplyOutcome.OPT_OUT,
            Keyword.OPT_IN: ReplyOutcome.OPT_IN,
            Keyword.HELP: ReplyOutcome.HELP,
        }[keyword]
        answer = Answer.HELP if keyword == Keyword.HELP and not opt_out_type else None
        return Decision(outcome, answer, keyword=keyword)
    c = conversation
    if not c.invited:
        return Decision(ReplyOutcome.UNKNOWN)
    reply = parse_reply(body)
    bare_score = isinstance(reply, ScoreReply) and reply.comment is None
    if _recent(c.score_at, now, COMMENT_WINDOW) and not (bare_score and not c.answerable):
        if bare_score:
            assert isinstance(reply, ScoreReply)
            return Decision(ReplyOutcome.SCORE, Answer.FOLLOW_UP, score=reply.score)
        comment = _clean_comment(body)
        if not comment:
            return Decision(ReplyOutcome.IGNORED)
        if c.comment_since_score:
            return Decision(ReplyOutcome.COMMENT, comment=comment, append=True)
        return Decision(ReplyOutcome.COMMENT, Answer.THANKS, comment=comment)
    if not c.answerable:
        if _recent(c.last_closed_notice_at, now, CLOSED_NOTICE_INTERVAL):
            return Decision(ReplyOutcome.IGNORED)
        return Decision(ReplyOutcome.CLOSED, Answer.CLOSED)
    if isinstance(reply, ScoreReply):
        answer = Answer.THANKS if reply.comment else Answer.FOLLOW_UP
        return Decision(ReplyOutcome.SCORE, answer, score=reply.score, comment=reply.comment)
    assert isinstance(reply, InvalidReply)
    if c.answered or _recent(c.last_hint_at, now, HINT_INTERVAL):
        return Decision(ReplyOutcome.IGNORED, problem=reply.problem)
    return Decision(ReplyOutcome.HINT, Answer.HINT, problem=reply.problem)


# --- what is texted ----------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def _line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def sms_day(moment: datetime, timezone: str | None, locale: str | None) -> str:
    """A short local day for a text: ``Thu, Nov 26`` (en), ``jeu. 26 nov`` (fr; no final
    period, since the text puts one after it)."""
    try:
        chosen = Locale.parse((locale or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        chosen = Locale.parse("en")
    day = format_skeleton("MMMEd", moment.astimezone(zone(timezone)).date(), locale=chosen)
    return day.rstrip(".")


def compose_reminder(
    *,
    company: str,
    question: str,
    deadline: str,
    last: bool = False,
    max_segments: int = 2,
    phrases: SmsPhrases = ENGLISH,
) -> ComposedSms:
    """A reminder: marked as one, with the deadline and the opt-out wording, one segment when
    it can be. It repeats the question when that still fits in one segment, else points back
    to it; the company is transliterated to GSM-7 before a text would turn UCS-2."""
    companies = [_line(company)]
    if not is_gsm7(companies[0]):
        companies.append(_line(gsm_fold(company)))
    q, when = _line(question), _line(deadline)
    texts = []
    folded = fold_phrases(phrases)
    for words, question, day in ((phrases, q, when), (folded, gsm_fold(q), gsm_fold(when))):
        label = words.last_reminder if last else words.reminder
        for comp in companies:
            lead = label.format(company=comp)
            texts.append(f"{lead} {question} {words.ask.format(deadline=day)} {words.opt_out}")
            texts.append(f"{lead} {words.reminder_short.format(deadline=day)} {words.opt_out}")
    counted = [(count_segments(t), t) for t in texts]
    for limit in (1, max_segments):
        for info, text in counted:
            if info.segments <= limit:
                return ComposedSms(text, info, None, company)
    raise SmsTooLong(f"a reminder does not fit in {max_segments} segment(s)")


def follow_up_text(follow_up: str) -> str:
    return _line(f"Thank you! {follow_up}")


def thanks_text() -> str:
    return "Thank you for your feedback!"


def closed_text(company: str) -> str:
    return _line(
        f"Sorry, this {company} survey has closed, so we could not record your reply. "
        "Thank you all the same!"
    )
