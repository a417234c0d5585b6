"""Normalisation of B2B customer records before matching.

Every record the customer master sees (batch or live) goes through :func:`normalise_customer`,
which turns the raw fields of a source system into the comparable forms the matching engine
blocks and scores on. The per-field functions are exported too (search uses them on what a
user types).

Contract
--------
* Absent values (missing key, ``None``, ``""``, whitespace, NaN) are ``None`` and no problem.
* :func:`normalise_customer` never raises for bad *data*: a value that is present but cannot be
  normalised is recorded as a :class:`Problem` and its field is ``None``.
* The per-field functions return ``None`` for absent input and raise
  :class:`NormalisationError` for a malformed value.

Decisions (see also the comments on the tables below)
-----------------------------------------------------
* Name key folding: NFKC, casefold (so ``ß`` -> ``ss``), accents stripped from *Latin* letters
  only (``ü`` -> ``u``, ``é`` -> ``e``, ``ø`` -> ``o``, ``æ`` -> ``ae``, ``ł`` -> ``l``). German
  transliterations are NOT rewritten: ``"Mueller"`` keeps its ``ue`` and therefore differs from
  ``"Müller"`` (-> ``"muller"``); the fuzzy scorer, not the key, bridges that gap. Kana and Hangul
  keep their voicing marks; CJK characters are kept as they are and spaces between two CJK
  characters are removed.
* Punctuation becomes a space, except apostrophes (deleted: ``"McDonald's"`` -> ``mcdonalds``)
  and the dot after a single letter (deleted, so ``"L.L.C."`` -> ``llc``, ``"B.V."`` -> ``bv``).
  ``&`` becomes ``and``; ``und`` / ``et`` are left alone.
* Legal forms (tables ``_LEGAL_FORMS_*``) are removed from the end of the name repeatedly, from
  the start when the form is used as a prefix (French ``SARL X``, ``株式会社X``), and, for forms
  that are unambiguous, anywhere after the first word (``"Siemens AG Österreich"``). Short or
  ambiguous words (``co``, ``company``, ``sa``, ``se``, ``kg``, ``limited``, ``corporation`` …)
  are only removed at the end. If the name consists of nothing but legal forms, nothing is
  removed and ``legal_form`` is ``None`` (the code names what was *removed*). When several forms
  are removed, ``legal_form`` is the one nearest the end of the name (``"Co., Ltd."`` is one
  form, ``ltd``; ``"GmbH & Co. KG"`` is one form, ``gmbh_co_kg``).
* ``集团`` (group) is KEPT in the key: ``"海尔集团有限公司"`` -> ``"海尔集团"``; a group holding is
  a different legal entity from its subsidiaries, like "Group" in English names (also kept).
* Tax ids are canonicalised to ISO country code + compact number (Greece ``GR…`` even when
  written ``EL…``, Northern Ireland ``XI…`` -> ``GB…``, Swiss UID ``CHE…``).
* ``country`` of :func:`normalise_customer` is the record's own country; ``default_country`` is
  only used to interpret phone, tax id and postcode and is not copied into ``country``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat
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

__all__ = [
    "NormalisationError",
    "NormalisedCustomer",
    "Problem",
    "is_free_mail",
    "normalise_city",
    "normalise_country",
    "normalise_customer",
    "normalise_email",
    "normalise_name",
    "normalise_phone",
    "normalise_postcode",
    "normalise_street",
    "normalise_tax_id",
]


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


class NormalisationError(ValueError):
    """A present value that cannot be normalised.

    ``str()`` reads ``"phone '+49 30 12' is not a valid phone number for DE"`` (reasons that
    start with "not ") or ``"name '---': no usable name"`` (all other reasons).
    """

    def __init__(self, field: str, value: str, reason: str) -> None:
        super().__init__(field, value, reason)  # args kept so the error pickles
        self.field = field
        self.value = value
        self.reason = reason

    def __str__(self) -> str:
        if self.reason.startswith("not "):
            return f"{self.field} {self.value!r} is {self.reason}"
        return f"{self.field} {self.value!r}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    value: str
    reason: str


@dataclass(frozen=True, slots=True)
class NormalisedCustomer:
    name: str | None
    name_key: str | None
    name_tokens: tuple[str, ...]
    legal_form: str | None
    tax_id: str | None
    email: str | None
    email_domain: str | None
    phone: str | None
    street: str | None
    city: str | None
    postcode: str | None
    country: str | None
    problems: tuple[Problem, ...]


# --------------------------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------------------------


def _text(value: object) -> str | None:
    """The stripped text of a raw value, or None when absent (None, blank, NaN)."""
    if value is None:
        return None
    if type(value) is str:
        value = value.strip()
        return value or None
    if isinstance(value, float):
        if value != value:  # NaN from pandas
            return None
        return str(int(value)) if value.is_integer() else str(value)
    text = str(value).strip()
    return text or None


def _nfkc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


# Latin letters whose accent folding is not a plain NFKD decomposition.
_SPECIAL_FOLD = {
    "æ": "ae", "ø": "o", "œ": "oe", "đ": "d", "ð": "d", "þ": "th", "ł": "l", "ı": "i",
    "ħ": "h", "ŧ": "t", "ŋ": "n", "ß": "ss", "ſ": "s",
}
_APOSTROPHES = "'`´‘’ʼ′"


class _FoldTable(dict):  # type: ignore[type-arg]
    """str.translate table for casefolded text: accent-fold Latin letters, keep other letters,
    digits and marks, turn punctuation/symbols/controls into a space, delete apostrophes.

    Filled lazily per code point (``__missing__``) so any script works and lookups stay in C.
    """

    def __missing__(self, cp: int) -> str | None:
        ch = chr(cp)
        if ch in _SPECIAL_FOLD:
            out: str | None = _SPECIAL_FOLD[ch]
        elif ch in _APOSTROPHES:
            out = None
        else:
            cat = unicodedata.category(ch)
            if cat[0] in "LN":
                if cp < 0x2C00 and "LATIN" in unicodedata.name(ch, ""):
                    out = "".join(
                        c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
                    ) or ch
                else:
                    out = ch
            elif cat[0] == "M":
                # combining diacritics left over after NFKC (e.g. casefold("İ")) go; marks of
                # other scripts (Indic vowel signs, kana voicing marks) stay.
                out = "" if 0x300 <= cp < 0x370 else ch
            else:
                out = " "
        self[cp] = out
        return out


_FOLD = _FoldTable()
for _cp in range(128):
    _c = chr(_cp)
    if _c.isalnum():
        _FOLD[_cp] = _c
    elif _c in _APOSTROPHES:
        _FOLD[_cp] = None
    elif _c == "&":
        _FOLD[_cp] = " and "
    else:
        _FOLD[_cp] = " "

# A dot right after a lone letter/digit is an abbreviation dot: "l.l.c." -> "llc".
_ABBREV_DOT_RE = re.compile(r"(?<![^\W_])([^\W_])\.")

_CJK = (
    "\u1100-\u11ff\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3031-\u3035\u3040-\u30ff"
    "\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0003134f"
)
_CJK_GAP_RE = re.compile(f"(?<=[{_CJK}]) +(?=[{_CJK}])")


def _fold_tokens(text: str) -> list[str]:
    """NFKC'd text -> casefolded, accent-folded, punctuation-free tokens."""
    return _ABBREV_DOT_RE.sub(r"\1", text.casefold()).translate(_FOLD).split()


