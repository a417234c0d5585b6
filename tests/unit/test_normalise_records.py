"""Unit tests for hub.master.normalise: whole records and errors.

Valid tax ids are the examples from python-stdnum's own doctests, so the checksums are real.
"""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from hub.master import normalise as N
from hub.master.normalise import (
    NormalisationError,
    NormalisedCustomer,
    Problem,
    normalise_country,
    normalise_customer,
    normalise_email,
    normalise_name,
    normalise_phone,
    normalise_postcode,
    normalise_tax_id,
)

# --------------------------------------------------------------------------------------------
# Whole records
# --------------------------------------------------------------------------------------------


def test_customer_german_record():
    rec = normalise_customer(
        {
            "name": "Müller Bau GmbH & Co. KG",
            "tax_id": "DE 136 695 976",
            "email": "Info@Mueller-Bau.de",
            "phone": "+49 (0)30 1234567",
            "street": "Hauptstr. 5",
            "city": "Berlin",
            "postcode": "D-10115",
            "country": "Deutschland",
        }
    )
    assert rec == NormalisedCustomer(
        name="Müller Bau GmbH & Co. KG",
        name_key="muller bau",
        name_tokens=("muller", "bau"),
        legal_form="gmbh_co_kg",
        tax_id="DE136695976",
        email="info@mueller-bau.de",
        email_domain="mueller-bau.de",
        phone="+49301234567",
        street="hauptstrasse 5",
        city="berlin",
        postcode="10115",
        country="DE",
        problems=(),
    )


def test_customer_japanese_record():
    rec = normalise_customer(
        {
            "name": "トヨタ自動車㈱",
            "tax_id": "5-8356-7825-6246",
            "email": "info@toyota.co.jp",
            "phone": "(03) 1234-5678",
            "street": "丸の内１－１－１",
            "city": "東京都",
            "postcode": "〒100-0005",
            "country": "日本",
        }
    )
    assert (rec.name_key, rec.legal_form, rec.tax_id, rec.phone, rec.postcode, rec.country) == (
        "トヨタ自動車",
        "kk",
        "JP5835678256246",
        "+81312345678",
        "1000005",
        "JP",
    )
    assert rec.street == "丸の内1 1 1"
    assert rec.problems == ()


def test_customer_chinese_record():
    rec = normalise_customer(
        {
            "name": "北京华为技术有限公司",
            "tax_id": "91110000802100433B",
            "phone": "010-12345678",
            "postcode": "100000",
            "email": "info@qq.com",
            "country": "中国",
        }
    )
    assert (rec.name_key, rec.legal_form, rec.tax_id, rec.phone, rec.email_domain) == (
        "北京华为技术",
        "cn_ltd",
        "CN91110000802100433B",
        "+861012345678",
        None,
    )


@pytest.mark.parametrize("absent", [None, "", "   ", float("nan")])
def test_customer_absent_values_are_none_without_problems(absent):
    keys = ["name", "tax_id", "email", "phone", "street", "city", "postcode", "country"]
    rec = normalise_customer({k: absent for k in keys})
    assert rec == NormalisedCustomer(None, None, (), None, None, None, None, None, None, None, None, None, ())
    assert normalise_customer({}) == rec


def test_customer_bad_values_become_problems_and_none_or_weak():
    rec = normalise_customer(
        {
            "name": "---",
            "tax_id": "DE136695978",
            "email": "not-an-email",
            "phone": "+49 30 12",
            "street": "Hauptstr. 5",
            "city": "Berlin",
            "postcode": "1011",
            "country": "DE",
        }
    )
    assert rec.problems == (
        Problem("name", "---", "no usable name"),
        Problem("tax_id", "DE136695978", "check digit does not match for DE VAT number"),
        Problem("email", "not-an-email", "not a valid e-mail address"),
        Problem("phone", "+49 30 12", "not a valid phone number for DE"),
        Problem("postcode", "1011", "not a DE postcode (expected 5 digits)"),
    )
    assert (rec.name, rec.name_key, rec.name_tokens, rec.legal_form) == (None, None, (), None)
    # a failed tax id and phone stay as weak evidence ("?" + digits), the rest is gone
    assert (rec.tax_id, rec.email, rec.email_domain, rec.phone, rec.postcode) == (
        "?DE136695978",
        None,
        None,
        "?493012",
        None,
    )
    # the good fields survive
    assert (rec.street, rec.city, rec.country) == ("hauptstrasse 5", "berlin", "DE")


def test_customer_default_country_interprets_but_is_not_copied():
    rec = normalise_customer(
        {"name": "Acme", "phone": "030 1234567", "tax_id": "136695976", "postcode": "10115"},
        default_country="Germany",
    )
    assert (rec.phone, rec.tax_id, rec.postcode, rec.country) == (
        "+49301234567",
        "DE136695976",
        "10115",
        None,
    )


