"""Company names reduced to the key the matcher blocks and scores on.

The same company is typed as "Müller Bau GmbH", "MÜLLER BAU G.m.b.H." and "Müller-Bau": the
key must be equal for all of them, so it is the folded name (see :mod:`.text`) with the legal
form removed. The legal form is returned separately, because "Acme GmbH" and "Acme Inc." are
often different companies and the scorer wants to know.

Decisions (see also the comments on the tables below)
-----------------------------------------------------
* German transliterations are NOT rewritten: ``"Mueller"`` keeps its ``ue`` and therefore
  differs from ``"Müller"`` (-> ``"muller"``); the fuzzy scorer, not the key, bridges that gap.
* ``&`` becomes ``and``; ``und`` / ``et`` are left alone. A leading English ``the`` is
  dropped ("The Acme Company" is "Acme Co."; with it, the extra word made them a group's two
  companies).
* Legal forms (tables ``_LEGAL_FORMS_*``) are removed from the end of the name repeatedly, from
  the start when the form is used as a prefix (French ``SARL X``, ``株式会社X``), and, for forms
  that are unambiguous, anywhere after the first word (``"Siemens AG Österreich"``). Short or
  ambiguous words (``co``, ``company``, ``sa``, ``se``, ``kg``, ``limited``, ``corporation`` …)
  are only removed at the end; ``ag`` also after the first word but never as the first word
  (``"AG Barr plc"`` keeps its initials). If the name consists of nothing but legal forms,
  nothing is removed and ``legal_form`` is ``None`` (the code names what was *removed*). When
  several forms are removed, ``legal_form`` is the one nearest the end of the name
  (``"Co., Ltd."`` is one form, ``ltd``; ``"GmbH & Co. KG"`` is one form, ``gmbh_co_kg``).
* A mistyped legal form at the very end ("GbmH", "GmbHH", "Ltdd", "SARLL") counts as that form,
  for the few forms whose one-edit neighbours are no words (see ``_TYPO_FORMS``); otherwise the
  typo would stay in the key and split the company from its correctly typed records.
* ``集团`` (group) is KEPT in the key: ``"海尔集团有限公司"`` -> ``"海尔集团"``; a group holding is
  a different legal entity from its subsidiaries, like "Group" in English names (also kept).
"""

from __future__ import annotations

import re

from hub.master.normalise.errors import NormalisationError
from hub.master.normalise.text import fold_tokens, join_tokens, nfkc, text_of