def _join(tokens: list[str], ascii_only: bool) -> str:
    out = " ".join(tokens)
    if not ascii_only:
        out = _CJK_GAP_RE.sub("", out)
    return out


# --------------------------------------------------------------------------------------------
# Names and legal forms
# --------------------------------------------------------------------------------------------

# Phrases are written as they look after folding ("&" -> "and", accents and dots gone).
# Removed only at the end of the name (repeatedly).
_LEGAL_FORMS_END: dict[str, str] = {
    # English
    "co": "co", "company": "co", "and co": "co", "and company": "co", "und co": "co",
    "u co": "co", "and cie": "co", "cie": "co", "corporation": "corp",
    "limited": "ltd", "co ltd": "ltd", "co limited": "ltd", "company limited": "ltd",
    "company ltd": "ltd", "corp ltd": "ltd",
    "incorporated": "inc", "co inc": "inc",
    "limited liability company": "llc", "llp": "llp", "limited liability partnership": "llp",
    "lp": "lp", "public limited company": "plc",
    "pty ltd": "pty_ltd", "pty limited": "pty_ltd", "proprietary limited": "pty_ltd",
    # German
    "ag": "ag", "aktiengesellschaft": "ag", "kg": "kg", "kommanditgesellschaft": "kg",
    "co kg": "kg", "and co kg": "kg", "und co kg": "kg", "u co kg": "kg",
    "ohg": "ohg", "offene handelsgesellschaft": "ohg", "gbr": "gbr", "ev": "ev",
    "eingetragener verein": "ev", "eg": "eg", "ug": "ug", "ug haftungsbeschrankt": "ug",
    "ug haftungsbeschrankt and co kg": "ug_co_kg", "ug and co kg": "ug_co_kg",
    "gesellschaft mit beschrankter haftung": "gmbh", "gesellschaft mbh": "gmbh",
    "se": "se", "societas europaea": "se",
    # French
    "sa": "sa", "societe anonyme": "sa", "sas": "sas", "sasu": "sas",
    "societe par actions simplifiee": "sas", "sa rl": "sarl",
    "societe a responsabilite limitee": "sarl", "eurl": "eurl", "snc": "snc",
    "sa de cv": "sa",
    # Dutch
    "besloten vennootschap": "bv", "naamloze vennootschap": "nv", "vof": "vof", "cv": "cv",
    # Japanese (romanised) and Chinese "公司" on its own
    "kabushiki kaisha": "kk", "kabushiki gaisha": "kk", "yugen kaisha": "yk",
    "godo kaisha": "gk", "公司": "co",
}
# Unambiguous forms: removed at the end, at the start, and anywhere after the first word.
_LEGAL_FORMS_ANY: dict[str, str] = {
    "gmbh": "gmbh", "ggmbh": "gmbh", "mbh": "gmbh",
    "gmbh and co kg": "gmbh_co_kg", "gmbh und co kg": "gmbh_co_kg", "gmbh u co kg": "gmbh_co_kg",
    "gmbh co kg": "gmbh_co_kg", "gmbh and co kgaa": "gmbh_co_kgaa", "gmbh and co ohg": "gmbh_co_ohg",
    "ag and co kg": "ag_co_kg", "ag and co kgaa": "ag_co_kgaa", "se and co kg": "se_co_kg",
    "kgaa": "kgaa", "ag": "ag",
    "inc": "inc", "llc": "llc", "ltd": "ltd", "plc": "plc", "corp": "corp",
    "bv": "bv", "nv": "nv", "sarl": "sarl", "kk": "kk",
    # CJK forms arrive as separate tokens (see _CJK_FORM_RE)
    "株式会社": "kk", "有限会社": "yk", "合同会社": "gk",
    "有限公司": "cn_ltd", "有限责任公司": "cn_ltd", "有限責任公司": "cn_ltd",
    "股份有限公司": "cn_jsc",
    "주식회사": "kr_jsc", "유한회사": "kr_ltd",
}
# Forms also used as a prefix ("SARL Dupont", "株式会社トヨタ") besides _LEGAL_FORMS_ANY.
_LEGAL_FORMS_PREFIX: dict[str, str] = {"sa": "sa", "sas": "sas", "sasu": "sas", "sarl": "sarl",
                                       "eurl": "eurl", "snc": "snc"}
