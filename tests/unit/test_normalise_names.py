"""Unit tests for hub.master.normalise: business names.

Valid tax ids are the examples from python-stdnum's own doctests, so the checksums are real.
"""

from __future__ import annotations

import pytest

from hub.master.normalise import (
    NormalisationError,
    names,
    normalise_name,
)

# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key", "legal_form"),
    [
        # English
        ("ACME, Inc.", "acme", "inc"),
        ("Acme Incorporated", "acme", "inc"),
        ("Acme L.L.C.", "acme", "llc"),
        ("Acme LLC", "acme", "llc"),
        ("Britannia Trading Limited", "britannia trading", "ltd"),
        ("Britannia Trading Ltd.", "britannia trading", "ltd"),
        ("Rolls-Royce plc", "rolls royce", "plc"),
        ("Apple Corp.", "apple", "corp"),
        ("McDonald's Corporation", "mcdonalds", "corp"),
        ("Procter & Gamble Co.", "procter and gamble", "co"),
        ("The Coca-Cola Company", "coca cola", "co"),
        ("Smith & Sons Ltd", "smith and sons", "ltd"),
        ("Huawei Technologies Co., Ltd.", "huawei technology", "ltd"),
        ("HUAWEI TECHNOLOGIES CO.,LTD.", "huawei technology", "ltd"),
        ("Toyota Motor Co Ltd", "toyota motor", "ltd"),
        # German
        ("Müller Bau GmbH", "muller bau", "gmbh"),
        ("MÜLLER BAU GMBH", "muller bau", "gmbh"),
        ("Müller-Bau GmbH", "muller bau", "gmbh"),
        ("Müller GmbH & Co. KG", "muller", "gmbh_co_kg"),
        ("Müller & Co. KG", "muller", "kg"),
        ("Siemens AG", "siemens", "ag"),
        ("Siemens AG Österreich", "siemens osterreich", "ag"),
        ("Großhandel Weiß e.V.", "grosshandel weiss", "ev"),
        ("Allianz SE", "allianz", "se"),
        # "AG" at the start is initials, not a legal form
        ("AG Barr plc", "ag barr", "plc"),
        # a leading English article is no part of the name
        ("The Acme Company", "acme", "co"),
        ("THE BOEING COMPANY", "boeing", "co"),
        ("The Hague Trading B.V.", "hague trading", "bv"),
        # French and Dutch
        ("Société Générale S.A.", "societe generale", "sa"),
        ("SARL Dupont", "dupont", "sarl"),
        ("Dupont S.à r.l.", "dupont", "sarl"),
        ("Dupont SARL", "dupont", "sarl"),
        ("Koninklijke Philips N.V.", "koninklijke philips", "nv"),
        ("Shell Nederland B.V.", "shell nederland", "bv"),
        # Chinese
        ("北京华为技术有限公司", "北京华为技术", "cn_ltd"),
        ("华为技术有限责任公司", "华为技术", "cn_ltd"),
        ("华为技术股份有限公司", "华为技术", "cn_jsc"),
        ("华为技术（北京）有限公司", "华为技术北京", "cn_ltd"),
        ("海尔集团有限公司", "海尔集团", "cn_ltd"),  # 集团 (group) is kept
        ("上海贸易公司", "上海贸易", "co"),
        ("北京分公司", "北京分公司", None),  # 分公司 (branch) is no legal form
        # Japanese (prefix, suffix, abbreviations, the ㈱ ligature, half-width kana)
        ("トヨタ自動車株式会社", "トヨタ自動車", "kk"),
        ("株式会社トヨタ自動車", "トヨタ自動車", "kk"),
        ("トヨタ自動車(株)", "トヨタ自動車", "kk"),
        ("トヨタ自動車（株）", "トヨタ自動車", "kk"),
        ("トヨタ自動車㈱", "トヨタ自動車", "kk"),
        ("ﾄﾖﾀ自動車株式会社", "トヨタ自動車", "kk"),
        ("有限会社山田商店", "山田商店", "yk"),
        ("山田商店(有)", "山田商店", "yk"),
        ("合同会社ABC", "abc", "gk"),
        ("ＡＣＭＥ株式会社", "acme", "kk"),
        # Korean
        ("삼성전자 주식회사", "삼성전자", "kr_jsc"),
        ("㈜삼성전자", "삼성전자", "kr_jsc"),
    ],
)
def test_name_key_and_legal_form(raw, key, legal_form):
    _display, got_key, tokens, got_legal = normalise_name(raw)
    assert (got_key, got_legal) == (key, legal_form)
    assert tokens == tuple(key.split())