# Phrases are written as they look after folding ("&" -> "and", accents and dots gone).
# Removed only at the end of the name (repeatedly).
_LEGAL_FORMS_END: dict[str, str] = {
    # English
    "co": "co",
    "company": "co",
    "and co": "co",
    "and company": "co",
    "und co": "co",
    "u co": "co",
    "and cie": "co",
    "cie": "co",
    "corporation": "corp",
    "limited": "ltd",
    "co ltd": "ltd",
    "co limited": "ltd",
    "company limited": "ltd",
    "company ltd": "ltd",
    "corp ltd": "ltd",
    "incorporated": "inc",
    "co inc": "inc",
    "limited liability company": "llc",
    "llp": "llp",
    "limited liability partnership": "llp",
    "lp": "lp",
    "public limited company": "plc",
    "pty ltd": "pty_ltd",
    "pty limited": "pty_ltd",
    "proprietary limited": "pty_ltd",
    # German
    "ag": "ag",
    "aktiengesellschaft": "ag",
    "kg": "kg",
    "kommanditgesellschaft": "kg",
    "co kg": "kg",
    "and co kg": "kg",
    "und co kg": "kg",
    "u co kg": "kg",
    "ohg": "ohg",
    "offene handelsgesellschaft": "ohg",
    "gbr": "gbr",
    "ev": "ev",
    "eingetragener verein": "ev",
    "eg": "eg",
    "ug": "ug",
    "ug haftungsbeschrankt": "ug",
    "ug haftungsbeschrankt and co kg": "ug_co_kg",
    "ug and co kg": "ug_co_kg",
    "gesellschaft mit beschrankter haftung": "gmbh",
    "gesellschaft mbh": "gmbh",
    "se": "se",
    "societas europaea": "se",
    # French
    "sa": "sa",
    "societe anonyme": "sa",
    "sas": "sas",
    "sasu": "sas",
    "societe par actions simplifiee": "sas",
    "sa rl": "sarl",
    "societe a responsabilite limitee": "sarl",
    "eurl": "eurl",
    "snc": "snc",
    "sa de cv": "sa",
    # Dutch
    "besloten vennootschap": "bv",
    "naamloze vennootschap": "nv",
    "vof": "vof",
    "cv": "cv",
    # Japanese (romanised) and Chinese "公司" on its own
    "kabushiki kaisha": "kk",
    "kabushiki gaisha": "kk",
    "yugen kaisha": "yk",
    "godo kaisha": "gk",
    "公司": "co",
}
# Unambiguous forms: removed at the end, at the start, and anywhere after the first word.
_LEGAL_FORMS_ANY: dict[str, str] = {
    "gmbh": "gmbh",
    "ggmbh": "gmbh",
    "mbh": "gmbh",
    "gmbh and co kg": "gmbh_co_kg",
    "gmbh und co kg": "gmbh_co_kg",
    "gmbh u co kg": "gmbh_co_kg",
    "gmbh co kg": "gmbh_co_kg",
    "gmbh and co kgaa": "gmbh_co_kgaa",
    "gmbh and co ohg": "gmbh_co_ohg",
    "ag and co kg": "ag_co_kg",
    "ag and co kgaa": "ag_co_kgaa",
    "se and co kg": "se_co_kg",
    "kgaa": "kgaa",
    "inc": "inc",
    "llc": "llc",
    "ltd": "ltd",
    "plc": "plc",
    "corp": "corp",
    "bv": "bv",
    "nv": "nv",
    "sarl": "sarl",
    "kk": "kk",
    # CJK forms arrive as separate tokens (see _CJK_FORM_RE)
    "株式会社": "kk",
    "有限会社": "yk",
    "合同会社": "gk",
    "有限公司": "cn_ltd",
    "有限责任公司": "cn_ltd",
    "有限責任公司": "cn_ltd",
    "股份有限公司": "cn_jsc",
    "주식회사": "kr_jsc",
    "유한회사": "kr_ltd",
}
# Forms also used as a prefix ("SARL Dupont", "株式会社トヨタ") besides _LEGAL_FORMS_ANY.
_LEGAL_FORMS_PREFIX: dict[str, str] = {
    "sa": "sa",
    "sas": "sas",
    "sasu": "sas",
    "sarl": "sarl",
    "eurl": "eurl",
    "snc": "snc",
}
# Removed at the end and after the first word ("Siemens AG Österreich") but never at the
# start, where "AG" is more likely initials ("AG Barr plc").
_LEGAL_FORMS_NOT_FIRST: dict[str, str] = {"ag": "ag"}


def _tuple_table(table: dict[str, str]) -> dict[tuple[str, ...], str]:
    return {tuple(k.split()): v for k, v in table.items()}


_SUFFIX = _tuple_table({**_LEGAL_FORMS_END, **_LEGAL_FORMS_ANY})
_PREFIX = _tuple_table({**_LEGAL_FORMS_ANY, **_LEGAL_FORMS_PREFIX})
_ANYWHERE = _tuple_table({**_LEGAL_FORMS_ANY, **_LEGAL_FORMS_NOT_FIRST})
_SUFFIX_LAST = {k[-1] for k in _SUFFIX}
_PREFIX_FIRST = {k[0] for k in _PREFIX}
_ANYWHERE_FIRST = {k[0] for k in _ANYWHERE}
_MAX_FORM_LEN = max(len(k) for k in _SUFFIX)

