"""Group companies and cross-script names (issue 17, item 6): what a data steward would decide.

Branches and sister companies share a domain, the HQ switchboard, sometimes the building and now
and then the parent's tax id; they are still other customers. A Chinese or Japanese legal name
in one system and the English name in another are one customer when the tax id or the e-mail
says so.
"""

from __future__ import annotations

import pytest

from hub.master.matching import Candidate, Matcher
from hub.master.normalise import normalise_customer, normalise_street, normalise_tax_id
from hub.master.rules import match_rules
from hub.settings import BUNDLED_MAPPINGS


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(match_rules(BUNDLED_MAPPINGS))


def rec(**fields: str):
    return normalise_customer(fields)


def decide(matcher: Matcher, new, *existing, golden: int | None = None):
    """``existing`` as candidates of one golden record each, or all of ``golden``."""
    return matcher.decide(
        new, [Candidate(i, golden if golden is not None else 100 + i, r) for i, r in enumerate(existing)]
    )


HQ = dict(phone="+49 30 3864735", street="Werner-Schumacher-Straße 126", city="Berlin", postcode="11715", country="DE")


def test_sister_company_in_the_same_building_on_the_same_switchboard_is_not_merged(matcher):
    parent = rec(name="Auto Hartmann GmbH", email="info@auto-hartmann.de", **HQ)
    sister = rec(name="Auto Hartmann Immobilien GmbH", email="kontakt@auto-hartmann.de", **HQ)
    decision = decide(matcher, sister, parent)
    assert decision.outcome == "review"  # a steward looks; never merged on shared site evidence
    levels = {e.field: e.level for e in decision.best[0].evidence}
    assert levels["name"] == "differs" and levels["name_conflict"] == "capped"


def test_a_record_with_the_parents_tax_id_but_its_own_name_and_address_does_not_link(matcher):
    parent = rec(
        name="Acme Industries Inc.",
        tax_id="04-3456789",
        email="info@acme.com",
        street="2460 Morgan Street",
        city="Indianapolis",
        postcode="46285",
        country="US",
    )
    sister = rec(
        name="Acme Healthcare Inc.",
        tax_id="04-3456789",
        email="ap@acme.com",
        street="8800 Kennedy Pl",
        city="Chicago",
        postcode="60601",
        country="US",
    )
    assert decide(matcher, sister, parent).outcome != "linked"


def test_same_tax_id_at_the_same_street_links_whatever_the_names(matcher):
    erp = rec(
        name="Roseford Technical Fabrication Inc.",
        tax_id="92-5999089",
        street="1300 Hall Road",
        city="Seattle",
        country="US",
    )
    crm = rec(name="Roseford Tech Fab", tax_id="925999089", street="1300 Hall Rd", city="Seattle", country="US")
    assert decide(matcher, crm, erp).outcome == "linked"


def test_a_branch_does_not_join_its_parent_through_the_parents_trade_name_record(matcher):
    parent_erp = rec(
        name="Hunter Holdings Pty Ltd",
        phone="+61 2 2891 5382",
        email="admin@hunterholdings.com.au",
        city="Newcastle",
        country="AU",
    )
    parent_crm = rec(
        name="HUNTER HOLDINGS", phone="02 2891 5382", email="o.whitaker@hunterholdings.com.au", country="AU"
    )
    branch = rec(
        name="Hunter Holdings Queensland Pty Ltd",
        phone="+61 2 2891 5382",
        email="qld@hunterholdings.com.au",
        city="Gold Coast",
        country="AU",
    )
    decision = decide(matcher, branch, parent_erp, parent_crm, golden=7)
    assert decision.outcome != "linked"
    assert "name_conflict" in {e.field for e in decision.best[0].evidence}


def test_chinese_branch_office_is_another_customer(matcher):
    head = rec(name="上海明华电子科技有限公司", phone="+86 21 6123 4567", email="info@minghua.cn", country="CN")
    branch = rec(name="上海明华电子科技有限公司北京分公司", phone="021 6123 4567", email="bj@minghua.cn", country="CN")
    assert decide(matcher, branch, head).outcome != "linked"


@pytest.mark.parametrize(
    "legal, typed",
    [
        ("星高精機株式会社", "星高精株式会社"),  # one character lost: a typo, not another entity
        ("Elektro Schreiber GmbH & Co. KG", "Elektro Schreiber GmvH & Co. KG"),  # a mistyped form
        ("上海明华电子科技有限公司", "明华电子科技（集团）有限公司"),  # region dropped, 集团 added
    ],
)
def test_typos_and_region_prefixes_are_not_other_legal_entities(matcher, legal, typed):
    one = rec(name=legal, phone="+49 561 532566", street="Humboldtstraße 82", country="DE")
    other = rec(name=typed, phone="0561 532566", street="Humboldtstraße 82", country="DE")
    assert decide(matcher, other, one).outcome == "linked"


def test_chinese_and_english_legal_names_link_on_the_tax_id(matcher):
    chinese = rec(name="上海明华电子科技有限公司", tax_id="91310115MA1H8A9C40", city="上海", country="CN")
    english = rec(
        name="Shanghai Minghua Electronic Technology Co., Ltd.",
        tax_id="91310115MA1H8A9C40",
        city="Shanghai",
        country="China (PRC)",
    )
    assert chinese.tax_id and chinese.tax_id == english.tax_id
    decision = decide(matcher, english, chinese)
    assert decision.outcome == "linked"
    assert "name" not in {e.field for e in decision.best[0].evidence}  # no script can say


def test_japanese_and_english_names_link_on_the_e_mail(matcher):
    japanese = rec(name="株式会社小金食品", email="keiri@shokin-foods.co.jp", postcode="980-7858", country="JP")
    english = rec(name="Shokin Foods Co., Ltd.", email="keiri@shokin-foods.co.jp", postcode="9807858", country="日本")
    assert decide(matcher, english, japanese).outcome == "linked"


def test_japanese_block_address_in_both_notations_is_one_street():
    assert normalise_street("宮城野区林昭町6丁目15番9号") == normalise_street("宮城野区林昭町6-15-9")
    assert normalise_street("中央区平桜町9丁目21番5号") == normalise_street("中央区平桜町９－２１－５")


@pytest.mark.parametrize(
    "raw, country, canonical",
    [
        ("UID-Nr. DE136695976", "DE", "DE136695976"),
        ("GST/HST 812345676RT0001", "CA", "CA812345676"),
        ("GST / HST No. 812345676 RT 0001", "CA", "CA812345676"),
    ],
)
def test_scheme_words_of_real_exports(raw, country, canonical):
    assert normalise_tax_id(raw, country) == canonical