@pytest.mark.parametrize(
    ("annotated", "plain"),
    [
        ("Acme Ltd (in liquidation)", "Acme Ltd"),
        ("Acme GmbH i.L.", "Acme GmbH"),
        ("ACME LTD (DO NOT USE)", "Acme Ltd"),
        ("Müller GmbH (gelöscht)", "Müller GmbH"),
        ("Acme Ltd c/o Baker & Co", "Acme Ltd"),
        ("Acme GmbH z. Hd. Herrn Meier", "Acme GmbH"),
        ("Acme Corp Attn: Accounts Payable", "Acme Corp"),
        ("Acme Inc. dba Widget World", "Acme Inc."),
        ("Acme Ltd t/a Quick Print", "Acme Ltd"),
        ("Acme SARL - Comptabilité", "Acme SARL"),
        ("Acme Ltd - Accounts Payable", "Acme Ltd"),
    ],
)
def test_what_exports_write_beside_a_name_is_no_part_of_it(annotated, plain):
    # the extra words would otherwise read as a group's other company (level "differs")
    assert normalise_name(annotated)[1:] == normalise_name(plain)[1:]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Tech GmbH", "tech"),  # a one-word name keeps its word
        ("Old Mill Ltd", "old mill"),
        ("Alt Bau GmbH", "alt bau"),
        ("Accounts Ltd", "accounts"),
        ("Trading As Ltd", "trading as"),
    ],
)
def test_annotation_words_that_are_the_name_stay(raw, key):
    assert normalise_name(raw)[1] == key


@pytest.mark.parametrize(
    "variants",
    [
        ["ACME, Inc.", "Acme Incorporated", "ACME INC", "acme inc.", "ＡＣＭＥ　Ｉｎｃ．"],
        [
            "トヨタ自動車株式会社",
            "株式会社トヨタ自動車",
            "トヨタ自動車(株)",
            "トヨタ自動車㈱",
            "トヨタ 自動車 株式会社",
        ],
        [
            "Huawei Technologies Co., Ltd.",
            "Huawei Technologies Co Ltd",
            "HUAWEI TECHNOLOGIES LIMITED",
        ],
        ["Müller Bau GmbH", "MÜLLER BAU GMBH", "Müller  Bau  G.m.b.H."],
        ["Café Crème SARL", "CAFE CREME S.A.R.L.", "Cafe Creme"],
        # abbreviated and inflected words of business names
        ["Acme International Manufacturing Inc", "ACME INTL MFG INC", "Acme Int'l Mfg. Inc."],
        ["Northside Industries Ltd", "Northside Ind. Ltd", "Northside Industrial Ltd"],
        ["Baker Brothers Holdings Ltd", "Baker Bros. Hldgs Ltd"],
        ["Delta Technology Services GmbH", "Delta Tech. Svcs GmbH", "Delta Technologies Service GmbH"],
    ],
)
def test_name_variants_share_one_key(variants):
    keys = {normalise_name(v)[1] for v in variants}
    assert len(keys) == 1, keys


def test_transliterated_umlaut_is_not_rewritten():
    # Decision: only accents are folded (ü -> u); "ue" is not rewritten to "u".
    assert normalise_name("Müller Bau GmbH")[1] == "muller bau"
    assert normalise_name("MUELLER BAU GMBH")[1] == "mueller bau"


@pytest.mark.parametrize(
    ("raw", "display"),
    [
        ("  ACME,   Inc. ", "ACME, Inc."),
        ("ＡＣＭＥ　Ｉｎｃ．", "ACME Inc."),
        ("トヨタ自動車㈱", "トヨタ自動車(株)"),
        ("Müller\tBau\nGmbH", "Müller Bau GmbH"),
    ],
)
def test_name_display_is_nfkc_with_case_kept(raw, display):
    assert normalise_name(raw)[0] == display


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("GmbH", "gmbh"),
        ("Co., Ltd.", "co ltd"),
        ("株式会社", "株式会社"),
        ("Limited Inc", "limited inc"),
    ],
)
def test_name_that_is_only_a_legal_form_is_kept(raw, key):
    _display, got_key, tokens, legal_form = normalise_name(raw)
    assert got_key == key
    assert tokens
    assert legal_form is None  # nothing was removed


