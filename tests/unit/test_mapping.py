"""Field maps and code lists: what a system's record becomes, and what a bad one says."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from hub.config.loader import ConfigError
from hub.sync.mapping import ConnectorMap, MappingError, load_connector_map

YAML = """\
streams:
  orders:
    fields:
      number: number
      reference: address.city
      status: {path: state, codes: sale_state}
      total: {path: total_amount, transform: decimal, required: true}
      ordered_on: {path: sale_date, transform: date}
      lines:
        path: lines
        each:
          product: product.code
          quantity: {path: quantity, transform: decimal}
codes:
  sale_state:
    values: {draft: draft, quote: quotation, confirmed: confirmed}
"""


@pytest.fixture
def cmap(tmp_path: Path) -> ConnectorMap:
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors" / "erp.yaml").write_text(YAML)
    return load_connector_map(tmp_path, "erp")


def test_a_record_maps_to_canonical_fields(cmap):
    out = cmap.apply(
        "orders",
        {
            "number": "SO-1",
            "address": {"city": "Köln"},
            "state": "quote",
            "total_amount": "12.50",
            "sale_date": "2026-11-02",
            "lines": [{"product": {"code": "P1"}, "quantity": "2"}],
        },
    )
    assert out["status"] == "quotation" and out["total"] == Decimal("12.50")
    assert str(out["ordered_on"]) == "2026-11-02" and out["reference"] == "Köln"
    assert out["lines"] == [{"product": "P1", "quantity": Decimal("2")}]


@pytest.mark.parametrize(
    "record, message",
    [
        ({"state": "lost", "total_amount": "1"}, "orders: status: 'lost' is not in code list 'sale_state'"),
        ({"state": "draft"}, "orders: total is required but 'total_amount' is empty"),
        ({"state": "draft", "total_amount": "abc"}, "orders: total: 'abc' is not a decimal number"),
        (
            {"state": "draft", "total_amount": "1", "lines": [{"quantity": "x"}]},
            "orders.lines[0]: quantity: 'x' is not a decimal number",
        ),
    ],
)
def test_a_bad_record_names_stream_field_and_value(cmap, record, message):
    with pytest.raises(MappingError) as caught:
        cmap.apply("orders", record)
    assert message in str(caught.value)


def test_an_undefined_code_list_is_a_config_error_with_its_line(tmp_path):
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors" / "erp.yaml").write_text(YAML.replace("codes: sale_state", "codes: stage"))
    with pytest.raises(ConfigError) as caught:
        load_connector_map(tmp_path, "erp")
    assert "erp.yaml" in str(caught.value) and "stage" in str(caught.value)


def test_an_unknown_transform_names_its_line(tmp_path):
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors" / "erp.yaml").write_text(YAML.replace("transform: date", "transform: dat"))
    with pytest.raises(ConfigError) as caught:
        load_connector_map(tmp_path, "erp")
    assert "erp.yaml:8: streams.orders.fields.ordered_on" in str(caught.value)
