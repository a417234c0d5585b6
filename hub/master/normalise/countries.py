"""Countries as ISO 3166-1 alpha-2 codes, whatever the source system typed.

The country decides how phone numbers, tax ids and postcodes are read, and it is a blocking
field, so "Deutschland", "DEU", "ドイツ" and "德国" must all become ``DE``. A hand-kept alias
table covers what people commonly type; then the synonyms in ``mappings/countries.yaml``
(what a site's own exports write: "GER", "P.R. China"), then pycountry's names (official and
common names: "Federal Republic of Germany", "Viet Nam"), then phonenumbers' localised region
names. The last three are loaded only when first needed because building them is slow.
"""

from __future__ import annotations

import importlib.util
import os
import re
from functools import lru_cache
from pathlib import Path

import phonenumbers
import yaml

from hub.master.normalise.errors import NormalisationError
from hub.master.normalise.text import fold_tokens, nfkc, text_of

# ISO 3166-1 alpha-2 and alpha-3 (all 249 current entries).
_ISO_PAIRS = (  # noqa: SIM905 - a table is easier to check as text
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
ISO2 = frozenset(_ISO_PAIRS[0::2])
ISO3 = dict(zip(_ISO_PAIRS[1::2], _ISO_PAIRS[0::2], strict=True))

# Common names and codes people type (matched after folding: case, accents, dots, "the").
# Anything not here is looked up in phonenumbers' localised region names (en, de, fr, zh, ja,
# ko, es, it, nl), loaded on first need.
_COUNTRY_ALIASES: dict[str, str] = {
    "uk": "GB",
    "el": "GR",
    # English
    "germany": "DE",
    "united kingdom": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "united kingdom of great britain and northern ireland": "GB",
    "usa": "US",
    "us": "US",
    "united states": "US",
    "united states of america": "US",
    "america": "US",
    "china": "CN",
    "prc": "CN",
    "peoples republic of china": "CN",
    "mainland china": "CN",
    "japan": "JP",
    "france": "FR",
    "netherlands": "NL",
    "holland": "NL",
    "switzerland": "CH",
    "austria": "AT",
    "italy": "IT",
    "spain": "ES",
    "korea": "KR",
    "south korea": "KR",
    "republic of korea": "KR",
    "korea republic of": "KR",
    "taiwan": "TW",
    "hong kong": "HK",
    "hongkong": "HK",
    "hong kong sar": "HK",
    "singapore": "SG",
    "macau": "MO",
    "macao": "MO",
    "belgium": "BE",
    "luxembourg": "LU",
    "czech republic": "CZ",
    "czechia": "CZ",
    "russia": "RU",
    "russian federation": "RU",
    "turkey": "TR",
    "turkiye": "TR",
    "uae": "AE",
    "united arab emirates": "AE",
    "vietnam": "VN",
    "viet nam": "VN",
    "ireland": "IE",
    "denmark": "DK",
    "sweden": "SE",
    "norway": "NO",
    "finland": "FI",
    "poland": "PL",
    "portugal": "PT",
    "greece": "GR",
    # German
    "deutschland": "DE",
    "brd": "DE",
    "bundesrepublik deutschland": "DE",
    "vereinigtes konigreich": "GB",
    "grossbritannien": "GB",
    "vereinigte staaten": "US",
    "vereinigte staaten von amerika": "US",
    "amerika": "US",
    "frankreich": "FR",
    "niederlande": "NL",
    "schweiz": "CH",
    "osterreich": "AT",
    "italien": "IT",
    "spanien": "ES",
    "sudkorea": "KR",
    "volksrepublik china": "CN",
    "singapur": "SG",
    "belgien": "BE",
    "luxemburg": "LU",
    "tschechien": "CZ",
    "danemark": "DK",
    "schweden": "SE",
    "norwegen": "NO",
    "finnland": "FI",
    "polen": "PL",
    # French / Italian / Spanish own names
    "suisse": "CH",
    "svizzera": "CH",
    "allemagne": "DE",
    "royaume uni": "GB",
    "etats unis": "US",
    "italia": "IT",
    "espana": "ES",
    "nederland": "NL",
    # Chinese (simplified and traditional)
    "中国": "CN",
    "中國": "CN",
    "中华人民共和国": "CN",
    "中華人民共和國": "CN",
    "中国大陆": "CN",
    "德国": "DE",
    "德國": "DE",
    "英国": "GB",
    "英國": "GB",
    "美国": "US",
    "美國": "US",
    "法国": "FR",
    "法國": "FR",
    "荷兰": "NL",
    "荷蘭": "NL",
    "瑞士": "CH",
    "奥地利": "AT",
    "奧地利": "AT",
    "意大利": "IT",
    "義大利": "IT",
    "西班牙": "ES",
    "韩国": "KR",
    "韓國": "KR",
    "南韩": "KR",
    "台湾": "TW",
    "台灣": "TW",
    "中国台湾": "TW",
    "中華民國": "TW",
    "香港": "HK",
    "中国香港": "HK",
    "澳门": "MO",
    "澳門": "MO",
    "新加坡": "SG",
    "日本": "JP",
    # Japanese
    "日本国": "JP",
    "中華人民共和国": "CN",
    "ドイツ": "DE",
    "イギリス": "GB",
    "アメリカ": "US",
    "アメリカ合衆国": "US",
    "米国": "US",
    "フランス": "FR",
    "オランダ": "NL",
    "スイス": "CH",
    "オーストリア": "AT",
    "イタリア": "IT",
    "スペイン": "ES",
    "韓国": "KR",
    "大韓民国": "KR",
    "シンガポール": "SG",
    "中国本土": "CN",
    # Korean
    "한국": "KR",
    "대한민국": "KR",
}
_COUNTRY_STOPWORDS = frozenset({"the"})
_locale_names: dict[str, str] | None = None
_library_names: dict[str, str] | None = None
#: The repository's mappings folder; ``HUB_MAPPINGS_DIR``'s countries.yaml is read after it.
_BUNDLED = Path(__file__).resolve().parents[3] / "mappings"


def _synonym_files() -> list[Path]:
    """The bundled synonyms, then the site's (``HUB_MAPPINGS_DIR``, else ``./mappings``, as
    hub.settings decides; read from the environment because normalising takes no settings)."""
    own = os.environ.get("HUB_MAPPINGS_DIR")
    site = Path(own) if own else Path("mappings")
    dirs = [_BUNDLED] + ([site] if site.is_dir() and site.resolve() != _BUNDLED else [])
    return [d / "countries.yaml" for d in dirs if (d / "countries.yaml").is_file()]


def _library_country_names() -> dict[str, str]:
    """Folded name -> ISO2 from mappings/countries.yaml synonyms and pycountry's names."""
    global _library_names
    if _library_names is None:
        names: dict[str, str] = {}
        try:
            import pycountry

            for c in pycountry.countries:
                for attr in ("name", "official_name", "common_name"):
                    value = getattr(c, attr, None)
                    if value:
                        names.setdefault(_country_key(value), c.alpha_2)
        except ImportError:  # pragma: no cover - pycountry is a dependency
            pass
        for path in _synonym_files():
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for written, code in (loaded.get("synonyms") or {}).items():
                if isinstance(code, bool):  # YAML 1.1 reads a bare NO (Norway) as false
                    raise ValueError(f"{path}: synonym {written!r}: write the code in quotes (YAML reads it as {code})")
                code = str(code).upper()
                if code not in ISO2:
                    raise ValueError(f"{path}: synonym {written!r}: {code!r} is no ISO 3166 code")
                names[_country_key(str(written))] = code
                names[_country_key(str(written)).replace(" ", "")] = code
        _library_names = names
    return _library_names


def _country_key(text: str) -> str:
    return " ".join(t for t in fold_tokens(nfkc(text).casefold()) if t not in _COUNTRY_STOPWORDS)


def _localised_country_names() -> dict[str, str]:
    """Folded region name -> ISO2, from phonenumbers' region display names; ambiguous dropped."""
    global _locale_names
    if _locale_names is None:
        names: dict[str, str | None] = {}
        for region, by_lang in _phonenumbers_locale_data().items():
            if region not in ISO2:
                continue
            for lang in ("aa", "de", "fr", "zh", "ja", "ko", "es", "it", "nl"):
                name = by_lang.get(lang)
                for _ in range(3):  # "*xx" refers to another language; the data has cycles
                    if not name or not name.startswith("*"):
                        break
                    name = by_lang.get(name[1:])
                if not name or name.startswith("*"):
                    continue
                key = _country_key(name)
                if key and names.get(key, region) != region:
                    names[key] = None  # the same word names two regions
                elif key:
                    names[key] = region
        _locale_names = {k: v for k, v in names.items() if v is not None}
    return _locale_names


def _phonenumbers_locale_data() -> dict[str, dict[str, str]]:
    """``phonenumbers.geodata.locale.LOCALE_DATA``, loaded from its file alone: importing it
    the usual way runs ``phonenumbers.geodata`` first, which loads every prefix's place names
    (a third of a second) that nothing here reads."""
    path = Path(phonenumbers.__file__).parent / "geodata" / "locale.py"
    spec = importlib.util.spec_from_file_location("phonenumbers.geodata.locale", path)
    if spec is None or spec.loader is None or not path.exists():  # pragma: no cover - a slim install
        return {}
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # its one import is phonenumbers.util, already loaded
    return module.LOCALE_DATA


@lru_cache(maxsize=4096)
def country_of(text: str) -> str | None:
    """ISO2 of present text, None when unknown; cached because a batch repeats few countries."""
    if len(text) in (2, 3) and text.isascii() and text.isalpha():
        upper = text.upper()
        if upper in ISO2:
            return upper
        if upper in ISO3:
            return ISO3[upper]
    key = _country_key(text)
    if not key:
        return None
    found = _COUNTRY_ALIASES.get(key)
    if found is None:
        compact = key.replace(" ", "")
        if len(compact) in (2, 3) and compact.isascii():  # "U.S.A.", "D E"
            upper = compact.upper()
            found = _COUNTRY_ALIASES.get(compact) or (upper if upper in ISO2 else ISO3.get(upper))
    if found is None:
        library = _library_country_names()
        found = library.get(key) or library.get(key.replace(" ", ""))
    if found is None:
        found = _localised_country_names().get(key)
    if found is None:
        found = _from_parts(text)
    return found


#: An ISO 3166-2 subdivision code ("DE-BY", "US-CA", "CN-11"): its country is the first part.
_SUBDIVISION = re.compile(r"([A-Za-z]{2})-[A-Za-z0-9]{1,3}")
_PARTS = re.compile(r"[()\[\]/,;|]+|\s+-\s+")


def _from_parts(text: str) -> str | None:
    """A country written with its code or a second name beside it ("Japan (JP)", "Deutschland
    / Germany", "CN - China"), or a subdivision code ("DE-BY"): the country every part names;
    None when a part is unknown ("Korea (North)" is not Korea) or names another country."""
    whole = _SUBDIVISION.fullmatch(text.strip())
    if whole:
        upper = whole.group(1).upper()
        return upper if upper in ISO2 else None
    parts = [p.strip() for p in _PARTS.split(text) if p.strip()]
    if len(parts) < 2:
        return None
    named = {country_of(p) for p in parts}
    return named.pop() if len(named) == 1 else None


def normalise_country(value: str | None) -> str | None:
    """ISO 3166-1 alpha-2 code of a country code (ISO2/ISO3) or a common name; None if absent."""
    text = text_of(value)
    if text is None:
        return None
    found = country_of(text)
    if found is None:
        raise NormalisationError("country", text, "not a known country")
    return found
