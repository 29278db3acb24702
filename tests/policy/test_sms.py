"""SMS policy: segment counting, composing the first text, keywords and reply parsing."""

from __future__ import annotations

import math
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.policy.sms import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    ComposedSms,
    Encoding,
    SegmentInfo,
    SmsTooLong,
    compose_invitation,
    count_segments,
    gsm_fold,
    is_gsm7,
)
from app.policy.sms_grammar import (
    KEYWORDS,
    NUMBER_WORDS,
    InvalidReply,
    Keyword,
    KeywordReply,
    Problem,
    ScoreReply,
    classify_keyword,
    help_text,
    hint_text,
    parse_reply,
)

GSM, UCS = Encoding.GSM7, Encoding.UCS2

# --- segments ----------------------------------------------------------------------------------


def test_gsm_tables_have_the_standard_sizes() -> None:
    # 128 positions in the basic table, one of which is the escape to the extension table.
    assert len(GSM7_BASIC) == 127
    assert frozenset("\f^{}\\[~]|€") == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SegmentInfo(GSM, 0, 0)),
        ("a" * 160, SegmentInfo(GSM, 160, 1)),
        ("a" * 161, SegmentInfo(GSM, 161, 2)),
        ("a" * 306, SegmentInfo(GSM, 306, 2)),
        ("a" * 307, SegmentInfo(GSM, 307, 3)),
        ("€" * 80, SegmentInfo(GSM, 160, 1)),  # extension characters count double
        ("a" * 159 + "€", SegmentInfo(GSM, 161, 2)),
        ("{}" * 40 + "a", SegmentInfo(GSM, 161, 2)),
        # 152 + an escape pair would be 154 > 153: the pair moves whole to segment 2.
        ("a" * 152 + "€" + "a" * 152, SegmentInfo(GSM, 306, 3)),
        ("Ж" * 70, SegmentInfo(UCS, 70, 1)),
        ("Ж" * 71, SegmentInfo(UCS, 71, 2)),
        ("Ж" * 134, SegmentInfo(UCS, 134, 2)),
        ("Ж" * 135, SegmentInfo(UCS, 135, 3)),
        ("😀" * 35, SegmentInfo(UCS, 70, 1)),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, SegmentInfo(UCS, 72, 2)),
        # A surrogate pair is never split: 66 + 2 > 67 moves the emoji to segment 2.
        ("Ж" * 66 + "😀" + "Ж" * 66, SegmentInfo(UCS, 134, 3)),
        ("a" * 159 + "ë", SegmentInfo(UCS, 160, 3)),  # one non-GSM character switches all
    ],
)
def test_count_segments_examples(text: str, expected: SegmentInfo) -> None:
    assert count_segments(text) == expected


@pytest.mark.parametrize(
    ("name", "gsm"),
    [
        ("Zoé", True),
        ("Zoë", False),  # ë is not in GSM-7 (ä ö ü ñ à è é ù ì ò are)
        ("François", False),  # GSM-7 has the capital Ç only
        ("Søren Åkesson", True),
        ("Müller-Lüdenscheidt", True),
        ("Łukasz", False),
        ("Анна", False),
        ("Ana 🚀", False),
        ("O'Brien", True),
        ("O\u2019Brien", False),  # typographic apostrophe
    ],
)
def test_which_names_are_gsm7(name: str, gsm: bool) -> None:
    assert is_gsm7(name) is gsm
    assert count_segments(name).encoding is (GSM if gsm else UCS)


