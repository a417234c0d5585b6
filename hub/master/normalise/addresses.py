"""Postal addresses (street, city, postcode) in a form that compares across systems.

Addresses are supporting evidence, not keys, so the aim is modest: the same address typed with
the usual abbreviations ("Hauptstr." / "Hauptstraße", "Main St" / "Main Street"), in another
case or with other punctuation must come out equal. Postcodes are checked for the countries
the hub sees most, because a postcode in the wrong field or country is a data error worth
reporting.
"""

from __future__ import annotations

import re

from hub.master.normalise.countries import normalise_country
from hub.master.normalise.errors import NormalisationError
from hub.master.normalise.text import fold_tokens, join_tokens, nfkc, text_of

# --------------------------------------------------------------------------------------------
# Postcodes
# --------------------------------------------------------------------------------------------

# country -> (pattern on the upper-cased value with spaces removed, description). The groups
# joined are the match form. Prefixes like "D-" (old German style) are accepted.
_POSTCODE_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "DE": (re.compile(r"(?:DE?-?)?(\d{5})"), "5 digits"),
    "GB": (
        re.compile(r"([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})|(GIR)(0AA)"),
        "a UK postcode like SW1A 1AA",
    ),
    "US": (re.compile(r"(\d{5})(?:-?\d{4})?"), "5 digits or ZIP+4"),
    "JP": (re.compile(r"〒?(\d{3})-?(\d{4})"), "NNN-NNNN"),
    "CN": (re.compile(r"(\d{6})"), "6 digits"),
    "FR": (re.compile(r"(?:FR?-?)?(\d{5})"), "5 digits"),
    "NL": (re.compile(r"(?:NL-?)?([1-9]\d{3})([A-Z]{2})"), "4 digits and 2 letters"),
    "AT": (re.compile(r"(?:AT?-?)?(\d{4})"), "4 digits"),
    "CH": (re.compile(r"(?:CH-?)?(\d{4})"), "4 digits"),
    "IT": (re.compile(r"(?:IT?-?)?(\d{5})"), "5 digits"),
    "ES": (re.compile(r"(?:ES?-?)?(\d{5})"), "5 digits"),
}
# Digits a postcode has when it arrived as a number (Excel drops the leading zeros).
_POSTCODE_DIGITS = {"DE": 5, "US": 5, "FR": 5, "IT": 5, "ES": 5, "CN": 6, "JP": 7}
_POSTCODE_JUNK_RE = re.compile(r"[\W_]+")


def normalise_postcode(value: str | int | None, country: str | None = None) -> str | None:
    """Match form of a postcode: upper case, no separators; checked for known countries."""
    text = text_of(value)
    if text is None:
        return None
    return postcode_of(value, text, normalise_country(country) if country else None)


def postcode_of(raw: object, text: str, country: str | None) -> str:
    """:func:`normalise_postcode` of present ``text`` (read from ``raw``), ``country`` already
    an ISO2 code or None."""
    if not isinstance(raw, str) and text.isdigit() and country in _POSTCODE_DIGITS:
        text = text.zfill(_POSTCODE_DIGITS[country])
    s = nfkc(text).upper()
    rule = _POSTCODE_RULES.get(country) if country else None
    if rule is not None:
        m = rule[0].fullmatch("".join(s.split()))
        if m is None:
            raise NormalisationError("postcode", text, f"not a {country} postcode (expected {rule[1]})")
        return "".join(g for g in m.groups() if g)
    out = _POSTCODE_JUNK_RE.sub("", s)
    if not out:
        raise NormalisationError("postcode", text, "no letters or digits")
    if len(out) > 12:
        raise NormalisationError("postcode", text, "too long for a postcode")
    return out


# --------------------------------------------------------------------------------------------
# Street and city
# --------------------------------------------------------------------------------------------

_STREET_WORDS = {
    "str": "strasse",
    "strase": "strasse",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "blvd": "boulevard",
    "ln": "lane",
    "hwy": "highway",
    "sq": "square",
    "pkwy": "parkway",
}


def _street_tokens(tokens: list[str]) -> list[str]:
    out: list[str] = []
    last = len(tokens) - 1
    for i, tok in enumerate(tokens):
        if tok == "st":
            # "St." is Saint when it opens the name and a word follows ("St. James St",
            # "5 St Georg Str"), otherwise Street ("Main St", "Main St 5").
            opens = all(t.isdigit() for t in out)
            if not (opens and i < last and tokens[i + 1][:1].isalpha()):
                tok = "street"
        elif tok in _STREET_WORDS:
            tok = _STREET_WORDS[tok]
        elif len(tok) > 3 and tok.endswith("str") and tok.isalpha():
            tok += "asse"  # "hauptstr." -> "hauptstrasse"
        out.append(tok)
    return out


def normalise_street(value: str | None) -> str | None:
    """Match form of a street line (abbreviations unified); None if absent."""
    text = text_of(value)
    if text is None:
        return None
    return street_of(text)


#: A Japanese block address, "6丁目15番9号" (chōme, banchi, gō), is written "6-15-9" as often.
_JP_BLOCK = re.compile(r"(\d+)丁目(\d+)番(?:地)?(?:の)?(?:(\d+)号?)?")


def street_of(text: str) -> str:
    """:func:`normalise_street` of present text; "6丁目15番9号" and "6-15-9" are one form."""
    s = nfkc(text)
    if "丁目" in s:
        s = _JP_BLOCK.sub(lambda m: "-".join(g for g in m.groups() if g), s)
    tokens = fold_tokens(s.casefold())
    if not tokens:
        raise NormalisationError("street", text, "no letters or digits")
    return join_tokens(_street_tokens(tokens), s.isascii())


def normalise_city(value: str | None) -> str | None:
    """Match form of a city: casefolded, accents folded, punctuation removed."""
    text = text_of(value)
    if text is None:
        return None
    return city_of(text)


def city_of(text: str) -> str:
    """:func:`normalise_city` of present text."""
    s = nfkc(text)
    tokens = fold_tokens(s.casefold())
    if not tokens:
        raise NormalisationError("city", text, "no letters or digits")
    return join_tokens(tokens, s.isascii())