# Legal forms whose typos are recognised as the last word of a name: sales staff type "GbmH",
# "GmbHH", "GkbH", "Ltdd", "LLtd", "SARLL". Forms with words one edit away ("corp"/"core",
# "inc"/"ink") are deliberately absent.
_TYPO_TOLERANT_FORMS = ("gmbh", "ltd", "sarl", "llc", "plc")
_VOWELS = frozenset("aeiouy")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _one_edit(word: str) -> set[str]:
    """Lower-case ASCII words one insertion, deletion, substitution or adjacent transposition
    away from ``word``."""
    out = {word[:i] + word[i + 1 :] for i in range(len(word))}
    out |= {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
    for i in range(len(word) + 1):
        out |= {word[:i] + c + word[i:] for c in _LETTERS}
        if i < len(word):
            out |= {word[:i] + c + word[i + 1 :] for c in _LETTERS}
    return out


def _typo_table() -> dict[str, str]:
    """Mistyped form -> the form as spelt in the tables.

    A typo keeps the form's first letter, has at least 3 letters, is one edit from exactly one
    form and is no legal form (nor part of one) itself. Words and acronyms one edit from these
    short forms are common in names, so two more rules keep them out: a typo has the form's
    vowels and no others ("led"/"lid" of ltd, "luc" of llc, "pic" of plc, "sara" of sarl), and
    a 3-letter typo is the form's own letters swapped ("ldt"), never another letter ("lcd",
    "pvc", "pwc", "sar", "sal").
    """
    known = _SUFFIX_LAST | _PREFIX_FIRST | _ANYWHERE_FIRST
    found: dict[str, str | None] = {}
    for form in _TYPO_TOLERANT_FORMS:
        letters = sorted(form)
        vowels = [c for c in form if c in _VOWELS]
        for typo in _one_edit(form):
            if (
                typo[0] != form[0]
                or len(typo) < 3
                or typo in known
                or (len(typo) == 3 and sorted(typo) != letters)
                or [c for c in typo if c in _VOWELS] != vowels
            ):
                continue
            found[typo] = form if found.get(typo, form) == form else None  # None: ambiguous
    return {typo: form for typo, form in found.items() if form is not None}


_TYPO_FORMS = _typo_table()

# CJK legal forms are affixes without word boundaries: cut them out as separate tokens before
# punctuation is removed (so "(株)" is still recognisable). Longest alternatives first.
_CJK_FORM_CANON = {"(株)": "株式会社", "(有)": "有限会社", "(同)": "合同会社", "(주)": "주식회사", "(유)": "유한회사"}
_CJK_FORM_RE = re.compile(
    r"\(株\)|\(有\)|\(同\)|\(주\)|\(유\)|株式会社|有限会社|合同会社|股份有限公司|有限责任公司"
    r"|有限責任公司|有限公司|주식회사|유한회사|(?<![分总總限])公司(?=\W*$)"
)


def _cjk_form_repl(m: re.Match[str]) -> str:
    found = m.group()
    return f" {_CJK_FORM_CANON.get(found, found)} "


# What exports write into the name field beside the name: the company's state in brackets
# ("(in liquidation)", "i.L.", "(do not use)": the record is still that company's), a
# recipient ("c/o …", "Attn: …", "z. Hd. …"), a trade name after "dba" / "t/a" (the legal
# name is before it) or a department after a dash ("- Accounts Payable"). Left in, the extra
# words read as another company of the same group (level ``differs``).
_STATES = (
    r"in liquidation|in liq|in administration|in receivership|in insolvenz|in liquidatie"
    r"|en liquidation|dormant|inactive|inaktiv|inactif|do not use|dont use|nicht verwenden|closed"
    r"|geschlossen|deleted|gel(?:ö|o|oe)scht|duplicate|dublette|old|alt"
)
_DEPARTMENTS = (
    r"accounts(?: payable| receivable)?|a/?p|billing|invoic(?:es|ing)|finance|purchasing"
    r"|procurement|einkauf|buchhaltung|rechnungswesen|comptabilit[ée]|facturation"
)
_ANNOTATION_RE = re.compile(
    rf"\s*[(\[]\s*(?:{_STATES})\s*[)\]]"  # anywhere: "Acme Ltd (in liquidation)"
    rf"|\s+i\.\s*l\.?\s*$"  # "Acme GmbH i.L."
    rf"|\s+(?:c/o|attn\b\.?:?|attention:|z\.\s*hd?\.?)\s.*$"
    rf"|\s+(?:dba|d/b/a|t/a|trading as)\s.*$"
    rf"|\s+[-–—]\s+(?:{_DEPARTMENTS})\s*$",
    re.IGNORECASE,
)

#: The words of business names people abbreviate or inflect, each with its abbreviations, as
#: one form ("Acme Intl Mfg" is "Acme International Manufacturing"): only words whose
#: abbreviations stand for nothing else in a company name. A one-word name keeps its word.
_WORD_FORMS: dict[str, str] = {
    form: canonical
    for canonical, forms in {
        "international": ("intl", "internat"),  # "Int'l" folds to "intl"
        "manufacturing": ("mfg", "manuf", "manufact"),
        "industries": ("ind", "inds", "indus", "industry", "industrial"),
        "technology": ("tech", "techn", "technologies", "technol"),
        "engineering": ("eng", "engg", "engr", "engin"),
        "systems": ("sys", "syst", "system"),
        "services": ("svcs", "svc", "srvcs", "serv", "servs", "service"),
        "distribution": ("dist", "distr", "distrib", "distributors", "distributor"),
        "brothers": ("bros",),
        "holdings": ("hldgs", "hldg", "holding"),
        "electronics": ("electr", "electronic"),
        "logistics": ("logist", "logistic"),
        "equipment": ("equip", "eqpt"),
        "construction": ("constr", "const"),
        "precision": ("prec",),
        "automation": ("autom",),
        "associates": ("assoc", "assocs"),
        "management": ("mgmt", "mgt"),
        "national": ("natl",),
        "products": ("prods",),
        "elektrotechnik": ("elektrotech",),
    }.items()
    for form in (canonical, *forms)
}


def _may_be_annotated(folded: str) -> bool:
    """Whether ``folded`` holds a string every annotation holds: most names hold none, and
    the expression costs more than the rest of the name's normalisation (an ``or`` of
    substring tests is three times faster than ``any()`` over a tuple of them)."""
    return (
        "(" in folded
        or "[" in folded
        or "/" in folded
        or " - " in folded
        or " i." in folded
        or "att" in folded
        or " z." in folded
        or "dba " in folded
        or "trading as" in folded
        or " – " in folded
        or " — " in folded
    )


# Whole names that mean "no name" (compared after folding, before legal forms are removed).
_PLACEHOLDER_NAMES = frozenset(
    {
        "na",
        "n a",
        "none",
        "null",
        "nil",
        "nan",
        "unknown",
        "unbekannt",
        "inconnu",
        "test",
        "tbd",
        "tba",
        "x",
        "xx",
        "xxx",
        "xxxx",
        "dummy",
        "keine angabe",
        "k a",
        "not available",
        "不明",
        "なし",
        "無し",
        "未定",
        "无",
        "未知",
        "テスト",
        "测试",
    }
)
_PLACEHOLDER_MAX_WORDS = max(len(p.split()) for p in _PLACEHOLDER_NAMES)


def _strip_legal_forms(tokens: list[str]) -> tuple[list[str], str | None]:
    start, end = 0, len(tokens)
    legal: str | None = None
    # 1. end, repeatedly, longest phrase first
    while end > start and tokens[end - 1] in _SUFFIX_LAST:
        for n in range(min(_MAX_FORM_LEN, end - start), 0, -1):
            code = _SUFFIX.get(tuple(tokens[end - n : end]))
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
            code = _PREFIX.get(tuple(tokens[start : start + n]))
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
                code = _ANYWHERE.get(tuple(tokens[i : i + n]))
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
    text = text_of(value)
    if text is None:
        return None
    return name_of(text)


def name_of(text: str) -> tuple[str, str, tuple[str, ...], str | None]:
    """:func:`normalise_name` of text that is present (stripped, not empty)."""
    s = nfkc(text)
    display = " ".join(s.split())
    folded = s.casefold()
    if " " in folded and _may_be_annotated(folded):
        folded = _ANNOTATION_RE.sub("", folded) or folded
    ascii_only = folded.isascii()
    if not ascii_only:
        folded = _CJK_FORM_RE.sub(_cjk_form_repl, folded)
    tokens = fold_tokens(folded)
    if not tokens or (len(tokens) <= _PLACEHOLDER_MAX_WORDS and " ".join(tokens) in _PLACEHOLDER_NAMES):
        raise NormalisationError("name", text, "no usable name")
    form = _TYPO_FORMS.get(tokens[-1]) if len(tokens) > 1 else None
    if form is None:
        kept, legal = _strip_legal_forms(tokens)
    else:
        kept, legal = _strip_legal_forms([*tokens[:-1], form])
        if legal is None:  # nothing but legal forms: keep the name as typed
            kept = tokens
    if len(kept) > 1 and kept[0] == "the":  # "The Acme Company" is "Acme Co."
        kept = kept[1:]
    if len(kept) > 1:
        kept = [_WORD_FORMS.get(t, t) for t in kept]
    if ascii_only:  # no CJK gaps to close: the kept tokens are the key's words
        return display, " ".join(kept), tuple(kept), legal
    key = join_tokens(kept, ascii_only)
    return display, key, tuple(key.split()), legal
