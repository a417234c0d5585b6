"""Tax ids (VAT, UID, EIN, USCC ...) in one canonical form per company.

A tax id is the strongest evidence two records are the same legal entity, so it must compare
equal however it was typed ("DE 136,695 976", "136695976" on a German record, "USt-IdNr.:
DE136695976") and must be checked: a wrong check digit is a typo that would otherwise link or
split companies. Validation is python-stdnum's, per country scheme.

Decisions
---------
* Canonical form is ISO country code + compact number: Greece is ``GR…`` even when written
  ``EL…``, Northern Ireland ``XI…`` becomes ``GB…``, the Swiss UID is ``CHE…``.
* Countries without a known scheme keep their number compact and unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from stdnum.at import uid as _at_uid
from stdnum.ch import uid as _ch_uid
from stdnum.cn import uscc as _cn_uscc
from stdnum.de import stnr as _de_stnr
from stdnum.de import vat as _de_vat
from stdnum.eu import vat as _eu_vat
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.fr import tva as _fr_tva
from stdnum.gb import vat as _gb_vat
from stdnum.jp import cn as _jp_cn
from stdnum.kr import brn as _kr_brn
from stdnum.nl import btw as _nl_btw
from stdnum.us import ein as _us_ein

from hub.master.normalise.countries import ISO2, normalise_country
from hub.master.normalise.errors import NormalisationError
from hub.master.normalise.text import nfkc, text_of

_EU_VAT_PREFIX = {  # ISO code -> prefix used in EU VAT numbers
    "AT": "AT", "BE": "BE", "BG": "BG", "CY": "CY", "CZ": "CZ", "DE": "DE", "DK": "DK",
    "EE": "EE", "ES": "ES", "FI": "FI", "FR": "FR", "GR": "EL", "HR": "HR", "HU": "HU",
    "IE": "IE", "IT": "IT", "LT": "LT", "LU": "LU", "LV": "LV", "MT": "MT", "NL": "NL",
    "PL": "PL", "PT": "PT", "RO": "RO", "SE": "SE", "SI": "SI", "SK": "SK",
}
# Letters a tax id may start with -> ISO country (VAT aliases EL/XI included)
_TAX_PREFIX_ALIASES = {"EL": "GR", "XI": "GB"}
# a label before the number ("USt-IdNr.: ", "VAT No: ", "UID: "), not a bare "DE: "
_TAX_LABEL_RE = re.compile(r"^[A-Za-z][A-Za-z .\-/]{2,24}:\s*")
_NON_ALNUM_RE = re.compile(r"[^0-9A-Za-z]+")


def _eu(cc: str) -> Callable[[str], str]:
    prefix = _EU_VAT_PREFIX[cc]

    def check(number: str) -> str:
        return _eu_vat.validate(prefix + number)[2:]

    return check


def _de(number: str) -> str:
    try:
        return _de_vat.validate(number)
    except ValidationError:
        if _de_stnr.is_valid(number):
            raise _SteuernummerNotVat() from None
        raise


class _SteuernummerNotVat(ValidationError):
    pass


def _ch(number: str) -> str:
    # compact "CHE123456789" arrives as "E123456789" once the "CH" prefix is cut
    for suffix in ("MWST", "TVA", "IVA"):
        if number.endswith(suffix):
            number = number[: -len(suffix)]
            break
    if number.startswith("E"):
        number = "CH" + number
    return _ch_uid.validate(number)[2:]  # canonical "CH" + "E123456789" == "CHE123456789"


_EIN_RE = re.compile(r"[0-9]{9}")


@lru_cache(maxsize=128)
def _ein_prefix_ok(prefix: str) -> bool:
    return _us_ein.is_valid(prefix + "0000000")


def _us(number: str) -> str:
    # stdnum's us.ein.validate is a format check plus a look-up of the two-digit prefix (the IRS
    # campus, stdnum/us/ein.dat) - there is no check digit. The prefix answer is cached because
    # the look-up costs ~10 us.
    if not _EIN_RE.fullmatch(number):
        return _us_ein.validate(number)  # raises the precise stdnum error
    if not _ein_prefix_ok(number[:2]):
        raise InvalidComponent()
    return number


def _jp(number: str) -> str:
    if len(number) == 14 and number[0] == "T":  # invoice registration number: "T" + 法人番号
        number = number[1:]
    return _jp_cn.validate(number)


# country -> (scheme label for messages, validator taking the number without country prefix)
_TAX_SCHEMES: dict[str, tuple[str, Callable[[str], str]]] = {
    **{cc: (f"{cc} VAT number", _eu(cc)) for cc in _EU_VAT_PREFIX},
    "DE": ("DE VAT number", _de),
    "FR": ("FR VAT number", _fr_tva.validate),
    "NL": ("NL VAT number", _nl_btw.validate),
    "AT": ("AT VAT number", _at_uid.validate),
    "GB": ("GB VAT number", _gb_vat.validate),
    "CH": ("CH UID", _ch),
    "US": ("US EIN", _us),
    "CN": ("CN unified social credit code", _cn_uscc.validate),
    "JP": ("JP corporate number", _jp),
    "KR": ("KR business registration number", _kr_brn.validate),
}


def _tax_reason(exc: ValidationError, label: str) -> str:
    if isinstance(exc, _SteuernummerNotVat):
        return "a German Steuernummer, not a DE VAT number (USt-IdNr.)"
    if isinstance(exc, InvalidChecksum):
        return f"check digit does not match for {label}"
    if isinstance(exc, InvalidLength):
        return f"wrong length for {label}"
    if isinstance(exc, InvalidFormat):
        return f"wrong format for {label}"
    if isinstance(exc, InvalidComponent):
        return f"invalid part (e.g. an unknown prefix) for {label}"
    return f"not a valid {label}"


def _tax_in(cc: str, number: str) -> str:
    """Canonical id of ``number`` (prefix removed) under country ``cc``; raises ValidationError."""
    scheme = _TAX_SCHEMES.get(cc)
    if scheme is None:
        if not number or len(number) > 30:
            raise InvalidLength()
        return cc + number
    return cc + scheme[1](number)


def normalise_tax_id(value: str | None, country: str | None = None) -> str | None:
    """ISO country code + compact number, checked with python-stdnum where a scheme is known."""
    text = text_of(value)
    if text is None:
        return None
    return tax_id_of(text, normalise_country(country) if country else None)


def tax_id_of(text: str, country: str | None) -> str:
    """:func:`normalise_tax_id` of present text, ``country`` already an ISO2 code or None."""
    compact = _NON_ALNUM_RE.sub("", _TAX_LABEL_RE.sub("", nfkc(text))).upper()
    if not compact:
        raise NormalisationError("tax_id", text, "no letters or digits")
    head = compact[:2]
    prefix_cc: str | None = None
    if head.isalpha():
        prefix_cc = _TAX_PREFIX_ALIASES.get(head, head if head in ISO2 else None)

    if country is not None:
        if prefix_cc == country:
            return _tax_checked(text, country, compact[2:])
        if prefix_cc is None or prefix_cc not in _TAX_SCHEMES:
            # no prefix, or letters that are no tax scheme of their own ("GD001" in GB)
            return _tax_checked(text, country, compact)
        # the prefix of another country's scheme (an Austrian VAT id on a German record); a
        # number of the record's own scheme that merely starts with such letters wins
        if country in _TAX_SCHEMES:
            try:
                return _tax_in(country, compact)
            except ValidationError:
                pass
        return _tax_checked(text, prefix_cc, compact[2:])
    if prefix_cc is not None:
        return _tax_checked(text, prefix_cc, compact[2:])
    raise NormalisationError("tax_id", text, "cannot tell the country of tax id")


def _tax_checked(text: str, cc: str, number: str) -> str:
    try:
        return _tax_in(cc, number)
    except ValidationError as exc:
        label = _TAX_SCHEMES[cc][0] if cc in _TAX_SCHEMES else f"{cc} tax id"
        raise NormalisationError("tax_id", text, _tax_reason(exc, label)) from None

