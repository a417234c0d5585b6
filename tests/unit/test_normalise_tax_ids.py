"""Unit tests for hub.master.normalise: tax ids.

Valid tax ids are the examples from python-stdnum's own doctests, so the checksums are real.
"""

from __future__ import annotations

import pytest

from hub.master.normalise import (
    NormalisationError,
    normalise_tax_id,
)

# --------------------------------------------------------------------------------------------
# Tax ids
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "country", "canonical"),
    [
        # DE (stdnum de.vat doctest)
        ("DE 136,695 976", None, "DE136695976"),
        ("136695976", "DE", "DE136695976"),
        ("DE136695976", "DE", "DE136695976"),
        ("USt-IdNr.: DE 136 695 976", None, "DE136695976"),
        # GB (gb.vat doctest); Northern Ireland XI numbers are GB VAT numbers
        ("GB 980 7806 84", None, "GB980780684"),
        ("980780684", "GB", "GB980780684"),
        ("XI 980 7806 84", None, "GB980780684"),
        # CN (cn.uscc doctest, and the example from the brief)
        ("91110000600037341L", "CN", "CN91110000600037341L"),
        ("9 1 110000 600037341L", "CN", "CN91110000600037341L"),
        ("91110000802100433B", "CN", "CN91110000802100433B"),
        ("CN91110000802100433B", None, "CN91110000802100433B"),
        # JP (jp.cn doctest); "T" + 13 digits is the invoice registration number
        ("5-8356-7825-6246", "JP", "JP5835678256246"),
        ("T5835678256246", "JP", "JP5835678256246"),
        ("5835678256246", "日本", "JP5835678256246"),
        # US (us.ein doctest)
        ("91-1144442", "US", "US911144442"),
        ("04-2103594", "US", "US042103594"),
        ("04-1234567", "USA", "US041234567"),
        ("911-14-4442", "US", "US911144442"),  # separators never matter, unlike in stdnum
        # FR, NL, AT, CH, KR, BE, GR
        ("23334175221", "FR", "FR23334175221"),
        ("FR 61 954 506 077", None, "FR61954506077"),
        ("K7399859412", "FR", "FRK7399859412"),
        # a French company's SIREN, or the SIRET of one of its establishments, is its VAT id
        ("SIREN 303 265 045", "FR", "FR40303265045"),
        ("303265045", "FR", "FR40303265045"),
        ("SIRET 303 265 045 00011", "FR", "FR40303265045"),
        ("P.IVA 00743110157", "IT", "IT00743110157"),  # Partita IVA
        ("Partita IVA: 00743110157", "IT", "IT00743110157"),
        ("004495445B01", "NL", "NL004495445B01"),
        ("NL4495445B01", None, "NL004495445B01"),
        ("AT U13585627", None, "ATU13585627"),
        ("U13585627", "AT", "ATU13585627"),
        ("CHE-100.155.212", None, "CHE100155212"),
        ("CHE-100.155.212 MWST", "CH", "CHE100155212"),
        ("100.155.212", "CH", "CHE100155212"),
        ("116-82-00276", "KR", "KR1168200276"),
        ("BE697449992", None, "BE0697449992"),
        ("EL 094259216", None, "GR094259216"),
        ("094259216", "GR", "GR094259216"),
        # a foreign VAT id on a record (an Austrian subsidiary's id in a German system)
        ("ATU13585627", "DE", "ATU13585627"),
        # countries without a scheme: compact, prefixed, unchecked
        ("123456789 MVA", "NO", "NO123456789MVA"),
        ("NO123456789MVA", None, "NO123456789MVA"),
    ],
)
def test_tax_id(raw, country, canonical):
    assert normalise_tax_id(raw, country) == canonical


@pytest.mark.parametrize(
    "canonical",
    [
        "DE136695976",
        "GB980780684",
        "CN91110000802100433B",
        "JP5835678256246",
        "US041234567",
        "CHE100155212",
        "GR094259216",
        "NO123456789MVA",
        "KR1168200276",
    ],
)
def test_tax_id_canonical_form_is_stable(canonical):
    assert normalise_tax_id(canonical) == canonical
    assert normalise_tax_id(canonical, canonical[:2]) == canonical


@pytest.mark.parametrize(
    ("raw", "country", "reason"),
    [
        ("136695978", "DE", "check digit does not match for DE VAT number"),
        ("DE 136 695 978", None, "check digit does not match for DE VAT number"),
        ("802311781", "GB", "check digit does not match for GB VAT number"),
        ("GB802311781", None, "check digit does not match for GB VAT number"),
        (
            "91110000600037341M",
            "CN",
            "check digit does not match for CN unified social credit code",
        ),
        ("2-8356-7825-6246", "JP", "check digit does not match for JP corporate number"),
        # an EIN has no check digit; stdnum checks the prefix
        ("07-1144442", "US", "invalid part (e.g. an unknown prefix) for US EIN"),
        ("91-114444", "US", "wrong format for US EIN"),
        ("84 323 140 391", "FR", "check digit does not match for FR VAT number"),
        ("123456789B90", "NL", "check digit does not match for NL VAT number"),
        ("U13585626", "AT", "check digit does not match for AT VAT number"),
        ("ATU13585626", "DE", "check digit does not match for AT VAT number"),
        ("CHE-100.155.213", "CH", "check digit does not match for CH UID"),
        ("12345", "CN", "wrong length for CN unified social credit code"),
        ("181/815/08155", "DE", "a German Steuernummer, not a DE VAT number (USt-IdNr.)"),
        ("136695976", None, "cannot tell the country of tax id"),
    ],
)
def test_bad_tax_id_raises_naming_the_scheme(raw, country, reason):
    with pytest.raises(NormalisationError) as err:
        normalise_tax_id(raw, country)
    assert (err.value.field, err.value.value, err.value.reason) == ("tax_id", raw, reason)
    assert str(err.value) == f"tax_id {raw!r}: {reason}"
