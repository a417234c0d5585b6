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
* Scheme words and labels real exports put before the number ("ABN 51 824 753 556",
  "USt-IdNr.: DE…", "VAT No DE…", "UID CHE-…", "T1234…" for a Japanese invoice number) are
  not part of it.
* Placeholders ("N/A", "TBD", "-", all zeros, all nines, "123456789") are an absent tax id, not
  a malformed one (:func:`is_placeholder`).
* One id per *legal entity*: a Canadian BN15 ("812345676RT0001") is its BN9 (the RT0001 is an
  account of the entity), a Japanese "T" + corporate number is the corporate number, a French
  SIREN or SIRET (an establishment of the SIREN's company) is the company's VAT number.
* Some countries have a second kind of identifier beside their main one: written
  ``CC-KIND-number`` (the dashes cannot come from input, which is compacted): an Australian
  ACN ``AU-ACN-…`` beside the ABN, a Chinese pre-2015 15-digit registration number
  ``CN-REG-…`` beside the 18-character USCC, a UK company registration number (Companies
  House) ``GB-CRN-…`` beside the VAT number, a Dutch Chamber of Commerce number ``NL-KVK-…``
  beside the btw number. Different kinds are never compared as one (:func:`tax_relation`).
  A registry number has no check digit: it is one when its register is named ("Company No.",
  "CRN", "KvK-nummer") or when it has the register's shape and is no VAT number of the country.
* A number that fails its check is kept as weak evidence, ``?`` + its compact form
  (``NormalisationError.weak``): it neither links nor vetoes, but agrees weakly with the same
  digits elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from stdnum.at import uid as _at_uid
from stdnum.au import abn as _au_abn
from stdnum.au import acn as _au_acn
from stdnum.ca import bn as _ca_bn
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
from stdnum.fr import siren as _fr_siren
from stdnum.fr import siret as _fr_siret
from stdnum.fr import tva as _fr_tva
from stdnum.gb import vat as _gb_vat
from stdnum.iso7064 import mod_11_10 as _mod_11_10
from stdnum.jp import cn as _jp_cn
from stdnum.kr import brn as _kr_brn
from stdnum.nl import btw as _nl_btw
from stdnum.us import ein as _us_ein

from hub.master.normalise.countries import ISO2, normalise_country
from hub.master.normalise.errors import WEAK, NormalisationError, is_weak
from hub.master.normalise.text import nfkc, text_of

_EU_VAT_PREFIX = {  # ISO code -> prefix used in EU VAT numbers
    "AT": "AT",
    "BE": "BE",
    "BG": "BG",
    "CY": "CY",
    "CZ": "CZ",
    "DE": "DE",
    "DK": "DK",
    "EE": "EE",
    "ES": "ES",
    "FI": "FI",
    "FR": "FR",
    "GR": "EL",
    "HR": "HR",
    "HU": "HU",
    "IE": "IE",
    "IT": "IT",
    "LT": "LT",
    "LU": "LU",
    "LV": "LV",
    "MT": "MT",
    "NL": "NL",
    "PL": "PL",
    "PT": "PT",
    "RO": "RO",
    "SE": "SE",
    "SI": "SI",
    "SK": "SK",
}
# Letters a tax id may start with -> ISO country (VAT aliases EL/XI included)
_TAX_PREFIX_ALIASES = {"EL": "GR", "XI": "GB"}
# a label before the number ("USt-IdNr.: ", "VAT No: ", "UID: "), not a bare "DE: "
_TAX_LABEL_RE = re.compile(r"^[A-Za-z][A-Za-z .\-/]{2,24}:\s*")
_NON_ALNUM_RE = re.compile(r"[^0-9A-Za-z]+")
# scheme words written before the number without a colon ("ABN 51 824 753 556", "VAT No
# DE136695976", "UID CHE-123.456.788"); a word must end where the number's letters don't go on
_SCHEME_WORD_RE = re.compile(
    r"^\s*(?:(?:ust|mwst)[\s.\-]*id[\s.\-]*(?:nr|no)?|vat(?:[\s.\-]*reg(?:istration)?)?"
    r"(?:[\s.\-]*(?:no|nr|number|id))?|uid(?:[\s.\-]*(?:nr|no))?|mwst|tva|btw|iva|nif|cif|abn|acn"
    r"|p[\s.]*iva|partita[\s.]*iva|siren|siret|gstin|gst(?:\s*/\s*hst)?|hst|bn|ein|tin"
    r"|uen|法人番号|登録番号|统一社会信用代码|統一社會信用代碼|注册号|註冊號)"
    r"(?![A-Za-z])(?:[\s.\-]*(?:no|nr|number)(?![A-Za-z]))?[\s.:#\-]*",
    re.IGNORECASE,
)
#: Japanese invoice registration number: "T" + the 13-digit corporate number.
_JP_INVOICE_RE = re.compile(r"T[0-9]{13}")
#: Values that say "no tax id" (compared after removing all but letters and digits, lowercased)
_PLACEHOLDERS = frozenset(
    {
        "",
        "na",
        "nv",
        "none",
        "nil",
        "null",
        "tbd",
        "tba",
        "tbc",
        "unknown",
        "unbekannt",
        "keine",
        "ka",  # "k.A.", keine Angabe
        "x",
        "xx",
        "xxx",
        "n",
        "no",
        "0",
        "notapplicable",
        "notavailable",
        "pending",
        "missing",
        "123456789",
        "1234567890",
        "12345678",
        "0123456789",
        "999999999",
        "987654321",
    }
)


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


#: A UK company registration number: 8 digits, or 2 letters (SC, NI, OC, …) and 6 digits.
_GB_CRN_RE = re.compile(r"[0-9]{8}|[A-Z]{2}[0-9]{6}")
#: The register named before a number: (country, kind) it belongs to.
_REGISTRY_WORD_RE = re.compile(
    r"^\s*(?:(?P<gb>companies\s*house(?:\s*(?:no|nr|number))?|crn|company\s*(?:reg(?:istration)?\.?\s*)?"
    r"(?:no|nr|number))|(?P<nl>kvk(?:[\s\-]*(?:nr|nummer|no|number))?|kamer\s*van\s*koophandel"
    r"|chamber\s*of\s*commerce(?:\s*(?:no|nr|number))?))(?![A-Za-z])[\s.:#\-]*",
    re.IGNORECASE,
)


def _gb_crn(number: str) -> str:
    """A UK company registration number; a numeric one that lost its leading zeros (a
    spreadsheet's doing) gets them back."""
    if number.isdigit() and 5 <= len(number) < 8:
        number = number.zfill(8)
    if not _GB_CRN_RE.fullmatch(number):
        raise InvalidFormat()
    return "-CRN-" + number


def _nl_kvk(number: str) -> str:
    """A Dutch Chamber of Commerce (KvK) number: 8 digits, leading zeros restored."""
    if not number.isdigit() or not 7 <= len(number) <= 8:
        raise InvalidFormat()
    return "-KVK-" + number.zfill(8)


def _gb(number: str) -> str:
    """The GB VAT number, or a company registration number written in its place."""
    try:
        return str(_gb_vat.validate(number))
    except ValidationError:
        if _GB_CRN_RE.fullmatch(number) and not number.startswith(("GD", "HA")):
            return _gb_crn(number)
        raise


def _nl(number: str) -> str:
    """The btw number, or a KvK number (8 digits) written in its place."""
    try:
        return str(_nl_btw.validate(number))
    except ValidationError:
        if number.isdigit() and len(number) == 8:
            return _nl_kvk(number)
        raise


def _jp(number: str) -> str:
    if len(number) == 14 and number[0] == "T":  # invoice registration number: "T" + 法人番号
        number = number[1:]
    return _jp_cn.validate(number)


def _au(number: str) -> str:
    """ABN (11 digits, the main id) or ACN (9 digits, a company's number: its own kind)."""
    if len(number) == 9:
        return "-ACN-" + _au_acn.validate(number)
    return _au_abn.validate(number)


def _ca(number: str) -> str:
    """The BN9 of a business number: "812345676RT0001" is an account of entity 812345676."""
    return _ca_bn.validate(number)[:9]


def _fr(number: str) -> str:
    """The VAT number of a French company. Its SIREN (9 digits: the legal entity) or SIRET (the
    SIREN + a 5-digit establishment number), written instead, is the same id: the VAT number's
    two-digit key is computed from the SIREN."""
    if number.isdigit() and len(number) in (9, 14):
        siren = _fr_siret.to_siren(_fr_siret.validate(number)) if len(number) == 14 else _fr_siren.validate(number)
        return str(_fr_siren.to_tva(siren))
    return str(_fr_tva.validate(number))


def _cn(number: str) -> str:
    """The 18-character USCC, or a pre-2015 15-digit registration number (its own kind,
    checked with ISO 7064 MOD 11,10 as GB/T 17710 prescribes)."""
    if len(number) == 15 and number.isdigit():
        return "-REG-" + _mod_11_10.validate(number)
    return _cn_uscc.validate(number)


# country -> (scheme label for messages, validator taking the number without country prefix)
_TAX_SCHEMES: dict[str, tuple[str, Callable[[str], str]]] = {
    **{cc: (f"{cc} VAT number", _eu(cc)) for cc in _EU_VAT_PREFIX},
    "DE": ("DE VAT number", _de),
    "FR": ("FR VAT number", _fr),
    "NL": ("NL VAT number", _nl),
    "AT": ("AT VAT number", _at_uid.validate),
    "GB": ("GB VAT number", _gb),
    "CH": ("CH UID", _ch),
    "US": ("US EIN", _us),
    "AU": ("AU ABN/ACN", _au),
    "CA": ("CA business number", _ca),
    "CN": ("CN unified social credit code", _cn),
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


def is_placeholder(text: str) -> bool:
    """A value that stands for "no tax id": "N/A", "n.a.", "TBD", "-", all zeros, all nines,
    "123456789"... Such a value is absent, not a malformed id (and never evidence)."""
    compact = _NON_ALNUM_RE.sub("", nfkc(text)).lower()
    if compact in _PLACEHOLDERS:
        return True
    return compact.isdigit() and len(set(compact)) == 1 and compact[0] in "09"


def tax_id_of(text: str, country: str | None) -> str | None:
    """:func:`normalise_tax_id` of present text, ``country`` already an ISO2 code or None;
    None for a placeholder."""
    if is_placeholder(text):
        return None
    folded = nfkc(text)
    registry = _REGISTRY_WORD_RE.match(folded)
    if registry is not None:
        cc = "GB" if registry.group("gb") else "NL"
        if country in (None, cc):
            return _registry_number(text, cc, folded[registry.end() :])
    compact = _NON_ALNUM_RE.sub("", _SCHEME_WORD_RE.sub("", _TAX_LABEL_RE.sub("", folded))).upper()
    if not compact or is_placeholder(compact):
        return None
    if country is None and _JP_INVOICE_RE.fullmatch(compact):
        country = "JP"
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
    raise NormalisationError("tax_id", text, "cannot tell the country of tax id", weak=_weak(compact))


#: country → (register for messages, validator of its number)
_REGISTRIES: dict[str, tuple[str, Callable[[str], str]]] = {
    "GB": ("GB company registration number (8 characters)", _gb_crn),
    "NL": ("NL KvK number (8 digits)", _nl_kvk),
}


def _registry_number(text: str, cc: str, rest: str) -> str | None:
    """A number after the name of its register ("Company No. SC123456", "KvK 12345678");
    None for a placeholder ("CRN: n/a")."""
    if is_placeholder(rest):
        return None
    number = _NON_ALNUM_RE.sub("", rest).upper()
    if number.startswith(cc) and not number[2:3].isalpha():
        number = number[2:]  # "KvK NL12345678": the country written once more
    label, check = _REGISTRIES[cc]
    try:
        return cc + check(number)
    except ValidationError:
        raise NormalisationError("tax_id", text, f"not a valid {label}", weak=_weak(cc + number)) from None


def _tax_checked(text: str, cc: str, number: str) -> str:
    try:
        return _tax_in(cc, number)
    except ValidationError as exc:
        label = _TAX_SCHEMES[cc][0] if cc in _TAX_SCHEMES else f"{cc} tax id"
        raise NormalisationError("tax_id", text, _tax_reason(exc, label), weak=_weak(cc + number)) from None


def _weak(compact: str) -> str | None:
    """The weak form of an id that failed its check: kept when it has digits enough to be
    evidence (six or more) and fits the column."""
    digits = sum(ch.isdigit() for ch in compact)
    return WEAK + compact if digits >= 6 and len(compact) < 39 else None


def _kind(tax_id: str) -> str:
    """``ACN`` of "AU-ACN-…", ``REG`` of "CN-REG-…", ``CRN`` / ``KVK`` of a UK / Dutch
    registry number, "" for a country's main scheme."""
    return tax_id.split("-", 2)[1] if "-" in tax_id else ""


def _digits(tax_id: str) -> str:
    return "".join(ch for ch in tax_id if ch.isdigit())


TaxRelation = str  # "same" | "different" | "weak"


def tax_relation(a: str | None, b: str | None) -> TaxRelation | None:
    """What two canonical tax ids say about their records being one legal entity.

    ``same``: equal checked ids of one kind (or an Australian ABN holding that ACN);
    ``different``: two checked ids of the same kind that differ — the veto; ``weak``: an id
    that failed its check has the same digits as the other (a typo twice, or the right number
    read under the wrong country); None: no evidence either way (absent, different kinds, a
    failed id with other digits).
    """
    if not a or not b:
        return None
    weak = is_weak(a) or is_weak(b)
    if weak:
        da, db = _digits(a), _digits(b)
        return "weak" if len(da) >= 6 and da == db else None
    if a == b:
        return "same"
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        if {ka, kb} == {"", "ACN"} and a[:2] == b[:2] == "AU":
            abn, acn = (a, b) if ka == "" else (b, a)
            return "same" if abn[-9:] == acn[-9:] else None
        return None
    return "different"
