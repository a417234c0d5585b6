"""A system held in this process, for tests about the engine and the outbox (not a connector).

``MemoryConnector`` reads and writes the records of a named store (``STORES[settings["store"]]``:
stream → id → record) with offset paging (``page_size``), as a real system would; its faults
are settings:

* ``unstable``: page 2 serves page 1 again (a sort order the system ignored): the first page's
  records come twice and the second page's never;
* ``drops``: fields a write answers "ok" for and does not store (an empty value instead);
* ``crash``: reading raises a KeyError (a connector bug, outside its contract).

``BlindMemoryConnector`` is the same system without a way to read one record back.
``memory_hub`` registers both kinds and writes their field map (``mappings/connectors/memory.yaml``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connectors.base import Connector, Health, SourceRecord, Stream, WriteResult
from tests.support.faults import register_kind

#: store name → stream → external id → record
STORES: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
_ids = itertools.count(1)

FIELD_MAP = """\
streams:
  customers:
    fields: {name: name, email: email, phone: phone, country: country}
  orders:
    fields:
      number: number
      reference: reference
      customer: customer
      currency: currency
      ordered_on: {path: ordered_on, transform: date}
      total: {path: total, transform: decimal}
"""


class BlindMemoryConnector(Connector):
    kind = "memory-blind"
    streams = (
        Stream("customers", "customer", writable=True),
        Stream("orders", "order", writable=True),
    )

    @property
    def store(self) -> dict[str, dict[str, dict[str, Any]]]:
        return STORES.setdefault(self.settings["store"], {})

    def check(self) -> Health:
        return Health(True, "in memory", 0.0)

    def read(self, stream: str, since: str | None) -> Iterator[list[SourceRecord]]:
        self.stream(stream)
        if self.settings.get("crash"):  # a connector bug: outside its contract
            raise KeyError(self.settings["crash"])
        rows = sorted(self.store.get(stream, {}).values(), key=lambda r: (r.get("updated", ""), r["id"]))
        rows = [r for r in rows if since is None or r.get("updated", "") > since]
        size = int(self.settings.get("page_size", 2))
        pages = [rows[i : i + size] for i in range(0, len(rows), size)]
        if self.settings.get("unstable") and len(pages) > 1:
            pages[1] = pages[0]
        for page in pages:
            yield [SourceRecord(r["id"], dict(r), r.get("updated")) for r in page]

    def write(self, stream: str, data: Mapping[str, Any], external_id: str | None) -> WriteResult:
        self.stream(stream)
        records = self.store.setdefault(stream, {})
        created = external_id is None
        external_id = external_id or f"M{next(_ids)}"
        kept = {k: (None if k in self.settings.get("drops", []) else v) for k, v in data.items()}
        records[external_id] = {**records.get(external_id, {}), **kept, "id": external_id}
        return WriteResult(external_id, created)


class MemoryConnector(BlindMemoryConnector):
    kind = "memory"

    def read_one(self, stream: str, external_id: str) -> SourceRecord | None:
        row = self.store.get(stream, {}).get(external_id)
        return SourceRecord(external_id, dict(row), row.get("updated")) if row else None


def customer(number: int, updated: str = "2026-11-01T00:00:00+00:00", **fields: Any) -> dict[str, Any]:
    """A customer record as the memory system holds it."""
    return {
        "id": f"C{number}",
        "name": f"Kunde {number} GmbH",
        "email": f"info@kunde{number}.example",
        "country": "DE",
        "updated": updated,
        **fields,
    }


@pytest.fixture
def memory_hub(monkeypatch: pytest.MonkeyPatch, database_url: str, mappings_dir: Path) -> Iterator[Path]:
    """Both kinds registered, their field map written; STORES emptied after the test."""
    register_kind(monkeypatch, "memory", "tests.support.memory:MemoryConnector")
    register_kind(monkeypatch, "memory-blind", "tests.support.memory:BlindMemoryConnector")
    (mappings_dir / "connectors" / "memory.yaml").write_text(FIELD_MAP, encoding="utf-8")
    yield mappings_dir
    STORES.clear()


def hub_cli(monkeypatch: pytest.MonkeyPatch, database_url: str, mappings_dir: Path, key: str, *args: str) -> Any:
    """``hub ARGS`` in this process (so the test's connector kinds exist), as a user runs it:
    the result has ``exit_code``, ``stdout`` and ``stderr``."""
    from hub.cli import app
    from hub.settings import get_settings

    monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    monkeypatch.setenv("HUB_MAPPINGS_DIR", str(mappings_dir))
    monkeypatch.setenv("HUB_SECRET_KEY", key)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), catch_exceptions=False)
    finally:
        get_settings.cache_clear()
