"""Unit tests for hub.master.normalise: postcodes, streets and cities.

Valid tax ids are the examples from python-stdnum's own doctests, so the checksums are real.
"""

from __future__ import annotations

import pytest

from hub.master import normalise as N
from hub.master.normalise import (
    NormalisationError,
    normalise_postcode,
)

# --------------------------------------------------------------------------------------------
# Postcodes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "country", "postcode"),
    [
        ("10115", "DE", "10115"),
        ("D-10115", "DE", "10115"),
        ("01067", "DE", "01067"),
        (1067, "DE", "01067"),  # came as a number from a spreadsheet
        ("SW1A 1AA", "GB", "SW1A1AA"),
        ("sw1a1aa", "GB", "SW1A1AA"),
        ("EC1A 1BB", "GB", "EC1A1BB"),
        ("M1 1AE", "GB", "M11AE"),
        ("90210", "US", "90210"),
        ("90210-1234", "US", "90210"),
        ("100-0005", "JP", "1000005"),
        ("〒100-0005", "JP", "1000005"),
        ("１００－０００５", "JP", "1000005"),
        ("1000005", "JP", "1000005"),
        ("100000", "CN", "100000"),
        ("75008", "FR", "75008"),
        ("1012 AB", "NL", "1012AB"),
        ("1012ab", "NL", "1012AB"),
        ("A-1010", "AT", "1010"),
        ("8001", "CH", "8001"),
        ("K1A 0B1", "CA", "K1A0B1"),  # other countries: compact, upper case
        ("K1A 0B1", None, "K1A0B1"),
    ],
)
def test_postcode(raw, country, postcode):
    assert normalise_postcode(raw, country) == postcode


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("1011", "DE"),
        ("101155", "DE"),
        ("SW1A", "GB"),
        ("12345", "GB"),
        ("9021", "US"),
        ("100-005", "JP"),
        ("10000", "CN"),
        ("0123 AB", "NL"),
        ("1012", "NL"),
        ("-", None),
    ],
)
def test_bad_postcode_raises(raw, country):
    with pytest.raises(NormalisationError) as err:
        normalise_postcode(raw, country)
    assert (err.value.field, err.value.value) == ("postcode", raw)
    if country:
        assert country in err.value.reason


# --------------------------------------------------------------------------------------------
# Street and city
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "street"),
    [
        ("Hauptstr. 5", "hauptstrasse 5"),
        ("Hauptstraße 5", "hauptstrasse 5"),
        ("HAUPTSTRASSE 5", "hauptstrasse 5"),
        ("Berliner Str. 12a", "berliner strasse 12a"),
        ("Berliner Straße 12a", "berliner strasse 12a"),
        ("Konrad-Adenauer-Straße 1", "konrad adenauer strasse 1"),
        ("123 Main St.", "123 main street"),
        ("123 Main Street", "123 main street"),
        ("12 Abbey Rd", "12 abbey road"),
        ("5th Ave.", "5th avenue"),
        ("St. James St", "st james street"),  # the leading St. is Saint
        ("Rue de l'Église 3", "rue de leglise 3"),
        ("東京都千代田区丸の内1-1-1", "東京都千代田区丸の内1 1 1"),
        ("北京市 海淀区 中关村大街 1号", "北京市海淀区中关村大街 1号"),
    ],
)
def test_street(raw, street):
    assert N.normalise_street(raw) == street


@pytest.mark.parametrize(
    ("raw", "city"),
    [
        ("München", "munchen"),
        ("MÜNCHEN", "munchen"),
        ("Frankfurt am Main", "frankfurt am main"),
        ("Zürich", "zurich"),
        ("São Paulo", "sao paulo"),
        ("東京", "東京"),
        ("北京 市", "北京市"),
        ("ＴＯＫＹＯ", "tokyo"),
    ],
)
def test_city(raw, city):
    assert N.normalise_city(raw) == city
