"""The forms real customer exports use (issue 17): each must normalise to what a person means.

Tax ids with scheme words, Canadian BN9/BN15, Chinese registration numbers beside the USCC,
placeholders, country spellings and invalid phones. And the matcher must draw the right
conclusion from them: the same legal entity links, a failed check digit never vetoes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.master.keys import blocking_keys
from hub.master.matching import Matcher
from hub.master.normalise import (
    NormalisationError,
    is_weak,
    normalise_country,
    normalise_customer,
    normalise_tax_id,
    tax_relation,
)
from hub.master.rules import match_rules

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


@pytest.mark.parametrize(
    ("raw", "country", "canonical"),
    [
        ("ABN 51 824 753 556", "AU", "AU51824753556"),
        ("51824753556", "AU", "AU51824753556"),
        ("ABN: 51 824 753 556", None, None),  # no country, no prefix: cannot tell (raises)
        ("AU 51 824 753 556", None, "AU51824753556"),
        ("ACN 004 085 616", "AU", "AU-ACN-004085616"),
        ("812345676", "CA", "CA812345676"),
        ("812345676RT0001", "CA", "CA812345676"),
        ("BN 812345676 RC0001", "CA", "CA812345676"),
        ("VAT DE136695976", None, "DE136695976"),
        ("VAT No. DE 136 695 976", None, "DE136695976"),
        ("USt-IdNr. DE136695976", None, "DE136695976"),
        ("USt-IdNr.: DE 136695976", None, "DE136695976"),
        ("DE-136-695-976", None, "DE136695976"),
        ("UID CHE-116.281.710 MWST", None, "CHE116281710"),
        ("UID: ATU13585627", None, "ATU13585627"),
        ("T7000012050002", None, "JP7000012050002"),
        ("T7000012050002", "JP", "JP7000012050002"),
        ("91350100M000100Y43", "CN", "CN91350100M000100Y43"),
        ("110108000000016", "CN", "CN-REG-110108000000016"),
        # company registry numbers in the tax id column: their own kind beside the VAT number
        ("Company No. 05678123", "GB", "GB-CRN-05678123"),
        ("Company No. SC123456", None, "GB-CRN-SC123456"),
        ("CRN 5678123", "GB", "GB-CRN-05678123"),  # the leading zero a spreadsheet dropped
        ("Companies House: 05678123", None, "GB-CRN-05678123"),
        ("SC123456", "GB", "GB-CRN-SC123456"),
        ("05678123", "GB", "GB-CRN-05678123"),
        ("980780684", "GB", "GB980780684"),  # nine digits: still the VAT number
        ("KvK 56781234", "NL", "NL-KVK-56781234"),
        ("KvK-nummer: 01234567", None, "NL-KVK-01234567"),
        ("Chamber of Commerce 56781234", "NL", "NL-KVK-56781234"),
        ("56781234", "NL", "NL-KVK-56781234"),
        ("004495445B01", "NL", "NL004495445B01"),
        ("KvK 123", "NL", None),  # no KvK number: a finding
    ],
)
def test_tax_ids_as_real_exports_write_them(raw, country, canonical):
    if canonical is None:
        with pytest.raises(NormalisationError):
            normalise_tax_id(raw, country)
    else:
        assert normalise_tax_id(raw, country) == canonical


@pytest.mark.parametrize(
    "placeholder",
    [
        "N/A",
        "n.a.",
        "NA",
        "TBD",
        "tba",
        "-",
        "--",
        "000000000",
        "0000",
        "999999999",
        "123456789",
        "unknown",
        "none",
        "k.A.",
    ],
)
def test_placeholder_tax_ids_are_absent_not_bad(placeholder):
    assert normalise_tax_id(placeholder, "DE") is None
    norm = normalise_customer({"name": "Acme GmbH", "tax_id": placeholder, "country": "DE"})
    assert norm.tax_id is None
    assert norm.problems == ()


def test_a_placeholder_in_any_field_is_no_value_and_no_finding():
    norm = normalise_customer(
        {"name": "Acme GmbH", "phone": "N/A", "email": "n.a.", "postcode": "-", "city": "TBD", "country": "DE"}
    )
    assert (norm.phone, norm.email, norm.postcode, norm.city) == (None, None, None, None)
    assert norm.problems == ()


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("GER", "DE"),
        ("Deutschland", "DE"),
        ("U.K.", "GB"),
        ("P.R. China", "CN"),
        ("China (PRC)", "CN"),
        ("PR China", "CN"),
        ("United States of America", "US"),
        ("中国", "CN"),
        ("中华人民共和国", "CN"),
        ("日本", "JP"),
        ("Federal Republic of Germany", "DE"),
        ("Viet Nam", "VN"),
        ("Republic of Korea", "KR"),
        ("SUI", "CH"),
        ("NED", "NL"),
        ("Kingdom of the Netherlands", "NL"),
        ("Swiss Confederation", "CH"),
    ],
)
def test_countries_as_people_write_them(written, iso):
    assert normalise_country(written) == iso


def test_an_invalid_tax_id_is_a_finding_kept_as_weak_evidence():
    norm = normalise_customer({"name": "Acme GmbH", "tax_id": "DE136695977", "country": "DE"})
    assert is_weak(norm.tax_id) and norm.tax_id.endswith("DE136695977")
    assert [(p.field, p.reason) for p in norm.problems] == [("tax_id", "check digit does not match for DE VAT number")]


def test_an_invalid_phone_is_a_finding_kept_as_digits():
    norm = normalise_customer({"name": "Acme GmbH", "phone": "+49 30 12", "country": "DE"})
    assert [p.field for p in norm.problems] == ["phone"]
    assert norm.phone == "?493012"  # compared by its digits, never shown as the golden phone
    short = normalise_customer({"name": "Acme GmbH", "phone": "12", "country": "DE"})
    assert short.phone is None  # too few digits to be evidence of anything


def test_tax_relation_compares_the_legal_entity_and_never_kinds_apart():
    abn = normalise_tax_id("ABN 51 824 753 556", "AU")
    assert tax_relation(abn, normalise_tax_id("51824753556", "AU")) == "same"
    assert tax_relation(normalise_tax_id("812345676", "CA"), normalise_tax_id("812345676RT0001", "CA")) == "same"
    usc = normalise_tax_id("91350100M000100Y43", "CN")
    reg = normalise_tax_id("110108000000016", "CN")
    assert tax_relation(usc, reg) is None  # two kinds of identifier: no evidence, no veto
    assert tax_relation("DE136695976", "DE129273398") == "different"
    assert tax_relation("?DE136695977", "DE129273398") is None  # a failed id never vetoes
    assert tax_relation("?DE136695977", "?DE136695977") == "weak"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(match_rules(MAPPINGS))


def _decide(matcher: Matcher, a: dict, b: dict) -> str:
    from hub.master.matching import Candidate

    na, nb = normalise_customer(a), normalise_customer(b)
    assert set(blocking_keys(na)) & set(blocking_keys(nb)), "the two records never meet"
    return matcher.decide(na, [Candidate(golden_id=1, source_id=1, record=nb)]).outcome


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            {"name": "Koala Freight Pty Ltd", "tax_id": "ABN 51 824 753 556", "country": "AU"},
            {"name": "Koala Freight", "tax_id": "51824753556", "country": "Australia"},
        ),
        (
            {"name": "Maple Parts Inc.", "tax_id": "812345676", "country": "CA"},
            {"name": "Maple Parts", "tax_id": "812345676RT0001", "country": "Canada"},
        ),
    ],
)
def test_one_company_written_two_ways_links(matcher, a, b):
    assert _decide(matcher, a, b) == "linked"


def test_a_failed_check_digit_does_not_veto_an_otherwise_clear_match(matcher):
    a = {
        "name": "Nordlicht Maschinenbau GmbH",
        "tax_id": "DE136695976",
        "country": "DE",
        "email": "info@nordlicht-mb.de",
        "city": "Kiel",
    }
    b = {
        "name": "Nordlicht Maschinenbau GmbH",
        "tax_id": "DE136695977",
        "country": "GER",
        "email": "info@nordlicht-mb.de",
        "city": "Kiel",
    }
    assert _decide(matcher, a, b) == "linked"


def test_a_usc_code_and_a_registration_number_are_not_a_veto(matcher):
    a = {
        "name": "厦门明华电子科技有限公司",
        "tax_id": "91350100M000100Y43",
        "country": "CN",
        "phone": "+86 592 512 3456",
    }
    b = {"name": "厦门明华电子科技有限公司", "tax_id": "110108000000016", "country": "中国", "phone": "0592 512 3456"}
    assert _decide(matcher, a, b) == "linked"


def test_a_registry_number_links_its_own_kind_and_vetoes_only_its_own_kind():
    """A KvK or Companies House number is the legal entity's, like its VAT number, but never
    compared with one: a record with the VAT number and another with the KvK number are no
    evidence either way; two different KvK numbers are two companies (sister companies of
    one group share a domain and an address, never a registry number)."""
    kvk = normalise_tax_id("KvK 56781234", "NL")
    assert tax_relation(kvk, normalise_tax_id("56781234", "NL")) == "same"
    assert tax_relation(kvk, normalise_tax_id("KvK 56781235", "NL")) == "different"
    assert tax_relation(kvk, normalise_tax_id("004495445B01", "NL")) is None
    crn = normalise_tax_id("Company No. 05678123", "GB")
    assert tax_relation(crn, normalise_tax_id("CRN 5678123", "GB")) == "same"
    assert tax_relation(crn, normalise_tax_id("Company No. SC123456", "GB")) == "different"
    assert tax_relation(crn, normalise_tax_id("GB 980 7806 84", None)) is None
    assert normalise_tax_id("CRN: n/a", "GB") is None  # a placeholder behind the register's name
    bad = normalise_customer({"name": "Acme B.V.", "tax_id": "KvK 123", "country": "NL"})
    assert bad.tax_id is None
    assert [(p.field, p.reason) for p in bad.problems] == [("tax_id", "not a valid NL KvK number (8 digits)")]
