"""SMS policy: reading a reply, keywords, and the hint and help texts.

Plain values in, plain values out: no Flask, database or provider SDK here.

Reply grammar (:func:`parse_reply`), after Unicode NFKC normalisation and trimming:

1. A keyword alone (see :func:`classify_keyword`) is a keyword, never a score.
2. An optional label: ``score``, ``rating`` or ``nps`` (optionally ``my ... is``, ``:``, ``=``
   or ``-``).
3. A score in digits at the start: ``9``, `` 9 ``, ``09``, ``9/10``, ``9 / 10``, ``9 out of
   10``, ``9 of 10``. Whatever follows after a separator (space or punctuation) is the comment:
   ``10 great support`` and ``10 - great support`` are 10 with the comment "great support".
4. An English number word ``zero`` .. ``ten`` (any case) when it is the whole reply (``Nine!``)
   or is followed by a scale (``nine out of ten``, ``nine/10``), optionally then a comment. A
   word followed directly by other words is not read ("one more thing ..." is no score).
5. Refused with a hint, recording nothing: decimals (``9.5``, ``9,5``) -> ``not_whole``;
   ``11``, ``100``, ``-1`` -> ``out_of_range``; alternatives and ranges right after the score
   (``7 or 8``, ``7-8``, ``7 to 8``, ``8/9``, ``4/5``, ``9+``, ``8, maybe 9``) -> ``ambiguous``;
   a number glued to letters (``8th``) and anything not starting with a score (``I'd say 7``)
   -> ``unrecognised``; nothing but whitespace -> ``empty``.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

from app.policy.sms import one_line

# --- keywords ----------------------------------------------------------------------------------


class Keyword(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(
        ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"),
        Keyword.OPT_OUT,
    ),
    **dict.fromkeys(("start", "yes", "unstop"), Keyword.OPT_IN),
    **dict.fromkeys(("help", "info"), Keyword.HELP),
}


def _trim_edges(text: str) -> str:
    """Strip whitespace, punctuation and symbols (emoji) from both ends."""
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_edge(c: str) -> bool:
    return c.isspace() or unicodedata.category(c)[0] in "PSZC"


def classify_keyword(body: str) -> Keyword | None:
    """The keyword ``body`` consists of, if any: one word, any case, punctuation around it ignored.

    Twilio acts only on single-word messages ("STOP PLEASE" is not an opt-out); we read
    "Stop.", " stop! " and "STOP 🛑" as STOP too, since honouring an opt-out Twilio missed is
    the safe side.
    """
    word = _trim_edges(unicodedata.normalize("NFKC", body)).casefold()
    return KEYWORDS.get(word)


# --- replies -----------------------------------------------------------------------------------


class Problem(enum.StrEnum):
    EMPTY = "empty"
    OUT_OF_RANGE = "out_of_range"
    NOT_WHOLE = "not_whole"
    AMBIGUOUS = "ambiguous"
    UNRECOGNISED = "unrecognised"


@dataclass(frozen=True, slots=True)
class ScoreReply:
    score: int
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class KeywordReply:
    keyword: Keyword
    word: str
    """The keyword as matched, upper case (e.g. ``STOP``)."""


@dataclass(frozen=True, slots=True)
class InvalidReply:
    problem: Problem


Reply = ScoreReply | KeywordReply | InvalidReply

NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    )
}
_WORD = "|".join(NUMBER_WORDS)
_I = re.IGNORECASE
_LABEL = re.compile(r"(?:my\s+)?(?:score|rating|nps)\b\s*(?:is\b|[:=-])?\s*", _I)
_SCALE = re.compile(rf"\s*(?:/|\bout\s+of\b|\bof\b)\s*(?P<den>\d+|{_WORD})\b", _I)
_LEADING_NUMBER = re.compile(r"(?P<sign>[-\u2212\u2013])?\s*(?P<int>\d+)(?P<frac>[.,]\d+)?")
_LEADING_WORD = re.compile(rf"(?P<word>{_WORD})\b", _I)
_ALTERNATIVE = re.compile(
    r"\s*\+|[\s,;:]*(?:\bor\b|\bto\b|\band\b|\bmaybe\b|\bperhaps\b|\bprobably\b|[-\u2013\u2014~/])"
    rf"\s*(?:\d|(?:{_WORD})\b)",
    _I,
)
_COMMENT_LEAD = re.compile(r"[\s.,;:!?\-\u2013\u2014)]+")


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def _score_value(token: str) -> int:
    return int(token) if token.isdigit() else NUMBER_WORDS[token.lower()]


def parse_reply(body: str) -> Reply:
    """Read an SMS reply to the survey question (grammar in the module docstring)."""
    typed = unicodedata.normalize("NFKC", body).strip()
    text = _ascii_digits(typed)  # same length: the comment is cut from ``typed``
    if not text:
        return InvalidReply(Problem.EMPTY)
    keyword = classify_keyword(text)
    if keyword is not None:
        return KeywordReply(keyword, _trim_edges(text).upper())
    label = _LABEL.match(text)
    pos = label.end() if label else 0

    number = _LEADING_NUMBER.match(text, pos)
    word = None if number else _LEADING_WORD.match(text, pos)
    if number:
        if number.group("frac"):
            return InvalidReply(Problem.NOT_WHOLE)
        if number.group("sign"):
            return InvalidReply(Problem.OUT_OF_RANGE)
        value, end = int(number.group("int")), number.end()
    elif word:
        value, end = NUMBER_WORDS[word.group("word").lower()], word.end()
    else:
        return InvalidReply(Problem.UNRECOGNISED)

    scale = _SCALE.match(text, end)
    if scale:
        if _score_value(scale.group("den")) != 10:
            return InvalidReply(Problem.AMBIGUOUS)
        end = scale.end()
    tail = text[end:]
    if _ALTERNATIVE.match(tail):
        return InvalidReply(Problem.AMBIGUOUS)
    if tail[:1].isalnum() or (word and not scale and _trim_edges(tail)):
        return InvalidReply(Problem.UNRECOGNISED)
    if value > 10:
        return InvalidReply(Problem.OUT_OF_RANGE)
    lead = _COMMENT_LEAD.match(tail)
    comment = typed[end + (lead.end() if lead else 0) :].strip()
    if all(c.isspace() or unicodedata.category(c)[0] == "P" for c in comment):
        return ScoreReply(value, None)
    return ScoreReply(value, comment)


_HINTS = {
    Problem.EMPTY: "Sorry, we didn't catch that.",
    Problem.UNRECOGNISED: "Sorry, we didn't catch that.",
    Problem.OUT_OF_RANGE: "Sorry, scores go from 0 to 10.",
    Problem.NOT_WHOLE: "Sorry, we can only take whole numbers.",
    Problem.AMBIGUOUS: "Sorry, please pick just one number.",
}


def hint_text(problem: Problem) -> str:
    """The one polite hint sent back for an unreadable reply (GSM-7, one segment)."""
    return (
        f"{_HINTS[problem]} Please reply with a number from 0 to 10 "
        "(10 = extremely likely). Reply STOP to opt out."
    )


def help_text(*, company: str, csm_name: str | None = None) -> str:
    """The answer to HELP/INFO: who is asking and how to stop (GSM-7 where names allow)."""
    who = f"{company} (sent for {csm_name})" if csm_name else company
    return one_line(
        f"{who}: a short customer survey. Reply with a number from 0 to 10 to answer. "
        "Reply STOP to opt out, START to opt back in."
    )