# "AG" at the very start is more likely initials ("AG Barr plc") than a legal form, so the
# anywhere-rule skips the first word; "ag" is still removed at the end.


def _tuple_table(table: dict[str, str]) -> dict[tuple[str, ...], str]:
    return {tuple(k.split()): v for k, v in table.items()}


_SUFFIX = _tuple_table({**_LEGAL_FORMS_END, **_LEGAL_FORMS_ANY})
_PREFIX = _tuple_table({**_LEGAL_FORMS_ANY, **_LEGAL_FORMS_PREFIX})
_ANYWHERE = _tuple_table(_LEGAL_FORMS_ANY)
_SUFFIX_LAST = {k[-1] for k in _SUFFIX}
_PREFIX_FIRST = {k[0] for k in _PREFIX}
_ANYWHERE_FIRST = {k[0] for k in _ANYWHERE}
_MAX_FORM_LEN = max(len(k) for k in _SUFFIX)

# CJK legal forms are affixes without word boundaries: cut them out as separate tokens before
# punctuation is removed (so "(株)" is still recognisable). Longest alternatives first.
_CJK_FORM_CANON = {"(株)": "株式会社", "(有)": "有限会社", "(同)": "合同会社",
                   "(주)": "주식회사", "(유)": "유한회사"}
_CJK_FORM_RE = re.compile(
    r"\(株\)|\(有\)|\(同\)|\(주\)|\(유\)|株式会社|有限会社|合同会社|股份有限公司|有限责任公司"
    r"|有限責任公司|有限公司|주식회사|유한회사|(?<![分总總限])公司(?=\W*$)"
)


def _cjk_form_repl(m: re.Match[str]) -> str:
    found = m.group()
    return f" {_CJK_FORM_CANON.get(found, found)} "


# Whole names that mean "no name" (compared after folding, before legal forms are removed).
_PLACEHOLDER_NAMES = frozenset({
    "na", "n a", "none", "null", "nil", "nan", "unknown", "unbekannt", "inconnu", "test", "tbd",
    "tba", "x", "xx", "xxx", "xxxx", "dummy", "keine angabe", "k a", "not available",
    "不明", "なし", "無し", "未定", "无", "未知", "テスト", "测试",
})


def _strip_legal_forms(tokens: list[str]) -> tuple[list[str], str | None]:
    start, end = 0, len(tokens)
    legal: str | None = None
    # 1. end, repeatedly, longest phrase first
    while end > start and tokens[end - 1] in _SUFFIX_LAST:
        for n in range(min(_MAX_FORM_LEN, end - start), 0, -1):
            code = _SUFFIX.get(tuple(tokens[end - n:end]))
            if code is not None:
                break
        else:
            break
        if end - n <= start:
            return tokens, None  # nothing but legal forms: keep the name as it is
        end -= n
        if legal is None:
            legal = code
    # 2. start, repeatedly
    prefix_code: str | None = None
    while start < end and tokens[start] in _PREFIX_FIRST:
        for n in range(min(_MAX_FORM_LEN, end - start), 0, -1):
            code = _PREFIX.get(tuple(tokens[start:start + n]))
            if code is not None:
                break
        else:
            break
        if start + n >= end:
            return tokens, None
        start += n
        if prefix_code is None:
            prefix_code = code
    # 3. unambiguous forms anywhere after the first remaining word
    kept = [tokens[start]] if start < end else []
    middle_code: str | None = None
    i = start + 1
    while i < end:
        if tokens[i] in _ANYWHERE_FIRST:
            for n in range(min(_MAX_FORM_LEN, end - i), 0, -1):
                code = _ANYWHERE.get(tuple(tokens[i:i + n]))
                if code is not None:
                    middle_code = code  # the last one found is nearest the end
                    i += n
                    break
            else:
                kept.append(tokens[i])
                i += 1
        else:
            kept.append(tokens[i])
            i += 1
    return kept, legal or middle_code or prefix_code


