"""Phone numbers in E.164, the one form in which two systems' numbers compare equal.

Source systems write "+49 (0)30 1234567", "030/123 45 67" and "0049 30 1234567" for the same
line, so numbers are parsed with phonenumbers in the record's country and re-formatted.
Parsing is the most expensive step of normalising a record, hence the fast paths below for the
shapes B2B data mostly has; they must give exactly what phonenumbers gives (the unit tests
compare both).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from hub.master.normalise.countries import normalise_country
from hub.master.normalise.errors import NormalisationError
from hub.master.normalise.text import nfkc, text_of

# Extensions phonenumbers does not know about ("x123", "ext. 12" it drops itself).
_PHONE_EXT_RE = re.compile(
    r"\s*[,;/-]?\s*(?:durchwahl|durchw|dw|nebenstelle|poste|内線|内线|分機|分机|转|轉)\.?\s*[:.]?\s*\d{1,6}\s*$",
    re.IGNORECASE,
)
_E164 = PhoneNumberFormat.E164
_CC_TO_REGIONS = phonenumbers.COUNTRY_CODE_TO_REGION_CODE
_PHONE_SEPARATORS = {ord(c): None for c in " -./()\t\u00a0\u2010\u2011\u2012\u2013\u2014\u2015"}

# Fast path for the common shapes ("+49 30 1234567", "030 1234567", "(212) 555-0142"): the
# same steps as phonenumbers.parse (country code, national prefix via the region's metadata,
# length rules, Italian leading zero) without its free-text scanning, which costs ~3x more.
# Anything else, and every error, goes through phonenumbers.parse. The unit tests check both
# paths give equal PhoneNumber objects.
try:
    from phonenumbers import phonenumberutil as _pu
    from phonenumbers.phonemetadata import PhoneMetadata as _PhoneMetadata

    _strip_national_prefix = _pu._maybe_strip_national_prefix_carrier_code
    _test_number_length = _pu._test_number_length
    _set_leading_zeros = _pu._set_italian_leading_zeros_for_phone_number
    _matches_desc = _pu._is_number_matching_desc
    _LENGTH_NOT_POSSIBLE = (
        _pu.ValidationResult.TOO_SHORT,
        _pu.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
        _pu.ValidationResult.INVALID_LENGTH,
    )
    _PHONE_FAST = True
except (ImportError, AttributeError):  # pragma: no cover - other phonenumbers internals
    _PHONE_FAST = False


# Number types a valid number matches one of (phonenumbers' _number_type_helper checks the
# same descriptors, in an order that is slower for the fixed lines and mobiles B2B data has).
_PHONE_TYPES = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


@lru_cache(maxsize=512)
def _phone_region(region: str) -> tuple[Any, int, str, re.Pattern[str] | None, tuple[Any, ...]] | None:
    metadata = _PhoneMetadata.metadata_for_region(region, None)
    if metadata is None:
        return None
    idd = metadata.international_prefix
    descs = tuple(d for d in (getattr(metadata, t) for t in _PHONE_TYPES) if d is not None)
    return (
        metadata,
        int(metadata.country_code or 0),
        str(metadata.country_code),
        re.compile(idd) if idd else None,
        descs,
    )


def _phone_valid(number: phonenumbers.PhoneNumber, region: str | None) -> bool:
    """phonenumbers.is_valid_number, answered quickly when the number is one of ``region``."""
    info = _phone_region(region) if _PHONE_FAST and region else None
    if info is not None and info[1] == number.country_code:
        nsn = phonenumbers.national_significant_number(number)
        if _matches_desc(nsn, info[0].general_desc) and any(_matches_desc(nsn, desc) for desc in info[4]):
            return True
    return phonenumbers.is_valid_number(number)


def _parse_phone_fast(s: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    digits = s.translate(_PHONE_SEPARATORS)
    if digits[:1] == "+":
        digits = digits[1:]
        if not (digits.isdigit() and digits.isascii()):
            return None
        for n in (1, 2, 3):
            cc = int(digits[:n])
            if cc in _CC_TO_REGIONS:
                break
        else:
            return None
        national = digits[n:]
        metadata: Any = _PhoneMetadata.metadata_for_region_or_calling_code(cc, _CC_TO_REGIONS[cc][0])
        if metadata is None:
            return None
    else:
        if region is None or not (digits.isdigit() and digits.isascii()):
            return None
        info = _phone_region(region)
        if info is None:
            return None
        metadata, cc, cc_text, idd, _types = info
        # numbers that start like an international call or with the country code itself are
        # for phonenumbers' own heuristics
        if digits.startswith(cc_text) or (idd is not None and idd.match(digits)):
            return None
        national = digits
    _carrier, stripped, _ = _strip_national_prefix(national, metadata)
    if _test_number_length(stripped, metadata) not in _LENGTH_NOT_POSSIBLE:
        national = stripped
    if not 2 <= len(national) <= 17:
        return None
    number = phonenumbers.PhoneNumber(country_code=cc, national_number=int(national))
    _set_leading_zeros(national, number)
    return number


def normalise_phone(value: str | None, country: str | None = None) -> str | None:
    """E.164 form of a phone number, read in ``country`` unless it starts with + or 00."""
    text = text_of(value)
    if text is None:
        return None
    return phone_of(text, normalise_country(country) if country else None)


def _parse_phone(s: str, country: str | None) -> phonenumbers.PhoneNumber:
    """phonenumbers.PhoneNumber of a cleaned string (may raise NumberParseException)."""
    if _PHONE_FAST:
        number = _parse_phone_fast(s, country)
        if number is not None:
            return number
    return phonenumbers.parse(s, None if s.startswith("+") else country)


#: Between two numbers in one field ("030 1234567 / 030 7654321", "…; …", "… oder …"); a bare
#: "/" is not one: "030/1234567" is one German number.
_PHONE_LIST_RE = re.compile(r"\s+/\s+|[;,|\n]|\s+(?:or|oder|ou|und|and|&)\s+", re.IGNORECASE)


def phone_of(text: str, country: str | None) -> str:
    """:func:`normalise_phone` of present text, ``country`` already an ISO2 code or None. A
    field holding several numbers gives its first valid one (the error names the whole field
    when none is valid)."""
    try:
        return _one_phone(text, country)
    except NormalisationError:
        parts = [part for part in _PHONE_LIST_RE.split(text) if part.strip()]
        for part in parts if len(parts) > 1 else ():
            try:
                return _one_phone(part, country)
            except NormalisationError:
                continue
        raise


def _one_phone(text: str, country: str | None) -> str:
    s = nfkc(text)
    if not s.isascii() or s.lower() != s.upper():  # letters: maybe "Durchwahl 12", "内線 12"
        s = _PHONE_EXT_RE.sub("", s)
    s = s.lstrip()
    if s.startswith("00"):
        s = "+" + s[2:]
    international = s.startswith("+")
    if not international and country is None:
        raise NormalisationError("phone", text, "cannot tell the country")
    try:
        number = _parse_phone(s, country)
    except NumberParseException:
        raise NormalisationError("phone", text, _phone_reason(s, country, international)) from None
    code = int(number.country_code or 0)
    expected = (_CC_TO_REGIONS.get(code) or (None,))[0] if international else country
    if not _phone_valid(number, expected):
        region = phonenumbers.region_code_for_country_code(code)
        if region == "ZZ":
            region = f"+{number.country_code}"
        raise NormalisationError("phone", text, f"not a valid phone number for {region}")
    return phonenumbers.format_number(number, _E164)


def _phone_reason(s: str, country: str | None, international: bool) -> str:
    if international:
        digits = "".join(ch for ch in s if ch.isdigit())
        for n in (1, 2, 3):
            region = phonenumbers.region_code_for_country_code(int(digits[:n] or 0))
            if region != "ZZ":
                return f"not a valid phone number for {region}"
        return "not a valid phone number (unknown country code)"
    return f"not a valid phone number for {country}"