def test_customer_record_country_wins_over_default():
    rec = normalise_customer({"phone": "020 7946 0958", "country": "UK"}, default_country="DE")
    assert (rec.phone, rec.country) == ("+442079460958", "GB")


def test_customer_unknown_country_is_a_problem_and_default_is_used():
    rec = normalise_customer({"phone": "030 1234567", "country": "Narnia"}, default_country="DE")
    assert rec.country is None
    assert rec.phone == "+49301234567"
    assert rec.problems == (Problem("country", "Narnia", "not a known country"),)


def test_customer_without_any_country_reports_phone_and_tax_id():
    rec = normalise_customer({"phone": "030 1234567", "tax_id": "136695976"})
    assert rec.problems == (
        Problem("tax_id", "136695976", "cannot tell the country of tax id"),
        Problem("phone", "030 1234567", "cannot tell the country"),
    )


def test_customer_numeric_values_from_spreadsheets():
    rec = normalise_customer({"postcode": 1067.0, "phone": 301234567, "country": "DE"})
    assert (rec.postcode, rec.phone) == ("01067", "+49301234567")


def test_customer_invalid_default_country_is_a_caller_error():
    with pytest.raises(NormalisationError) as err:
        normalise_customer({"name": "Acme"}, default_country="Narnia")
    assert err.value.field == "country"


def test_customer_result_is_frozen():
    rec = normalise_customer({"name": "Acme"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "raw",
    [
        {
            "name": "\x00\x01",
            "email": "@@",
            "phone": "+",
            "tax_id": "???",
            "postcode": "!!!",
            "street": "...",
            "city": "---",
            "country": "??",
        },
        {"name": "A" * 5000, "phone": "1" * 300, "email": "a" * 300 + "@x.com"},
        {"name": "ｰ", "phone": "(0)", "tax_id": "EL", "postcode": "〒", "country": "中"},
    ],
)
def test_customer_never_raises_on_garbage(raw):
    rec = normalise_customer(raw, default_country="DE")
    assert isinstance(rec, NormalisedCustomer)
    for problem in rec.problems:
        assert getattr(rec, problem.field) is None


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def test_error_attributes_and_message():
    err = NormalisationError("phone", "+49 30 12", "not a valid phone number for DE")
    assert isinstance(err, ValueError)
    assert (err.field, err.value) == ("phone", "+49 30 12")
    assert err.reason == "not a valid phone number for DE"
    assert str(err) == "phone '+49 30 12' is not a valid phone number for DE"
    assert str(NormalisationError("name", "---", "no usable name")) == "name '---': no usable name"


def test_error_pickles():
    err = NormalisationError("tax_id", "DE136695978", "check digit does not match for DE VAT")
    back = pickle.loads(pickle.dumps(err))
    assert (back.field, back.value, back.reason) == (err.field, err.value, err.reason)
    assert str(back) == str(err)


@pytest.mark.parametrize(
    ("call", "field", "value"),
    [
        (lambda: normalise_name("???"), "name", "???"),
        (lambda: normalise_country("Atlantis"), "country", "Atlantis"),
        (lambda: normalise_phone("12", "DE"), "phone", "12"),
        (lambda: normalise_phone("030 1234567"), "phone", "030 1234567"),
        (lambda: normalise_tax_id("136695978", "DE"), "tax_id", "136695978"),
        (lambda: normalise_tax_id("136695976"), "tax_id", "136695976"),
        (lambda: normalise_email("jane.example.com"), "email", "jane.example.com"),
        (lambda: normalise_postcode("ABC", "DE"), "postcode", "ABC"),
        (lambda: N.normalise_street("---"), "street", "---"),
        (lambda: N.normalise_city("..."), "city", "..."),
    ],
)
def test_every_error_names_field_and_value(call, field, value):
    with pytest.raises(NormalisationError) as err:
        call()
    assert (err.value.field, err.value.value) == (field, value)
    assert str(err.value).startswith(f"{field} {value!r}")


@pytest.mark.parametrize(
    "fn",
    [
        normalise_name,
        normalise_country,
        normalise_email,
        N.normalise_street,
        N.normalise_city,
        lambda v: normalise_phone(v, "DE"),
        lambda v: normalise_tax_id(v, "DE"),
        lambda v: normalise_postcode(v, "DE"),
    ],
)
@pytest.mark.parametrize("empty", [None, "", "  \t "])
def test_field_functions_return_none_for_empty_input(fn, empty):
    assert fn(empty) is None
