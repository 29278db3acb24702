"""The sentences Sounding itself writes to people, in their own language.

Standard gettext PO catalogs (``app/translations/<locale>/LC_MESSAGES/messages.po``), read
with Babel, so a translator adds a language without touching code. A person's locale is
looked up as given (``fr_CA``), then by its language (``fr``); without a catalog, or without
that sentence in it, the English source text is used. Messages use ``str.format`` fields
(``{date}``), filled in by the caller.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

CATALOGS = Path(__file__).resolve().parent.parent / "translations"
DEFAULT_LOCALE = "en"


def parse_locale(name: str | None) -> Locale:
    """The person's locale, or English when it is missing or unknown."""
    try:
        return Locale.parse((name or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


@lru_cache(maxsize=64)
def _catalog(name: str) -> Catalog | None:
    """The catalog of a locale name made by Babel (never a raw input: no path tricks)."""
    path = CATALOGS / name / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=name)


def translate(message: str, locale: str | None) -> str:
    """``message`` in the language of ``locale`` (English when there is no translation)."""
    parsed = parse_locale(locale)
    for name in dict.fromkeys((str(parsed), parsed.language)):
        catalog = _catalog(name)
        entry = catalog.get(message) if catalog is not None else None
        if entry is not None and entry.string and not entry.fuzzy:
            return str(entry.string)
    return message
