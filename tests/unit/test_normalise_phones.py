"""Unit tests for hub.master.normalise: phone numbers.

Valid tax ids are the examples from python-stdnum's own doctests, so the checksums are real.
"""

from __future__ import annotations

import phonenumbers
import pytest

from hub.master.normalise import (
    NormalisationError,
    normalise_phone,
    phones,
)

# --------------------------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------------------------

PHONES = [
    ("+49 (0)30 1234567", None, "+49301234567"),
    ("+49 (0)30 1234567", "DE", "+49301234567"),
    ("030 1234567", "DE", "+49301234567"),
    ("030/123 45 67", "DE", "+49301234567"),
    ("0049 30 1234567", "DE", "+49301234567"),
    ("0049 30 1234567", "US", "+49301234567"),  # 00 is read as the international prefix
    ("0171 1234567", "DE", "+491711234567"),
    ("030 1234567 x123", "DE", "+49301234567"),
    ("030 1234567 ext. 12", "DE", "+49301234567"),
    ("030 1234567 Durchwahl 5", "DE", "+49301234567"),
    ("(03) 1234-5678", "JP", "+81312345678"),
    ("０３－１２３４－５６７８", "JP", "+81312345678"),
    ("03-1234-5678 内線 123", "JP", "+81312345678"),
    ("+81 (0)3-1234-5678", None, "+81312345678"),
    ("010-12345678", "CN", "+861012345678"),
    ("+86 10 1234 5678", None, "+861012345678"),
    ("(212) 555-0142", "US", "+12125550142"),
    ("212.555.0142", "US", "+12125550142"),
    ("+1 212 555 0142 ext. 12", None, "+12125550142"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("+44 (0)20 7946 0958", "GB", "+442079460958"),
    ("+39 06 1234 5678", None, "+390612345678"),  # Italian numbers keep their 0
    ("01 42 68 53 00", "FR", "+33142685300"),
    # a field holding two numbers: its first valid one
    ("030 1234567 / 030 7654321", "DE", "+49301234567"),
    ("(212) 555-0142; (212) 555-0143", "US", "+12125550142"),
    ("12 / +44 20 7946 0958", "GB", "+442079460958"),
    ("030 1234567 oder 0171 1234567", "DE", "+49301234567"),
]


@pytest.mark.parametrize(("raw", "country", "e164"), PHONES)
def test_phone(raw, country, e164):
    assert normalise_phone(raw, country) == e164


@pytest.mark.parametrize(("raw", "country", "e164"), PHONES)
def test_phone_without_fast_path_gives_the_same(raw, country, e164, monkeypatch):
    monkeypatch.setattr(phones, "_PHONE_FAST", False)
    assert normalise_phone(raw, country) == e164


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("+49301234567", None),
        ("+4930 1234567", None),
        ("0301234567", "DE"),
        ("030 1234567", "DE"),
        ("2125550142", "US"),
        ("(212) 555-0142", "US"),
        ("+12125550142", None),
        ("020 7946 0958", "GB"),
        ("010-12345678", "CN"),
        ("(03) 1234-5678", "JP"),
        ("+390612345678", None),
        ("0612345678", "IT"),
        ("+44 020 7946 0958", None),
        ("0800 123456", "DE"),
        ("0171 1234567", "DE"),
        ("+43 1 234567", None),
        ("01 234567", "AT"),
        ("+7 495 123-45-67", None),
        ("8 495 123-45-67", "RU"),
        ("011 49 30 1234567", "US"),
        ("4930 1234567", "DE"),
        ("+800 1234 5678", None),
        ("15 1234 5678", "AR"),
        ("(11) 91234-5678", "BR"),
    ],
)
def test_phone_fast_parse_equals_phonenumbers_parse(raw, region):
    fast = phones._parse_phone_fast(raw, region)
    if fast is not None:  # None means: left to phonenumbers.parse
        assert fast == phonenumbers.parse(raw, region)


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("+49301234567", "DE"),
        ("+4930123", "DE"),
        ("+16045551234", "US"),
        ("+16046881234", "US"),
        ("+12125550142", "US"),
        ("+442079460958", "GB"),
        ("+441534123456", "GB"),
        ("+861012345678", "CN"),
        ("+81312345678", "JP"),
        ("+491711234567", "DE"),
        ("+4900000000", "DE"),
        ("+80012345678", "001"),
    ],
)
def test_phone_validity_shortcut_equals_is_valid_number(raw, region):
    number = phonenumbers.parse(raw, None)
    assert phones._phone_valid(number, region) == phonenumbers.is_valid_number(number)


@pytest.mark.parametrize(
    ("raw", "country", "message"),
    [
        ("+49 30 12", None, "phone '+49 30 12' is not a valid phone number for DE"),
        ("12", "DE", "phone '12' is not a valid phone number for DE"),
        ("abc", "US", "phone 'abc' is not a valid phone number for US"),
        ("(212) 555-01", "US", "phone '(212) 555-01' is not a valid phone number for US"),
        ("030 1234567", None, "phone '030 1234567': cannot tell the country"),
    ],
)
def test_bad_phone_raises_naming_the_country(raw, country, message):
    with pytest.raises(NormalisationError) as err:
        normalise_phone(raw, country)
    assert str(err.value) == message
    assert (err.value.field, err.value.value) == ("phone", raw)


def test_phone_accepts_country_names():
    assert normalise_phone("030 1234567", "Deutschland") == "+49301234567"
