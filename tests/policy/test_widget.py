"""The widget's pure decisions: origins, signatures, which survey first, the look, the words."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from app.policy.widget import (
    MAX_ORIGINS,
    Candidate,
    LookError,
    OriginError,
    normalize_look,
    normalize_origin,
    normalize_origins,
    show_order,
    signature_matches,
    signature_of,
    strings_for,
)


@pytest.mark.parametrize(
    ("given", "origin"),
    [
        ("https://app.example.com", "https://app.example.com"),
        ("  HTTPS://App.Example.COM/ ", "https://app.example.com"),
        ("https://app.example.com:443", "https://app.example.com"),
        ("http://localhost:80", "http://localhost"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://app.example.com:8443", "https://app.example.com:8443"),
        ("http://[::1]:3000", "http://[::1]:3000"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
    ],
)
def test_origins_are_normalized_as_browsers_send_them(given: str, origin: str) -> None:
    assert normalize_origin(given) == origin


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "app.example.com",
        "*",
        "https://*.example.com",
        "ftp://app.example.com",
        "javascript:alert(1)",
        "https://app.example.com/path",
        "https://app.example.com/?q=1",
        "https://app.example.com#x",
        "https://user:pw@app.example.com",
        "https://app.example.com:99999",
        "https://app.example.com:abc",
        "https://",
        "https://exa mple.com",
        "https://.example.com",
        "https://a..b",
        "null",
    ],
)
def test_anything_but_an_exact_origin_is_refused(bad: str) -> None:
    with pytest.raises(OriginError):
        normalize_origin(bad)


def test_origin_lists_keep_order_drop_duplicates_and_have_bounds() -> None:
    assert normalize_origins(["https://b.example", "https://a.example", "HTTPS://b.example/"]) == [
        "https://b.example",
        "https://a.example",
    ]
    with pytest.raises(OriginError):
        normalize_origins([])
    with pytest.raises(OriginError):
        normalize_origins([f"https://h{i}.example" for i in range(MAX_ORIGINS + 1)])


def test_signature_is_the_hex_hmac_sha256_of_the_user_id() -> None:
    secret, user = "wsk_secret", "u-42"
    expected = hmac.new(secret.encode(), user.encode(), hashlib.sha256).hexdigest()
    assert signature_of(secret, user) == expected
    assert signature_matches([secret], user, expected)
    assert signature_matches([secret], user, expected.upper())
    assert signature_matches(["other", secret], user, expected)  # during a rotation
    assert not signature_matches(["other"], user, expected)
    assert not signature_matches([secret], "u-43", expected)
    for bad in ("", "zz" * 32, expected[:-1], expected + "0", "é" * 64, None, 42):
        assert not signature_matches([secret], user, bad)  # type: ignore[arg-type]


def test_show_order_open_display_then_never_shown_then_least_recent() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    assert show_order(
        [
            Candidate(1, t + timedelta(days=5)),
            Candidate(2, t),
            Candidate(3, None),
            Candidate(4, None),
            Candidate(5, t + timedelta(days=9), open_display=True),
        ]
    ) == [5, 3, 4, 2, 1]
    assert show_order([]) == []


def test_look_is_validated() -> None:
    assert normalize_look(None, None) == {"theme": {}, "position": "bottom-right"}
    assert normalize_look({"accent": " #0f766e ", "text": "rgb(1, 2, 3)"}, "top-left") == {
        "theme": {"accent": "#0f766e", "text": "rgb(1, 2, 3)"},
        "position": "top-left",
    }
    for theme, position, field in [
        ({"font": "#fff"}, None, "theme.font"),
        ({"accent": "url(http://x/y.png)"}, None, "theme.accent"),
        ({"accent": 3}, None, "theme.accent"),
        ({"accent": "red; background: blue"}, None, "theme.accent"),
        (None, "middle", "position"),
    ]:
        with pytest.raises(LookError) as error:
            normalize_look(theme, position)
        assert error.value.field == field


def test_strings_in_the_persons_language_english_otherwise() -> None:
    english = strings_for(None)
    assert english["submit"] == "Send" and english["score_label"] == "{n} out of 10"
    assert set(english) == {
        "low_label",
        "high_label",
        "comment_label",
        "submit",
        "skip",
        "thanks",
        "close",
        "score_label",
    }
    assert strings_for("fr_CA")["score_label"] == "{n} sur 10"
    assert strings_for("de")["close"] == "Schließen"
    assert strings_for("es")["submit"] == "Enviar"
    assert strings_for("pt_BR") == english
    assert strings_for("not a locale") == english
    for locale in ("fr", "de", "es"):
        assert "{n}" in strings_for(locale)["score_label"]