def normalise_name(value: str | None) -> tuple[str, str, tuple[str, ...], str | None] | None:
    """``(display, key, tokens, legal_form)`` of a company name; None for an absent name.

    >>> normalise_name("ACME, Inc.")
    ('ACME, Inc.', 'acme', ('acme',), 'inc')
    """
    text = _text(value)
    if text is None:
        return None
    return _name(text)


def _name(text: str) -> tuple[str, str, tuple[str, ...], str | None]:
    s = _nfkc(text)
    display = " ".join(s.split())
    folded = s.casefold()
    ascii_only = folded.isascii()
    if not ascii_only:
        folded = _CJK_FORM_RE.sub(_cjk_form_repl, folded)
    tokens = _ABBREV_DOT_RE.sub(r"\1", folded).translate(_FOLD).split()
    if not tokens or " ".join(tokens) in _PLACEHOLDER_NAMES:
        raise NormalisationError("name", text, "no usable name")
    kept, legal = _strip_legal_forms(tokens)
    key = _join(kept, ascii_only)
    return display, key, tuple(key.split()), legal


# --------------------------------------------------------------------------------------------
# Countries
# --------------------------------------------------------------------------------------------

# ISO 3166-1 alpha-2 and alpha-3 (all 249 current entries).
_ISO_PAIRS = (
    "AD AND AE ARE AF AFG AG ATG AI AIA AL ALB AM ARM AO AGO AQ ATA AR ARG AS ASM AT AUT AU AUS "
    "AW ABW AX ALA AZ AZE BA BIH BB BRB BD BGD BE BEL BF BFA BG BGR BH BHR BI BDI BJ BEN BL BLM "
    "BM BMU BN BRN BO BOL BQ BES BR BRA BS BHS BT BTN BV BVT BW BWA BY BLR BZ BLZ CA CAN CC CCK "
    "CD COD CF CAF CG COG CH CHE CI CIV CK COK CL CHL CM CMR CN CHN CO COL CR CRI CU CUB CV CPV "
    "CW CUW CX CXR CY CYP CZ CZE DE DEU DJ DJI DK DNK DM DMA DO DOM DZ DZA EC ECU EE EST EG EGY "
    "EH ESH ER ERI ES ESP ET ETH FI FIN FJ FJI FK FLK FM FSM FO FRO FR FRA GA GAB GB GBR GD GRD "
    "GE GEO GF GUF GG GGY GH GHA GI GIB GL GRL GM GMB GN GIN GP GLP GQ GNQ GR GRC GS SGS GT GTM "
    "GU GUM GW GNB GY GUY HK HKG HM HMD HN HND HR HRV HT HTI HU HUN ID IDN IE IRL IL ISR IM IMN "
    "IN IND IO IOT IQ IRQ IR IRN IS ISL IT ITA JE JEY JM JAM JO JOR JP JPN KE KEN KG KGZ KH KHM "
    "KI KIR KM COM KN KNA KP PRK KR KOR KW KWT KY CYM KZ KAZ LA LAO LB LBN LC LCA LI LIE LK LKA "
    "LR LBR LS LSO LT LTU LU LUX LV LVA LY LBY MA MAR MC MCO MD MDA ME MNE MF MAF MG MDG MH MHL "
    "MK MKD ML MLI MM MMR MN MNG MO MAC MP MNP MQ MTQ MR MRT MS MSR MT MLT MU MUS MV MDV MW MWI "
    "MX MEX MY MYS MZ MOZ NA NAM NC NCL NE NER NF NFK NG NGA NI NIC NL NLD NO NOR NP NPL NR NRU "
    "NU NIU NZ NZL OM OMN PA PAN PE PER PF PYF PG PNG PH PHL PK PAK PL POL PM SPM PN PCN PR PRI "
    "PS PSE PT PRT PW PLW PY PRY QA QAT RE REU RO ROU RS SRB RU RUS RW RWA SA SAU SB SLB SC SYC "
    "SD SDN SE SWE SG SGP SH SHN SI SVN SJ SJM SK SVK SL SLE SM SMR SN SEN SO SOM SR SUR SS SSD "
    "ST STP SV SLV SX SXM SY SYR SZ SWZ TC TCA TD TCD TF ATF TG TGO TH THA TJ TJK TK TKL TL TLS "
    "TM TKM TN TUN TO TON TR TUR TT TTO TV TUV TW TWN TZ TZA UA UKR UG UGA UM UMI US USA UY URY "
    "UZ UZB VA VAT VC VCT VE VEN VG VGB VI VIR VN VNM VU VUT WF WLF WS WSM YE YEM YT MYT ZA ZAF "
    "ZM ZMB ZW ZWE"
).split()
_ISO2 = frozenset(_ISO_PAIRS[0::2])
_ISO3 = dict(zip(_ISO_PAIRS[1::2], _ISO_PAIRS[0::2]))

