"""SMS policy: segment counting and composing survey texts.

Plain values in, plain values out: no Flask, database or provider SDK here.

Segments (GSM 03.38 and UCS-2, the way Twilio bills them): a text whose characters are all in
the GSM-7 basic or extension table is sent as GSM-7, where an extension character (``^ { } \\
[ ~ ] | €`` and form feed) takes two septets; one segment holds 160 septets, a multi-part text
153 per segment. Any other character switches the whole text to UCS-2: 70 UTF-16 code units in
one segment, 67 per segment otherwise, a character outside the BMP (emoji) taking two. A
character is never split across segments (an escape pair or a surrogate pair moves whole to the
next segment), so a multi-part count can be one more than ``ceil(units / 153)``.

Reading replies is in :mod:`app.policy.sms_grammar`.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

# --- encodings and segments --------------------------------------------------------------------

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


class Encoding(enum.StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


_LIMITS = {Encoding.GSM7: (160, 153), Encoding.UCS2: (70, 67)}


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    encoding: Encoding
    units: int
    """Septets for GSM-7, UTF-16 code units for UCS-2."""
    segments: int


def is_gsm7(text: str) -> bool:
    """True if every character of ``text`` is in the GSM-7 basic or extension table."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def _widths(text: str, encoding: Encoding) -> list[int]:
    if encoding is Encoding.GSM7:
        return [2 if c in GSM7_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def count_segments(text: str) -> SegmentInfo:
    """Encoding, length in units and number of segments Twilio will send ``text`` as."""
    encoding = Encoding.GSM7 if is_gsm7(text) else Encoding.UCS2
    widths = _widths(text, encoding)
    units = sum(widths)
    single, per_part = _LIMITS[encoding]
    if units <= single:
        return SegmentInfo(encoding, units, 1 if units else 0)
    segments, used = 1, 0
    for w in widths:
        if used + w > per_part:
            segments, used = segments + 1, 0
        used += w
    return SegmentInfo(encoding, units, segments)


# --- composing the first text ------------------------------------------------------------------

_SMART_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
    }
)
_NO_DECOMPOSITION = str.maketrans(
    {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ð": "d", "Þ": "Th", "þ": "th", "\u0131": "i"}
    | {"Œ": "OE", "œ": "oe", "Ŋ": "N", "ŋ": "n", "Ħ": "H", "ħ": "h"}
)
_SPACES = re.compile(r"\s+")


class SmsTooLong(ValueError):
    """The required parts of a text do not fit in the allowed segments, whatever is shortened."""


@dataclass(frozen=True, slots=True)
class ComposedSms:
    text: str
    info: SegmentInfo
    sender_shown: str | None
    """The CSM name as it appears in the text (perhaps shortened or transliterated), or None."""
    company_shown: str


def one_line(value: str) -> str:
    return _SPACES.sub(" ", value.translate(_SMART_PUNCTUATION)).strip()


def gsm_fold(value: str) -> str:
    """Replace each non-GSM character by a GSM look-alike where one exists (ë -> e, Ł -> L).

    Characters already in GSM-7 (é, ü, ñ, Ø ...) are kept; characters with no look-alike
    (Cyrillic, emoji) are kept too: check :func:`is_gsm7` on the result.
    """
    out = []
    for c in value.translate(_SMART_PUNCTUATION):
        if c in GSM7_BASIC or c in GSM7_EXTENSION:
            out.append(c)
            continue
        folded = c.translate(_NO_DECOMPOSITION)
        if folded == c:
            decomposed = unicodedata.normalize("NFKD", c)
            folded = "".join(d for d in decomposed if not unicodedata.combining(d))
        out.append(folded if folded and is_gsm7(folded) else c)
    return "".join(out)


def _gsm_only(value: str) -> str:
    folded = gsm_fold(value)
    return one_line("".join(c for c in folded if c in GSM7_BASIC or c in GSM7_EXTENSION))


@dataclass(frozen=True, slots=True)
class SmsPhrases:
    """The fixed wording of survey texts, with ``str.format`` fields. English by default; the
    application passes the person's language (``app.messages.content``). Whatever the language, the
    keywords stay STOP and the scale stays 0 to 10: they are what Twilio and the reply
    parser understand."""

    greet_sender: str = "Hi, it's {sender} from {company}."
    greet_company: str = "Hi from {company}."
    ask: str = "Reply with a number from 0 to 10 by {deadline}."
    opt_out: str = "Reply STOP to opt out."
    reminder: str = "Reminder from {company}:"
    last_reminder: str = "Last reminder from {company}:"
    reminder_short: str = "please reply to our survey with a number from 0 to 10 by {deadline}."


ENGLISH = SmsPhrases()


def fold_phrases(phrases: SmsPhrases) -> SmsPhrases:
    """The phrases with their letters folded to GSM-7 look-alikes (``número`` → ``numero``)."""
    return SmsPhrases(
        **{name: gsm_fold(getattr(phrases, name)) for name in SmsPhrases.__dataclass_fields__}
    )


def _invitation_text(
    sender: str | None, company: str, question: str, deadline: str, phrases: SmsPhrases
) -> str:
    greeting = (
        phrases.greet_sender.format(sender=sender, company=company)
        if sender
        else phrases.greet_company.format(company=company)
    )
    return f"{greeting} {question} {phrases.ask.format(deadline=deadline)} {phrases.opt_out}"


def _candidates(csm_name: str | None, company: str) -> list[tuple[str | None, str]]:
    """(sender, company) pairs from the most to the least informative."""
    names: list[str | None] = []
    if csm_name:
        first = csm_name.split(" ")[0]
        names = [csm_name, first, gsm_fold(csm_name), gsm_fold(first)]
        names += [_gsm_only(csm_name), _gsm_only(first)]
    companies = [company, gsm_fold(company), _gsm_only(company)]
    pairs: list[tuple[str | None, str]] = []
    for name in names:
        pairs.append((name, company))
        pairs.append((name, _gsm_only(company)))
    pairs += [(None, c) for c in companies]
    words = _gsm_only(company).split(" ")
    pairs += [(None, " ".join(words[:n])) for n in range(len(words) - 1, 0, -1)]
    seen: set[tuple[str | None, str]] = set()
    unique = []
    for name, comp in pairs:
        key = (name or None, comp)
        if comp and key not in seen:
            seen.add(key)
            unique.append(key)
    return unique


def compose_invitation(
    *,
    company: str,
    question: str,
    deadline: str,
    csm_name: str | None = None,
    max_segments: int = 2,
    phrases: SmsPhrases = ENGLISH,
) -> ComposedSms:
    """The first survey text, kept within ``max_segments`` by shortening only the names.

    The text is: a greeting with the CSM's name and company ("Hi, it's Ana from Acme.") or the
    company alone ("Hi from Acme."), the question, "Reply with a number from 0 to 10 by
    <deadline>." and "Reply STOP to opt out.". Typographic punctuation is replaced by its ASCII
    form everywhere. To fit, it tries in turn: the CSM's full name, their first name, both
    transliterated to GSM-7, the company alone, then the company's leading words. Raises
    :class:`SmsTooLong` when even the shortest greeting leaves the required parts too long.
    """
    name = one_line(csm_name) if csm_name else None
    comp = one_line(company)
    q = one_line(question)
    when = one_line(deadline)
    if not comp or not q or not when:
        raise ValueError("company, question and deadline must not be empty")
    # Accented wording (a translation, the question) turns the whole text UCS-2, which fits
    # less than half as much: the last resort is the same text folded to GSM-7 letters.
    for words, question_shown, day in (
        (phrases, q, when),
        (fold_phrases(phrases), gsm_fold(q), gsm_fold(when)),
    ):
        for sender, shown_company in _candidates(name, comp):
            text = _invitation_text(sender, shown_company, question_shown, day, words)
            info = count_segments(text)
            if info.segments <= max_segments:
                return ComposedSms(text, info, sender, shown_company)
    raise SmsTooLong(
        f"the question and deadline do not fit in {max_segments} segment(s): shorten the question"
    )
