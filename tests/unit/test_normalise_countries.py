"""Unit tests for hub.master.normalise: countries.

Valid tax ids are the examples from python-stdnum's own doctests, so the checksums are real.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from hub.master.normalise import (
    NormalisationError,
    countries,
    normalise_country,
)

# --------------------------------------------------------------------------------------------
# Countries
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "iso2"),
    [
        ("DE", "DE"),
        ("de", "DE"),
        ("DEU", "DE"),
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("ドイツ", "DE"),
        ("德国", "DE"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("GBR", "GB"),
        ("Vereinigtes Königreich", "GB"),
        ("英国", "GB"),
        ("イギリス", "GB"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("United States", "US"),
        ("United States of America", "US"),
        ("アメリカ", "US"),
        ("美国", "US"),
        ("China", "CN"),
        ("中国", "CN"),
        ("PRC", "CN"),
        ("中华人民共和国", "CN"),
        ("CHN", "CN"),
        ("Japan", "JP"),
        ("日本", "JP"),
        ("JPN", "JP"),
        ("France", "FR"),
        ("Frankreich", "FR"),
        ("Netherlands", "NL"),
        ("The Netherlands", "NL"),
        ("Netherlands, The", "NL"),
        ("Niederlande", "NL"),
        ("Holland", "NL"),
        ("Switzerland", "CH"),
        ("Schweiz", "CH"),
        ("CHE", "CH"),
        ("Austria", "AT"),
        ("Österreich", "AT"),
        ("Osterreich", "AT"),
        ("Italy", "IT"),
        ("Spain", "ES"),
        ("España", "ES"),
        ("Korea", "KR"),
        ("South Korea", "KR"),
        ("韓国", "KR"),
        ("대한민국", "KR"),
        ("Taiwan", "TW"),
        ("台湾", "TW"),
        ("Hong Kong", "HK"),
        ("香港", "HK"),
        ("Singapore", "SG"),
        ("シンガポール", "SG"),
        ("Brasilien", "BR"),  # any other name: from phonenumbers' localised region names
        ("EL", "GR"),  # the EU's code for Greece
        # a code or a second name beside the name, a subdivision code
        ("Japan (JP)", "JP"),
        ("Deutschland (DE)", "DE"),
        ("CN - China", "CN"),
        ("DE-BY", "DE"),
        ("US-CA", "US"),
        # own names from mappings/countries.yaml (NO quoted there: YAML reads a bare NO as false)
        ("Polska", "PL"),
        ("Norge", "NO"),
        ("Éire", "IE"),
        ("Korea (North)", "KP"),
    ],
)
def test_country(raw, iso2):
    assert normalise_country(raw) == iso2


@pytest.mark.parametrize(
    "raw",
    # a part beside a known name that is no country, or names another, is not that country
    ["Narnia", "XX", "ZZZ", "Europe", "Korea (Narnia)", "Germany / Austria", "Germany (Berlin)", "XX-YY"],
)
def test_unknown_country_raises(raw):
    with pytest.raises(NormalisationError) as err:
        normalise_country(raw)
    assert err.value.field == "country"
    assert err.value.value == raw


def test_iso_table_is_complete():
    assert len(countries.ISO2) == 249
    assert set(countries.ISO3.values()) == countries.ISO2


def test_names_in_other_languages_come_without_loading_phonenumbers_place_names():
    """French, Spanish and Dutch names come from phonenumbers' locale table; importing it the
    usual way loads every prefix's place names first (a third of a second per process)."""
    script = (
        "import sys\n"
        "from hub.master.normalise.countries import country_of\n"
        "print(country_of('Allemagne'), country_of('Alemania'), country_of('Duitsland'),"
        " 'phonenumbers.geodata' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["DE", "DE", "DE", "False"]
