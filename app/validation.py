"""Normalising what people type: email addresses, phone numbers, time zones, locales.

Well-kept libraries do the work (email-validator, phonenumbers, zoneinfo, Babel); these
functions turn their verdicts into one ValueError with a readable message, which pydantic
validators and the API turn into a 4xx naming the field.
"""

from __future__ import annotations

import functools
import zoneinfo

import phonenumbers
from babel import Locale, UnknownLocaleError
from email_validator import EmailNotValidError, validate_email


def normalize_email(value: str) -> str:
    """The address in canonical form, lower-cased (nobody relies on case in the local part)."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from exc
    return result.normalized.lower()


def normalize_phone(value: str, default_region: str | None = None) -> str:
    """E.164 (``+14155550100``). Numbers without a country code need ``default_region``."""
    try:
        number = phonenumbers.parse(value.strip(), default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(
            "not a valid phone number; use the international format, e.g. +14155550100"
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    """True when the number can receive SMS as far as the numbering plan tells (in some
    countries, the US among them, mobile and fixed lines share ranges)."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(number)
    return kind in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


#: Files a system zone directory holds that are not zone names people should use.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if name not in _NOT_ZONES and not name.startswith(("posix/", "right/"))
    )


def normalize_timezone(value: str) -> str:
    """An IANA zone name (``Europe/Paris``); not a file of this machine like ``localtime``."""
    name = value.strip()
    if name not in _zone_names():
        raise ValueError(f"unknown time zone {value!r}; use an IANA name like Europe/Paris")
    return name


def normalize_locale(value: str) -> str:
    try:
        return str(Locale.parse(value.strip().replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown locale {value!r}; use a tag like en, en_GB or fr") from exc
