"""The live path's quick checks of a record before it is written (hub.master.ingest): the
fast path for plain records must refuse exactly what the full bounds check refuses, and the
record's cleaning must be what ``_clean`` does to each field."""

from __future__ import annotations

from typing import Any

import pytest

from hub.master.ingest import CUSTOMER_FIELDS, RejectedRecord, _clean, check_storable, cleaned
from hub.master.normalise import normalise_customer


def _check(fields: dict[str, Any], external_id: str = "K-1") -> None:
    data = cleaned(fields)
    check_storable(normalise_customer(data), data, external_id)


def test_a_plain_record_with_accents_and_cjk_fits():
    _check({"name": "Müller & Söhne GmbH", "city": "Zürich", "country": "CH"})
    _check({"name": "北京华为技术有限公司", "country": "中国"})


@pytest.mark.parametrize(
    ("fields", "external_id", "said"),
    [
        ({"name": "Nul\x00Name GmbH"}, "K-1", "NUL"),
        ({"name": "Acme GmbH", "street": "Weg\ud800 4"}, "K-1", "surrogate"),
        ({"name": "A" * 400 + " GmbH"}, "K-1", "characters, at most"),
        ({"name": "Acme GmbH"}, "K-" + "9" * 400, "external_id"),
    ],
)
def test_a_record_the_columns_cannot_hold_is_refused_with_its_reason(fields, external_id, said):
    with pytest.raises(RejectedRecord, match="does not fit the hub") as refused:
        _check(fields, external_id)
    assert said in refused.value.reason


def test_cleaning_a_record_is_cleaning_each_field():
    fields = {"name": "  Acme  ", "tax_id": "", "email": "   ", "phone": 4930123, "city": None, "extra": "x"}
    assert cleaned(fields) == {k: _clean(fields.get(k)) for k in CUSTOMER_FIELDS}
    assert list(cleaned(fields)) == list(CUSTOMER_FIELDS)