@pytest.mark.parametrize("raw", ["---", "n/a", "N/A", "?", "unknown", "Unknown", "test", "N.A.", "- / -", "xxx"])
def test_name_without_usable_content_raises(raw):
    with pytest.raises(NormalisationError) as err:
        normalise_name(raw)
    assert (err.value.field, err.value.value, err.value.reason) == ("name", raw, "no usable name")


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000"])
def test_absent_name_is_none(raw):
    assert normalise_name(raw) is None


def test_name_keeps_digits_and_names_with_placeholder_words():
    assert normalise_name("1&1 Telecom GmbH")[1] == "1 and 1 telecom"
    assert normalise_name("3M Company")[1] == "3m"
    assert normalise_name("Test GmbH")[1] == "test"  # only a bare placeholder is rejected


@pytest.mark.parametrize(
    ("raw", "key", "legal_form"),
    [
        ("Müller Bau GbmH", "muller bau", "gmbh"),  # swapped letters
        ("Müller Bau GmbHH", "muller bau", "gmbh"),  # extra letter
        ("Müller Bau GkbH", "muller bau", "gmbh"),  # wrong letter
        ("Müller Bau Gmbh.", "muller bau", "gmbh"),  # no typo at all after folding
        ("Britannia Trading Ltdd", "britannia trading", "ltd"),
        ("Britannia Trading LLtd", "britannia trading", "ltd"),
        ("Britannia Trading Ldt.", "britannia trading", "ltd"),
        ("Café Crème SARLL", "cafe creme", "sarl"),
        ("Café Crème Srarl", "cafe creme", "sarl"),
        ("Acme Llcc", "acme", "llc"),
        ("Rolls-Royce Plcc", "rolls royce", "plc"),
        # the corrected form joins the forms before it, as if typed right
        ("Huawei Technologies Co., Ltdd.", "huawei technology", "ltd"),
    ],
)
def test_name_typo_in_trailing_legal_form_counts_as_that_form(raw, key, legal_form):
    _display, got_key, tokens, got_legal = normalise_name(raw)
    assert (got_key, got_legal) == (key, legal_form)
    assert tokens == tuple(key.split())


@pytest.mark.parametrize(
    ("raw", "key", "legal_form"),
    [
        ("Apple Core", "apple core", None),  # "corp" is no typo-tolerant form
        ("Mill", "mill", None),
        ("Acme Mill", "acme mill", None),
        ("Sarlat Bois", "sarlat bois", None),  # two edits from sarl, and not the last word
        ("Ink Inc", "ink", "inc"),
        ("Gbmh", "gbmh", None),  # the only word is never taken for a legal form
        ("GmbHH Holding", "gmbhh holdings", None),  # only the last word
        ("Co., Ltdd.", "co ltdd", None),  # nothing but legal forms: kept as typed
        # words and acronyms one edit from a form
        ("Osram LED", "osram led", None),
        ("Chez Luc", "chez luc", None),
        ("Hotel du Pic", "hotel du pic", None),
        ("Salon Sara", "salon sara", None),
        ("Acme PVC", "acme pvc", None),
        ("Sharp LCD", "sharp lcd", None),
        ("Bank of China Hong Kong SAR", "bank of china hong kong sar", None),
        ("Empresa Ltda", "empresa ltda", None),
    ],
)
def test_name_words_near_a_legal_form_are_kept(raw, key, legal_form):
    _display, got_key, _tokens, got_legal = normalise_name(raw)
    assert (got_key, got_legal) == (key, legal_form)


def test_legal_form_typos_are_no_legal_forms_and_unambiguous():
    assert set(names._TYPO_FORMS.values()) == {"gmbh", "ltd", "sarl", "llc", "plc"}
    for typo in names._TYPO_FORMS:
        assert normalise_name(f"Acme {typo}")[1:] == ("acme", ("acme",), names._TYPO_FORMS[typo])
        assert (typo,) not in names._SUFFIX
        assert (typo,) not in names._PREFIX
