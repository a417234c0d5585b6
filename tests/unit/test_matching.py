"""The matching engine on records a user would recognise: what links, what waits, what stays apart."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hub.master.batch import match_batch, match_file
from hub.master.keys import blocking_keys
from hub.master.matching import Candidate, Matcher
from hub.master.normalise import normalise_customer
from hub.master.rules import match_rules
from hub.settings import BUNDLED_MAPPINGS


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(match_rules(BUNDLED_MAPPINGS))


def rec(**fields: str):
    return normalise_customer(fields)


def decide(matcher: Matcher, new, *existing):
    return matcher.decide(new, [Candidate(i, 100 + i, r) for i, r in enumerate(existing)])


def test_same_company_typed_differently_links(matcher):
    erp = rec(
        name="Müller Bau GmbH",
        tax_id="DE136695976",
        phone="+49 30 1234567",
        city="Berlin",
        postcode="10115",
        country="DE",
        email="info@mueller-bau.de",
    )
    crm = rec(name="MULLER BAU", phone="030 1234567", city="Berlin", country="DE", email="k.schulz@mueller-bau.de")
    decision = decide(matcher, crm, erp)
    assert decision.outcome == "linked" and decision.golden_id == 100
    levels = {e.field: e.level for e in decision.best[0].evidence}
    assert levels == {
        "name": "exact",
        "phone": "agree",
        "city": "agree",
        "country": "agree",
        "email_domain": "agree",
        "email": "disagree",
    }


def test_same_name_other_tax_id_never_links(matcher):
    hamburg = rec(name="Schmidt Logistik GmbH", tax_id="DE129273398", city="Hamburg", country="DE")
    munich = rec(name="Schmidt Logistik GmbH", tax_id="DE115235681", city="München", country="DE")
    assert decide(matcher, munich, hamburg).outcome == "new"


def test_branches_sharing_a_domain_stay_apart(matcher):
    health = rec(name="Siemens Healthcare GmbH", tax_id="DE136695976", email="info@siemens.com", country="DE")
    energy = rec(name="Siemens Energy AG", tax_id="DE129273398", email="info@siemens.com", country="DE")
    assert decide(matcher, energy, health).outcome == "new"


def test_free_mail_is_no_evidence_of_a_company(matcher):
    a = rec(name="Weber Elektro", email="weber@gmail.com", country="DE")
    b = rec(name="Wagner Sanitär", email="wagner@gmail.com", country="DE")
    _score, evidence = matcher.compare(a, b)
    assert "email_domain" not in {e.field for e in evidence}


@pytest.mark.parametrize(
    "spelling", ["株式会社トヨタ自動車", "トヨタ自動車(株)", "トヨタ自動車㈱", "ﾄﾖﾀ自動車株式会社"]
)
def test_japanese_legal_form_variants_share_keys_and_name(matcher, spelling):
    legal = rec(name="トヨタ自動車株式会社", phone="+81 3 1234 5678", country="JP")
    other = rec(name=spelling, phone="03-1234-5678", country="JP")
    assert set(blocking_keys(legal)) & set(blocking_keys(other))
    assert decide(matcher, other, legal).outcome == "linked"


def test_chinese_name_without_region_prefix_meets_its_full_name(matcher):
    full = rec(name="上海明华电子科技有限公司", phone="+86 21 6123 4567", country="CN")
    short = rec(name="明华电子科技有限公司", phone="021 6123 4567", country="CN")
    assert set(blocking_keys(full)) & set(blocking_keys(short))
    assert decide(matcher, short, full).outcome == "linked"


def test_name_and_city_alone_wait_for_a_steward(matcher):
    erp = rec(name="Acme Industries Inc.", city="New York", country="US", phone="+1 212 555 0142")
    crm = rec(name="Acme Industrie", city="New York", country="US")
    assert decide(matcher, crm, erp).outcome == "review"


def test_batch_clusters_and_keeps_unusable_rows(tmp_path: Path):
    rows = [
        ("erp", "1", "Müller Bau GmbH", "DE136695976", "", "+49 30 1234567", "", "Berlin", "10115", "DE"),
        ("crm", "a", "MUELLER BAU", "", "", "030 1234567", "", "Berlin", "", "DE"),
        ("fin", "x", "Mueller Bau GmbH", "DE 136 695 976", "", "", "", "", "", "DE"),
        ("crm", "b", "Schmidt Logistik GmbH", "DE115235681", "", "", "", "München", "", "DE"),
        ("crm", "c", "", "", "", "", "", "", "", ""),
    ]
    source = tmp_path / "in.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["source_system", "source_id", "name", "tax_id", "email", "phone", "street", "city", "postcode", "country"]
        )
        writer.writerows(rows)
    out = tmp_path / "out.csv"
    stats = match_file(source, out, BUNDLED_MAPPINGS)
    with out.open() as handle:
        result = {(r["source_system"], r["source_id"]): r["golden_id"] for r in csv.DictReader(handle)}
    assert len(result) == 5 and stats["unusable"] == 1
    assert result[("erp", "1")] == result[("crm", "a")] == result[("fin", "x")]
    assert len({result[("erp", "1")], result[("crm", "b")], result[("crm", "c")]}) == 3


def test_a_batch_file_with_no_records_is_an_error_not_zero_customers(tmp_path):
    source = tmp_path / "empty.csv"
    source.write_text("source_system,source_id,name,tax_id,email,phone,street,city,postcode,country\n")
    with pytest.raises(ValueError, match="no customer records"):
        match_file(source, tmp_path / "out.csv", BUNDLED_MAPPINGS)
    assert not (tmp_path / "out.csv").exists()


def test_a_batch_file_is_read_by_its_header_not_by_column_positions(tmp_path):
    """Exports put columns in their own order, leave some out, end rows early, carry blank
    lines and a byte-order mark: each row is still its record."""
    source = tmp_path / "export.csv"
    source.write_text(
        "\ufeffcountry,name,source_id,tax_id,source_system,extra\n"
        "DE,Müller Bau GmbH,1,DE136695976,erp,x\n"
        "\n"
        "DE,Mueller Bau GmbH,x,DE 136 695 976,fin\n"
        "DE,Schmidt Logistik GmbH,b\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    stats = match_file(source, out, BUNDLED_MAPPINGS)
    with out.open() as handle:
        result = {(r["source_system"], r["source_id"]): r["golden_id"] for r in csv.DictReader(handle)}
    assert stats["records"] == 3 and set(result) == {("erp", "1"), ("fin", "x"), ("", "b")}
    assert result[("erp", "1")] == result[("fin", "x")] != result[("", "b")]


def test_a_batch_file_without_source_columns_is_refused_by_name(tmp_path):
    source = tmp_path / "export.csv"
    source.write_text("name,tax_id\nMüller Bau GmbH,DE136695976\n")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['source_system', 'source_id'\]"):
        match_file(source, tmp_path / "out.csv", BUNDLED_MAPPINGS)


def test_batch_and_live_engines_agree_on_labels(matcher):
    records = [
        rec(name=n, city="Berlin", country="DE", phone=p)
        for n, p in [
            ("Alpha Tech GmbH", "+49 30 111111"),
            ("ALPHA TECH", "030 111111"),
            ("Beta Bau AG", "+49 30 222222"),
        ]
    ]
    labels = match_batch(records, matcher.rules)
    assert labels[0] == labels[1] != labels[2]