def _reference_segments(text: str) -> int:
    """Split the encoded stream itself: GSM-7 septets with ESC, or UTF-16 code units."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        units: list[object] = []
        for c in text:
            units += ["ESC", c] if c in GSM7_EXTENSION else [c]
        single, part = 160, 153

        def cuts_pair(j: int) -> bool:
            return units[j - 1] == "ESC"
    else:
        data = text.encode("utf-16-be")
        units = [data[i : i + 2] for i in range(0, len(data), 2)]
        single, part = 70, 67

        def cuts_pair(j: int) -> bool:
            return 0xD800 <= int.from_bytes(units[j - 1]) <= 0xDBFF  # type: ignore[arg-type]

    if not units:
        return 0
    if len(units) <= single:
        return 1
    segments, start = 0, 0
    while start < len(units):
        end = min(start + part, len(units))
        if end < len(units) and cuts_pair(end):
            end -= 1
        segments, start = segments + 1, end
    return segments


gsm_text = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=500)
any_text = st.text(max_size=400)
mixed_text = st.lists(st.sampled_from(["a", "€", "Ж", "😀", "{", " ", "é"]), max_size=400).map(
    "".join
)


@given(st.one_of(gsm_text, any_text, mixed_text))
def test_segment_count_matches_the_reference_split(text: str) -> None:
    info = count_segments(text)
    assert info.segments == _reference_segments(text)
    assert info.encoding is (GSM if is_gsm7(text) else UCS)
    if info.segments > 1:
        per_part = 153 if info.encoding is GSM else 67
        # Never fewer than the naive count, at most one more per segment boundary.
        naive = math.ceil(info.units / per_part)
        assert naive <= info.segments <= naive + naive


# --- composing the first text ------------------------------------------------------------------

QUESTION = "How likely are you to recommend Acme to a friend or colleague?"
LONG_QUESTION = (
    "On a scale from 0 to 10, how likely is it that you would recommend Acme Analytics and "
    "its reporting and dashboard suite to a friend or a colleague of yours?"
)


def _compose(csm_name: str | None, question: str = QUESTION, **kwargs: object) -> ComposedSms:
    return compose_invitation(
        company=str(kwargs.pop("company", "Acme Analytics")),
        question=question,
        deadline="Fri 14 Mar",
        csm_name=csm_name,
        **kwargs,  # type: ignore[arg-type]
    )


def test_compose_contains_every_required_part() -> None:
    sms = _compose("Maria Gonzalez")
    assert sms.text == (
        "Hi, it's Maria Gonzalez from Acme Analytics. How likely are you to recommend Acme to "
        "a friend or colleague? Reply with a number from 0 to 10 by Fri 14 Mar. "
        "Reply STOP to opt out."
    )
    assert sms.info == SegmentInfo(GSM, 178, 2)
    assert (sms.sender_shown, sms.company_shown) == ("Maria Gonzalez", "Acme Analytics")


def test_compose_without_a_csm_greets_with_the_company() -> None:
    sms = _compose(None)
    assert sms.text.startswith("Hi from Acme Analytics. How likely")
    assert sms.sender_shown is None


def test_a_long_name_is_shortened_to_the_first_name() -> None:
    name = "Maximilian Alexander von Hohenzollern-Sigmaringen"
    full = "Hi, it's " + name + " from Acme Analytics. " + LONG_QUESTION
    full += " Reply with a number from 0 to 10 by Fri 14 Mar. Reply STOP to opt out."
    assert count_segments(full) == SegmentInfo(GSM, 307, 3)  # the full name would cost 3

    sms = _compose(name, LONG_QUESTION)
    assert sms.sender_shown == "Maximilian"
    assert sms.text.startswith("Hi, it's Maximilian from Acme Analytics. On a scale")
    assert sms.info == SegmentInfo(GSM, 268, 2)


def test_a_name_with_non_gsm_characters_is_transliterated_to_stay_in_two_segments() -> None:
    name = "Łukasz Wiśniewski"
    as_given = f"Hi, it's {name} from Acme Analytics. {QUESTION} "
    as_given += "Reply with a number from 0 to 10 by Fri 14 Mar. Reply STOP to opt out."
    assert count_segments(as_given) == SegmentInfo(UCS, 181, 3)  # UCS-2: 67 per segment

    sms = _compose(name)
    assert sms.sender_shown == "Lukasz Wisniewski"
    assert sms.info == SegmentInfo(GSM, 181, 2)


def test_zoe_with_diaeresis_is_ucs2_and_becomes_zoe() -> None:
    sms = _compose("Zoë Smith")
    assert sms.sender_shown == "Zoe Smith"
    assert sms.info.encoding is GSM and sms.info.segments == 2


def test_a_name_that_cannot_be_transliterated_is_left_out() -> None:
    sms = _compose("Анна Иванова")
    assert sms.sender_shown is None
    assert sms.text.startswith("Hi from Acme Analytics.")
    assert sms.info == SegmentInfo(GSM, 157, 1)


def test_a_non_gsm_name_that_fits_is_kept_as_given() -> None:
    sms = _compose("Анна", "Score us?")
    assert sms.sender_shown == "Анна"
    assert sms.info == SegmentInfo(UCS, 115, 2)


def test_emoji_in_the_company_name_are_dropped_when_needed() -> None:
    sms = _compose("Ana", company="Acme 🚀 Rockets")
    assert sms.company_shown == "Acme Rockets"
    assert sms.info.encoding is GSM


def test_a_long_company_keeps_its_leading_words() -> None:
    company = "The International Consolidated Widgets and Gadgets Manufacturing Company of Europe"
    sms = _compose("Maria Gonzalez", LONG_QUESTION, company=company)
    assert sms.sender_shown is None
    assert company.startswith(sms.company_shown)
    assert sms.info.segments == 2


def test_typographic_punctuation_is_made_plain() -> None:
    sms = _compose(
        "Se\u00e1n O\u2019Brien", "What\u2019s the chance you\u2019d recommend us \u2013 honestly?"
    )
    assert "O'Brien" in sms.text and "What's" in sms.text and "us - honestly" in sms.text
    assert sms.info.encoding is GSM


def test_whitespace_in_the_variable_parts_is_collapsed() -> None:
    sms = _compose("  Maria \n Gonzalez ", company="Acme\tAnalytics")
    assert sms.text.startswith("Hi, it's Maria Gonzalez from Acme Analytics. How")


def test_required_parts_that_cannot_fit_raise() -> None:
    with pytest.raises(SmsTooLong):
        _compose("Ana", "Why? " * 60)
    with pytest.raises(ValueError, match="must not be empty"):
        _compose("Ana", company=" ")


names = st.one_of(st.none(), st.text(max_size=60), st.sampled_from(["Łukasz", "Zoë", "Анна"]))
companies = st.lists(st.text(min_size=1, max_size=15), min_size=1, max_size=6).map(" ".join)


@given(csm_name=names, company=companies)
def test_compose_always_fits_or_says_why(csm_name: str | None, company: str) -> None:
    assume(_gsm_first_word(company))
    sms = _compose(csm_name, company=company)
    assert sms.info == count_segments(sms.text)
    assert sms.info.segments <= 2
    for part in (QUESTION, "Reply with a number from 0 to 10 by Fri 14 Mar.", "Reply STOP"):
        assert part in sms.text


def _gsm_first_word(company: str) -> bool:
    folded = "".join(c for c in gsm_fold(company) if is_gsm7(c))
    return bool(folded.split()) and not any(c in folded for c in "\n\r\f")


# --- keywords ----------------------------------------------------------------------------------

OPT_OUT = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]


def test_the_keyword_lists_are_twilios() -> None:
    by_kind = {k: sorted(w.upper() for w, v in KEYWORDS.items() if v is k) for k in Keyword}
    assert by_kind[Keyword.OPT_OUT] == sorted(OPT_OUT)
    assert by_kind[Keyword.OPT_IN] == ["START", "UNSTOP", "YES"]
    assert by_kind[Keyword.HELP] == ["HELP", "INFO"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOP", Keyword.OPT_OUT),
        ("stop", Keyword.OPT_OUT),
        ("  Stop.\n", Keyword.OPT_OUT),
        ("STOP!", Keyword.OPT_OUT),
        ('"stop"', Keyword.OPT_OUT),
        ("STOP 🛑", Keyword.OPT_OUT),
        ("\uff33\uff34\uff2f\uff30", Keyword.OPT_OUT),  # full-width, as some keyboards send
        ("unsubscribe", Keyword.OPT_OUT),
        ("Revoke", Keyword.OPT_OUT),
        ("optout", Keyword.OPT_OUT),
        ("start", Keyword.OPT_IN),
        ("Yes!", Keyword.OPT_IN),
        ("UNSTOP", Keyword.OPT_IN),
        ("help?", Keyword.HELP),
        ("Info", Keyword.HELP),
        ("stop please", None),  # Twilio acts on single-word messages only
        ("please stop", None),
        ("STOP ALL", None),
        ("opt out", None),
        ("stopp", None),
        ("nonstop", None),
        ("10", None),
        ("", None),
    ],
)
def test_classify_keyword(body: str, expected: Keyword | None) -> None:
    assert classify_keyword(body) is expected


padding = st.text(alphabet=" \t\n\u00a0.!?,\"'", max_size=4)


@given(word=st.sampled_from(sorted(KEYWORDS)), data=st.data(), before=padding, after=padding)
def test_keywords_in_any_case_with_padding(
    word: str, data: st.DataObject, before: str, after: str
) -> None:
    flips = data.draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    cased = "".join(c.upper() if f else c for c, f in zip(word, flips, strict=True))
    body = before + cased + after
    assert classify_keyword(body) is KEYWORDS[word]
    assert parse_reply(body) == KeywordReply(KEYWORDS[word], word.upper())


# --- replies -----------------------------------------------------------------------------------


def score(value: int, comment: str | None = None) -> ScoreReply:
    return ScoreReply(value, comment)


def invalid(problem: Problem) -> InvalidReply:
    return InvalidReply(problem)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("9", score(9)),
        (" 9 ", score(9)),
        ("\t10\n", score(10)),
        ("0", score(0)),
        ("07", score(7)),
        ("9/10", score(9)),
        ("9 / 10", score(9)),
        ("9 out of 10", score(9)),
        ("8 of 10", score(8)),
        ("10/10 would recommend", score(10, "would recommend")),
        ("10 great support", score(10, "great support")),
        ("10 - great support", score(10, "great support")),
        ("10, great support", score(10, "great support")),
        ("10. Great support!", score(10, "Great support!")),
        (
            "6: onboarding was slow\nbut support is good",
            score(6, "onboarding was slow\nbut support is good"),
        ),
        ("10!!!", score(10)),
        ("9 👍", score(9, "👍")),
        ("10 and 5 stars", invalid(Problem.AMBIGUOUS)),
        ("nine", score(9)),
        ("Ten!", score(10)),
        ("ZERO", score(0)),
        ("nine out of ten", score(9)),
        ("eight/10, nice", score(8, "nice")),
        ("score: 8", score(8)),
        ("Score 8", score(8)),
        ("my rating is 9", score(9)),
        ("NPS=10", score(10)),
        ("\uff10\uff19", score(9)),  # full-width digits
        ("٩", score(9)),  # Arabic-Indic digit
        ("9.5", invalid(Problem.NOT_WHOLE)),
        ("9,5", invalid(Problem.NOT_WHOLE)),
        ("9, good", score(9, "good")),
        ("11", invalid(Problem.OUT_OF_RANGE)),
        ("100", invalid(Problem.OUT_OF_RANGE)),
        ("-1", invalid(Problem.OUT_OF_RANGE)),
        ("11 out of 10", invalid(Problem.OUT_OF_RANGE)),
        ("7 or 8", invalid(Problem.AMBIGUOUS)),
        ("7-8", invalid(Problem.AMBIGUOUS)),
        ("7 - 8", invalid(Problem.AMBIGUOUS)),
        ("7 to 8", invalid(Problem.AMBIGUOUS)),
        ("8/9", invalid(Problem.AMBIGUOUS)),
        ("4/5", invalid(Problem.AMBIGUOUS)),
        ("4 out of 5", invalid(Problem.AMBIGUOUS)),
        ("9+", invalid(Problem.AMBIGUOUS)),
        ("8, maybe 9", invalid(Problem.AMBIGUOUS)),
        ("seven or eight", invalid(Problem.AMBIGUOUS)),
        ("I'd say 7 or 8", invalid(Problem.UNRECOGNISED)),
        ("I'd say 7", invalid(Problem.UNRECOGNISED)),
        ("one more thing", invalid(Problem.UNRECOGNISED)),
        ("nine great support", invalid(Problem.UNRECOGNISED)),
        ("8th", invalid(Problem.UNRECOGNISED)),
        ("none", invalid(Problem.UNRECOGNISED)),
        ("great", invalid(Problem.UNRECOGNISED)),
        ("stop please", invalid(Problem.UNRECOGNISED)),
        ("👍", invalid(Problem.UNRECOGNISED)),
        ("", invalid(Problem.EMPTY)),
        ("  \n ", invalid(Problem.EMPTY)),
        ("STOP", KeywordReply(Keyword.OPT_OUT, "STOP")),
        ("yes", KeywordReply(Keyword.OPT_IN, "YES")),
        ("HELP", KeywordReply(Keyword.HELP, "HELP")),
    ],
)
def test_parse_reply(body: str, expected: object) -> None:
    assert parse_reply(body) == expected


def test_the_comment_keeps_the_digits_as_typed() -> None:
    assert parse_reply("9 ٣ stars") == score(9, "٣ stars")


whitespace = st.text(alphabet=" \t\n\r\u00a0\u2003\u3000", max_size=5)


@given(value=st.integers(0, 10), before=whitespace, after=whitespace)
def test_any_score_with_surrounding_whitespace_parses_to_itself(
    value: int, before: str, after: str
) -> None:
    assert parse_reply(f"{before}{value}{after}") == score(value)


@given(value=st.integers(0, 10), a=whitespace, b=whitespace, scale=st.sampled_from(["/", "out of"]))
def test_any_score_out_of_ten_parses_to_itself(value: int, a: str, b: str, scale: str) -> None:
    assume(scale == "/" or (a and b))
    assert parse_reply(f"{value}{a}{scale}{b}10") == score(value)


@given(word=st.sampled_from(sorted(NUMBER_WORDS)), upper=st.booleans(), after=padding)
def test_number_words_alone(word: str, upper: bool, after: str) -> None:
    body = (word.upper() if upper else word) + after
    assert parse_reply(body) == score(NUMBER_WORDS[word])


comment_text = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "Zs", "So"]), max_size=80
).filter(lambda s: unicodedata.normalize("NFKC", s) == s)


@given(
    value=st.integers(0, 10),
    first=st.sampled_from(["great", "Slow", "love", "support", "👍"]),
    rest=comment_text,
)
def test_score_then_comment(value: int, first: str, rest: str) -> None:
    comment = first + rest
    assert parse_reply(f"{value} {comment}") == score(value, comment.strip())


@given(value=st.integers(11, 10**6))
def test_numbers_above_ten_are_refused(value: int) -> None:
    assert parse_reply(str(value)) == invalid(Problem.OUT_OF_RANGE)


@given(a=st.integers(0, 10), b=st.integers(0, 10), joint=st.sampled_from([" or ", "-", " to "]))
def test_two_numbers_are_ambiguous(a: int, b: int, joint: str) -> None:
    assert parse_reply(f"{a}{joint}{b}") == invalid(Problem.AMBIGUOUS)


@given(st.text(max_size=60))
def test_parse_reply_never_raises_and_scores_are_in_range(body: str) -> None:
    result = parse_reply(body)
    if isinstance(result, ScoreReply):
        assert 0 <= result.score <= 10
        assert result.comment is None or result.comment == result.comment.strip()
        assert result.comment != ""


@pytest.mark.parametrize("problem", list(Problem))
def test_hints_are_one_gsm_segment_and_say_how_to_stop(problem: Problem) -> None:
    text = hint_text(problem)
    assert count_segments(text) == SegmentInfo(GSM, len(text), 1)
    assert "number from 0 to 10" in text and "Reply STOP to opt out" in text


def test_help_text_says_who_is_asking_and_how_to_stop() -> None:
    text = help_text(company="Acme Analytics", csm_name="Maria Gonzalez")
    assert text.startswith("Acme Analytics (sent for Maria Gonzalez):")
    assert "Reply STOP to opt out" in text
    assert count_segments(text).segments == 1