# Common names and codes people type (matched after folding: case, accents, dots, "the").
# Anything not here is looked up in phonenumbers' localised region names (en, de, fr, zh, ja,
# ko, es, it, nl), loaded on first need.
_COUNTRY_ALIASES: dict[str, str] = {
    "uk": "GB", "el": "GR",
    # English
    "germany": "DE", "united kingdom": "GB", "great britain": "GB", "britain": "GB",
    "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "united kingdom of great britain and northern ireland": "GB",
    "usa": "US", "us": "US", "united states": "US", "united states of america": "US",
    "america": "US", "china": "CN", "prc": "CN", "peoples republic of china": "CN",
    "mainland china": "CN", "japan": "JP", "france": "FR", "netherlands": "NL",
    "holland": "NL", "switzerland": "CH", "austria": "AT", "italy": "IT", "spain": "ES",
    "korea": "KR", "south korea": "KR", "republic of korea": "KR", "korea republic of": "KR",
    "taiwan": "TW", "hong kong": "HK", "hongkong": "HK", "hong kong sar": "HK",
    "singapore": "SG", "macau": "MO", "macao": "MO", "belgium": "BE", "luxembourg": "LU",
    "czech republic": "CZ", "czechia": "CZ", "russia": "RU", "russian federation": "RU",
    "turkey": "TR", "turkiye": "TR", "uae": "AE", "united arab emirates": "AE",
    "vietnam": "VN", "viet nam": "VN", "ireland": "IE", "denmark": "DK", "sweden": "SE",
    "norway": "NO", "finland": "FI", "poland": "PL", "portugal": "PT", "greece": "GR",
    # German
    "deutschland": "DE", "brd": "DE", "bundesrepublik deutschland": "DE",
    "vereinigtes konigreich": "GB", "grossbritannien": "GB", "vereinigte staaten": "US",
    "vereinigte staaten von amerika": "US", "amerika": "US", "frankreich": "FR",
    "niederlande": "NL", "schweiz": "CH", "osterreich": "AT", "italien": "IT",
    "spanien": "ES", "sudkorea": "KR", "volksrepublik china": "CN", "singapur": "SG",
    "belgien": "BE", "luxemburg": "LU", "tschechien": "CZ", "danemark": "DK",
    "schweden": "SE", "norwegen": "NO", "finnland": "FI", "polen": "PL",
    # French / Italian / Spanish own names
    "suisse": "CH", "svizzera": "CH", "allemagne": "DE", "royaume uni": "GB",
    "etats unis": "US", "italia": "IT", "espana": "ES", "nederland": "NL",
    # Chinese (simplified and traditional)
    "中国": "CN", "中國": "CN", "中华人民共和国": "CN", "中華人民共和國": "CN", "中国大陆": "CN",
    "德国": "DE", "德國": "DE", "英国": "GB", "英國": "GB", "美国": "US", "美國": "US",
    "法国": "FR", "法國": "FR", "荷兰": "NL", "荷蘭": "NL", "瑞士": "CH", "奥地利": "AT",
    "奧地利": "AT", "意大利": "IT", "義大利": "IT", "西班牙": "ES", "韩国": "KR", "韓國": "KR",
    "南韩": "KR", "台湾": "TW", "台灣": "TW", "中国台湾": "TW", "中華民國": "TW", "香港": "HK",
    "中国香港": "HK", "澳门": "MO", "澳門": "MO", "新加坡": "SG", "日本": "JP",
    # Japanese
    "日本国": "JP", "中華人民共和国": "CN", "ドイツ": "DE", "イギリス": "GB", "アメリカ": "US",
    "アメリカ合衆国": "US", "米国": "US", "フランス": "FR", "オランダ": "NL", "スイス": "CH",
    "オーストリア": "AT", "イタリア": "IT", "スペイン": "ES", "韓国": "KR", "大韓民国": "KR",
    "シンガポール": "SG", "中国本土": "CN",
    # Korean
    "한국": "KR", "대한민국": "KR",
}
_COUNTRY_STOPWORDS = frozenset({"the"})
_locale_names: dict[str, str] | None = None


def _country_key(text: str) -> str:
    return " ".join(t for t in _fold_tokens(_nfkc(text)) if t not in _COUNTRY_STOPWORDS)


def _localised_country_names() -> dict[str, str]:
    """Folded region name -> ISO2, from phonenumbers' region display names; ambiguous dropped."""
    global _locale_names
    if _locale_names is None:
        names: dict[str, str | None] = {}
        try:
            from phonenumbers.geodata.locale import LOCALE_DATA
        except ImportError:  # pragma: no cover - data module missing in a slim install
            LOCALE_DATA = {}
        for region, by_lang in LOCALE_DATA.items():
            if region not in _ISO2:
                continue
            for lang in ("aa", "de", "fr", "zh", "ja", "ko", "es", "it", "nl"):
                name = by_lang.get(lang)
                while name and name.startswith("*"):
                    name = by_lang.get(name[1:])
                if not name:
                    continue
                key = _country_key(name)
                if key and names.get(key, region) != region:
                    names[key] = None  # the same word names two regions
                elif key:
                    names[key] = region
        _locale_names = {k: v for k, v in names.items() if v is not None}
    return _locale_names


@lru_cache(maxsize=4096)
def _country(text: str) -> str | None:
    if len(text) in (2, 3) and text.isascii() and text.isalpha():
        upper = text.upper()
        if upper in _ISO2:
            return upper
        if upper in _ISO3:
            return _ISO3[upper]
    key = _country_key(text)
    if not key:
        return None
    found = _COUNTRY_ALIASES.get(key)
    if found is None:
        compact = key.replace(" ", "")
        if len(compact) in (2, 3) and compact.isascii():  # "U.S.A.", "D E"
            upper = compact.upper()
            found = _COUNTRY_ALIASES.get(compact) or (
                upper if upper in _ISO2 else _ISO3.get(upper)
            )
    if found is None:
        found = _localised_country_names().get(key)
    return found


def normalise_country(value: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code of a country code (ISO2/ISO3) or a common name; None if absent."""
    text = _text(value)
    if text is None:
        return None
    found = _country(text)
    if found is None:
        raise NormalisationError("country", text, "not a known country")
    return found


# --------------------------------------------------------------------------------------------
# Phone
# --------------------------------------------------------------------------------------------

# Extensions phonenumbers does not know about ("x123", "ext. 12" it drops itself).
_PHONE_EXT_RE = re.compile(
    r"\s*[,;/-]?\s*(?:durchwahl|dw|nebenstelle|durchw|poste|内線|内线|分機|分机|转|轉)\.?\s*[:.]?\s*\d{1,6}\s*$",
    re.IGNORECASE,
)
_E164 = PhoneNumberFormat.E164


def normalise_phone(value: str | None, country: str | None = None) -> str | None:
    """E.164 form of a phone number, read in ``country`` unless it starts with + or 00."""
    text = _text(value)
    if text is None:
        return None
    return _phone(text, normalise_country(country) if country else None)


def _phone(text: str, country: str | None) -> str:
    s = _nfkc(text)
    s = _PHONE_EXT_RE.sub("", s)
    s = s.lstrip()
    if s.startswith("00"):
        s = "+" + s[2:]
    international = s.startswith("+")
    if not international and country is None:
        raise NormalisationError("phone", text, "cannot tell the country")
    try:
        number = phonenumbers.parse(s, None if international else country)
    except NumberParseException:
        raise NormalisationError("phone", text, _phone_reason(s, country, international)) from None
    if not phonenumbers.is_valid_number(number):
        region = phonenumbers.region_code_for_country_code(number.country_code)
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


# --------------------------------------------------------------------------------------------
# Tax ids
# --------------------------------------------------------------------------------------------

_EU_VAT_PREFIX = {  # ISO code -> prefix used in EU VAT numbers
    "AT": "AT", "BE": "BE", "BG": "BG", "CY": "CY", "CZ": "CZ", "DE": "DE", "DK": "DK",
    "EE": "EE", "ES": "ES", "FI": "FI", "FR": "FR", "GR": "EL", "HR": "HR", "HU": "HU",
    "IE": "IE", "IT": "IT", "LT": "LT", "LU": "LU", "LV": "LV", "MT": "MT", "NL": "NL",
    "PL": "PL", "PT": "PT", "RO": "RO", "SE": "SE", "SI": "SI", "SK": "SK",
}
# Letters a tax id may start with -> ISO country (VAT aliases EL/XI included)
_TAX_PREFIX_ALIASES = {"EL": "GR", "XI": "GB"}
_TAX_LABEL_RE = re.compile(r"^[A-Za-z][A-Za-z .\-/]{0,24}:\s*")  # "USt-IdNr.: ", "VAT No: "
_NON_ALNUM_RE = re.compile(r"[^0-9A-Za-z]+")


def _stdnum(module: object) -> Callable[[str], str]:
    validate = module.validate  # type: ignore[attr-defined]
    return lambda number: validate(number)


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


def _jp(number: str) -> str:
    if len(number) == 14 and number[0] == "T":  # invoice registration number: "T" + 法人番号
        number = number[1:]
    return _jp_cn.validate(number)


# country -> (scheme label for messages, validator taking the number without country prefix)
_TAX_SCHEMES: dict[str, tuple[str, Callable[[str], str]]] = {
    **{cc: (f"{cc} VAT number", _eu(cc)) for cc in _EU_VAT_PREFIX},
    "DE": ("DE VAT number", _de),
    "FR": ("FR VAT number", _stdnum(_fr_tva)),
    "NL": ("NL VAT number", _stdnum(_nl_btw)),
    "AT": ("AT VAT number", _stdnum(_at_uid)),
    "GB": ("GB VAT number", _stdnum(_gb_vat)),
    "CH": ("CH UID", _ch),
    "US": ("US EIN", _stdnum(_us_ein)),
    "CN": ("CN unified social credit code", _stdnum(_cn_uscc)),
    "JP": ("JP corporate number", _jp),
    "KR": ("KR business registration number", _stdnum(_kr_brn)),
}


def _tax_reason(exc: ValidationError, label: str) -> str:
    if isinstance(exc, _SteuernummerNotVat):
        return "a German Steuernummer, not a DE VAT number (USt-IdNr.) - only VAT numbers are accepted"
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
    text = _text(value)
    if text is None:
        return None
    return _tax_id(text, normalise_country(country) if country else None)


def _tax_id(text: str, country: str | None) -> str:
    compact = _NON_ALNUM_RE.sub("", _TAX_LABEL_RE.sub("", _nfkc(text))).upper()
    if not compact:
        raise NormalisationError("tax_id", text, "no letters or digits")
    head = compact[:2]
    prefix_cc: str | None = None
    if head.isalpha():
        prefix_cc = _TAX_PREFIX_ALIASES.get(head, head if head in _ISO2 else None)

    if country is not None and prefix_cc == country:
        return _tax_checked(text, country, compact[2:])
    if country is not None and (prefix_cc is None or prefix_cc not in _TAX_SCHEMES):
        # no prefix, or letters that are no tax scheme of their own ("GD001" in GB)
        return _tax_checked(text, country, compact)
    if prefix_cc is not None:
        if country is not None:
            # a foreign scheme's prefix: the number may still be the record country's own
            try:
                return _tax_in(country, compact)
            except ValidationError:
                pass
        return _tax_checked(text, prefix_cc, compact[2:])
    raise NormalisationError("tax_id", text, "cannot tell the country of tax id")


def _tax_checked(text: str, cc: str, number: str) -> str:
    try:
        return _tax_in(cc, number)
    except ValidationError as exc:
        label = _TAX_SCHEMES[cc][0] if cc in _TAX_SCHEMES else f"{cc} tax id"
        raise NormalisationError("tax_id", text, _tax_reason(exc, label)) from None


# --------------------------------------------------------------------------------------------
# E-mail
# --------------------------------------------------------------------------------------------

_EMAIL_RE = re.compile(
    r"[^\s@<>()\[\],;:\"\\]+@"
    r"((?:[^\W_](?:[\w-]*[^\W_])?\.)+(?:[^\W\d_]{2,}|xn--[a-z0-9-]+))"
)
_ANGLE_RE = re.compile(r"<([^<>]*)>\s*$")

# Free-mail and consumer ISP domains: an address there says nothing about the company.
_FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "icloud.com", "me.com", "mac.com", "aol.com", "aim.com",
    "protonmail.com", "protonmail.ch", "proton.me", "pm.me", "tutanota.com", "tuta.io",
    "zoho.com", "mail.com", "email.com", "gmx.com", "hushmail.com", "fastmail.com",
    "yandex.ru", "yandex.com", "ya.ru", "mail.ru", "inbox.ru", "bk.ru", "list.ru", "rambler.ru",
    # German-speaking
    "gmx.de", "gmx.net", "gmx.at", "gmx.ch", "web.de", "t-online.de", "freenet.de", "arcor.de",
    "posteo.de", "mailbox.org", "online.de", "bluewin.ch", "aon.at", "chello.at",
    # French / Dutch / Italian / Spanish / UK / US ISPs
    "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr", "neuf.fr", "ziggo.nl",
    "kpnmail.nl", "planet.nl", "home.nl", "libero.it", "virgilio.it", "tiscali.it", "alice.it",
    "telefonica.net", "terra.es", "btinternet.com", "sky.com", "virginmedia.com",
    "ntlworld.com", "talktalk.net", "comcast.net", "verizon.net", "att.net", "sbcglobal.net",
    "bellsouth.net", "cox.net", "charter.net", "earthlink.net",
    # China
    "qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn",
    "sohu.com", "aliyun.com", "139.com", "189.cn", "21cn.com", "tom.com", "vip.qq.com",
    "vip.163.com", "vip.sina.com",
    # Japan
    "yahoo.co.jp", "docomo.ne.jp", "ezweb.ne.jp", "au.com", "softbank.ne.jp",
    "i.softbank.jp", "nifty.com", "ocn.ne.jp", "so-net.ne.jp", "biglobe.ne.jp",
    "excite.co.jp", "goo.jp",
    # Korea
    "naver.com", "daum.net", "hanmail.net", "nate.com", "kakao.com",
})
# Brands with a domain per country (yahoo.de, hotmail.co.uk, live.fr, outlook.jp ...).
_FREE_MAIL_BRAND_RE = re.compile(
    r"(?:yahoo|ymail|rocketmail|hotmail|outlook|live|msn|windowslive|gmx|aol|gmail)"
    r"\.(?:[a-z]{2,3}|co\.[a-z]{2}|com\.[a-z]{2}|ne\.jp)"
)


@lru_cache(maxsize=8192)
def is_free_mail(domain: str) -> bool:
    """True for free-mail / consumer ISP domains (gmail.com, yahoo.*, web.de, qq.com ...)."""
    d = domain.strip().lower().rstrip(".")
    return d in _FREE_MAIL_DOMAINS or _FREE_MAIL_BRAND_RE.fullmatch(d) is not None


def normalise_email(value: str | None) -> tuple[str, str | None] | None:
    """``(email, company_domain)``: lowercased address; domain None for free mail."""
    text = _text(value)
    if text is None:
        return None
    return _email(text)


def _email(text: str) -> tuple[str, str | None]:
    s = _nfkc(text)  # full-width "＠" in Japanese data
    m = _ANGLE_RE.search(s)  # "Jane Doe <jane@x.com>", "<jane@x.com>"
    if m:
        s = m.group(1)
    s = s.strip().lower()
    if s.startswith("mailto:"):
        s = s[7:].strip()
    m = _EMAIL_RE.fullmatch(s) if len(s) <= 254 else None
    if m is None:
        raise NormalisationError("email", text, "not a valid e-mail address")
    domain = m.group(1)
    return s, (None if is_free_mail(domain) else domain)


# --------------------------------------------------------------------------------------------
# Postcode
# --------------------------------------------------------------------------------------------

# country -> (pattern on the upper-cased value with spaces removed, description). The groups
# joined are the match form. Prefixes like "D-" (old German style) are accepted.
_POSTCODE_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "DE": (re.compile(r"(?:DE?-?)?(\d{5})"), "5 digits"),
    "GB": (re.compile(r"([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})|(GIR)(0AA)"), "a UK postcode like SW1A 1AA"),
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
    text = _text(value)
    if text is None:
        return None
    cc = normalise_country(country) if country else None
    if not isinstance(value, str) and text.isdigit() and cc in _POSTCODE_DIGITS:
        text = text.zfill(_POSTCODE_DIGITS[cc])
    return _postcode(text, cc)


def _postcode(text: str, country: str | None) -> str:
    s = _nfkc(text).upper()
    rule = _POSTCODE_RULES.get(country) if country else None
    if rule is not None:
        m = rule[0].fullmatch("".join(s.split()))
        if m is None:
            raise NormalisationError(
                "postcode", text, f"not a {country} postcode (expected {rule[1]})"
            )
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
    "str": "strasse", "strase": "strasse", "rd": "road", "ave": "avenue", "av": "avenue",
    "blvd": "boulevard", "ln": "lane", "hwy": "highway", "sq": "square", "pkwy": "parkway",
}


def _street_tokens(tokens: list[str]) -> list[str]:
    out = []
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
    text = _text(value)
    if text is None:
        return None
    return _street(text)


def _street(text: str) -> str:
    s = _nfkc(text)
    tokens = _fold_tokens(s)
    if not tokens:
        raise NormalisationError("street", text, "no letters or digits")
    return _join(_street_tokens(tokens), s.isascii())


def normalise_city(value: str | None) -> str | None:
    """Match form of a city: casefolded, accents folded, punctuation removed."""
    text = _text(value)
    if text is None:
        return None
    return _city(text)


def _city(text: str) -> str:
    s = _nfkc(text)
    tokens = _fold_tokens(s)
    if not tokens:
        raise NormalisationError("city", text, "no letters or digits")
    return _join(tokens, s.isascii())


# --------------------------------------------------------------------------------------------
# Whole record
# --------------------------------------------------------------------------------------------


def normalise_customer(
    raw: Mapping[str, str | None], default_country: str | None = None
) -> NormalisedCustomer:
    """Normalise one raw customer record; bad values become ``problems``, never exceptions.

    ``default_country`` (any form :func:`normalise_country` accepts) interprets phone, tax id
    and postcode when the record has no usable country of its own. An unknown
    ``default_country`` is a caller error and raises :class:`NormalisationError`.
    """
    default_cc = normalise_country(default_country) if default_country else None
    get = raw.get
    problems: list[Problem] = []

    country: str | None = None
    country_problem: Problem | None = None
    text = _text(get("country"))
    if text is not None:
        country = _country(text)
        if country is None:
            country_problem = Problem("country", text, "not a known country")
    region = country or default_cc

    name = name_key = legal_form = None
    name_tokens: tuple[str, ...] = ()
    text = _text(get("name"))
    if text is not None:
        try:
            name, name_key, name_tokens, legal_form = _name(text)
        except NormalisationError as exc:
            problems.append(Problem(exc.field, exc.value, exc.reason))

    tax_id = _field(problems, _tax_id, get("tax_id"), region)

    email = email_domain = None
    text = _text(get("email"))
    if text is not None:
        try:
            email, email_domain = _email(text)
        except NormalisationError as exc:
            problems.append(Problem(exc.field, exc.value, exc.reason))

    phone = _field(problems, _phone, get("phone"), region)
    street = _field(problems, _street, get("street"))
    city = _field(problems, _city, get("city"))

    postcode = None
    raw_postcode = get("postcode")
    text = _text(raw_postcode)
    if text is not None:
        if not isinstance(raw_postcode, str) and text.isdigit() and region in _POSTCODE_DIGITS:
            text = text.zfill(_POSTCODE_DIGITS[region])
        try:
            postcode = _postcode(text, region)
        except NormalisationError as exc:
            problems.append(Problem(exc.field, exc.value, exc.reason))

    if country_problem is not None:
        problems.append(country_problem)

    return NormalisedCustomer(
        name=name,
        name_key=name_key,
        name_tokens=name_tokens,
        legal_form=legal_form,
        tax_id=tax_id,
        email=email,
        email_domain=email_domain,
        phone=phone,
        street=street,
        city=city,
        postcode=postcode,
        country=country,
        problems=tuple(problems),
    )


def _field(problems: list[Problem], fn: Callable[..., str], value: object, *args: object) -> str | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return fn(text, *args)
    except NormalisationError as exc:
        problems.append(Problem(exc.field, exc.value, exc.reason))
        return None
