"""1,000 malformed rows in a 100,000-row import: each kept with its file, row and reason, the
rest in, in one run. Every kind a real export has: short and long rows, CP1252 bytes in a
UTF-8 file, a NUL byte, a 40,000-character and a 1 MB field, bad values and no id.

Why orders through the file-drop connector and not ``hub import customers``: customers go
through the master one by one (~120/s here, so 100,000 rows take ~14 min), while an order
export (one row per order line, ``mappings/files/crm.yaml``) is applied a page at a time.
99,000 good rows are 3,000 orders of 33 lines. (``hub import customers`` reads with the same
reader; tests/integration/test_customer_import_bad_rows.py has each kind of bad row there.)
On both databases: the sync takes 16–32 s on SQLite and ~28 s on PostgreSQL on this shared
2-core machine (70–80 s for both with set-up), within the suite's two-minute budget.
"""

from __future__ import annotations

import csv
import io
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.db import session_scope
from hub.documents.models import Order, OrderLine
from hub.sync.connections import add_connection
from hub.sync.engine import SyncEngine
from hub.sync.models import DeadLetter, SyncRun

KEY = "import-fault-key"
HEADER = [
    "OrderNo",
    "AccountNo",
    "CustomerPO",
    "Status",
    "OrderDate",
    "Currency",
    "Total",
    "LineNo",
    "Product",
    "Description",
    "Qty",
    "UnitPrice",
]
ORDERS_PER_BLOCK, LINES, BLOCKS = 3, 33, 1000  # each block: 99 good rows, then one bad one
HUGE_EVERY = 25  # of the over-long fields every 25th (5 in all) is 1 MB, the others 40,000 characters


def _line(
    n: int, description: str = "Schraube Ø 8 mm", qty: str = "1", date: str = "03.11.2026", number: str | None = None
) -> list[str]:
    return [
        f"SO-X{n}" if number is None else number,
        "A1",
        "",
        "AUF",
        date,
        "EUR",
        "1,00",
        "1",
        "P-1",
        description,
        qty,
        "1,00",
    ]


def _encode(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().encode("utf-8")


def _long_field(n: int) -> tuple[bytes, str]:
    size = 1024 * 1024 if (n // len(BAD)) % HUGE_EVERY == 0 else 40_000
    return (
        _encode(_line(n, "x" * size)),
        f"{size:,} characters, more than the limit of 32,767 at column 10 ('Description')",
    )


def _undecodable(n: int) -> tuple[bytes, str]:
    """A row pasted in from a CP1252 program: "Größe" as CP1252 bytes in a UTF-8 file."""
    row = _encode(_line(n, "Gr@@e M")).replace(b"@@", "öß".encode("cp1252"))
    return row, "undecodable bytes (0xf6 0xdf: not utf-8-sig text) at column 10 ('Description')"


#: kind of bad row → (the row's bytes, what its dead letter must say)
BAD = [
    lambda n: (_encode(_line(n)[:4]), "4 fields, the header has 12"),  # short: never padded
    lambda n: (_encode(_line(n) + ["extra", "more"]), "14 fields, the header has 12"),  # long
    _undecodable,
    lambda n: (
        _encode(_line(n, "Nul\x00Teil")),
        "a NUL byte (binary data in a text cell) at column 10 ('Description')",
    ),
    _long_field,
    lambda n: (
        _encode(_line(n, date="31.02.2026")),
        "column 'OrderDate': '31.02.2026' is not a date in the form '%d.%m.%Y'",
    ),
    lambda n: (_encode(_line(n, qty="zwei")), "column 'Qty': 'zwei' is not a decimal"),
    lambda n: (_encode(_line(n, number="")), "no value in the id column 'OrderNo'"),
]


def _write_export(path: Path) -> dict[int, str]:
    """The export; returns row number (as a spreadsheet shows it) → expected reason."""
    expected: dict[int, str] = {}
    row_number = 1  # the header
    with path.open("wb") as handle:
        handle.write(b"\xef\xbb\xbf" + _encode(HEADER))
        for block in range(BLOCKS):
            for k in range(ORDERS_PER_BLOCK):
                number = f"SO-{block * ORDERS_PER_BLOCK + k:05d}"
                handle.write(
                    b"".join(
                        _encode(
                            [
                                number,
                                f"A{block % 5}",
                                "",
                                "AUF",
                                "03.11.2026",
                                "EUR",
                                "330,00",
                                str(line),
                                f"P-{line:03d}",
                                "Schraube Ø 8 mm",
                                "1",
                                "10,00",
                            ]
                        )
                        for line in range(1, LINES + 1)
                    )
                )
                row_number += LINES
            row, reason = BAD[block % len(BAD)](block)
            handle.write(row)
            row_number += 1
            expected[row_number] = reason
    assert row_number - 1 == 100_000
    return expected


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def test_malformed_rows_of_a_100000_row_import_are_kept_with_row_and_reason_and_the_rest_go_in(
    inbox: Path, database_url: str, mappings_dir: Path
) -> None:
    url = database_url
    with (inbox / "accounts_de.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["AccountNo", "Account Name", "Contact E-Mail", "Town", "Country Code"])
        out.writerows(
            [f"A{i}", f"Firma {i} Maschinenbau GmbH", f"info@firma{i}.example", "Berlin", "DE"] for i in range(5)
        )
    expected = _write_export(inbox / "orders_2026-11.csv")
    old = time.time() - 60
    os.utime(inbox / "accounts_de.csv", (old, old))
    with session_scope(url) as session:
        add_connection(
            session,
            name="crmfiles",
            kind="files",
            secret_key=KEY,
            secrets={},
            settings={"inbox": str(inbox), "files": "crm", "mapping": "crm_files", "settle_seconds": 0},
        )
    engine = SyncEngine(url, mappings_dir, KEY)

    started = time.monotonic()
    results = {r.stream: r for r in engine.sync("crmfiles", ["customers", "orders"])}
    print(f"100,000-row file drop with 1,000 bad rows: {time.monotonic() - started:.1f} s")
    orders = results["orders"]
    assert (orders.status, orders.created, orders.failed) == ("done", BLOCKS * ORDERS_PER_BLOCK, BLOCKS), orders

    with session_scope(url) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == BLOCKS * ORDERS_PER_BLOCK
        assert session.scalar(select(func.count()).select_from(OrderLine)) == BLOCKS * ORDERS_PER_BLOCK * LINES
        letters = {l.external_id: l for l in session.scalars(select(DeadLetter))}
    assert set(letters) == {f"orders_2026-11.csv:{row}" for row in expected}
    for row, reason in expected.items():
        letter = letters[f"orders_2026-11.csv:{row}"]
        assert letter.error == f"orders_2026-11.csv row {row}: {reason}", letter.error
        assert letter.payload["data"]["row"] == row and letter.status == "open"  # kept, replayable
        assert len(str(letter.payload)) < 5_000  # a 1 MB field is not copied into the dead letter
    with session_scope(url) as session:
        [run] = session.scalars(select(SyncRun).where(SyncRun.stream == "orders")).all()  # one run
        descriptions = set(session.scalars(select(OrderLine.description).distinct()))
    assert (run.status, run.created, run.failed) == ("done", BLOCKS * ORDERS_PER_BLOCK, BLOCKS)
    assert descriptions == {"Schraube Ø 8 mm"}  # the good rows stay UTF-8 despite the CP1252 ones
    assert sorted(p.name.split(".")[0] for p in (inbox / "done").iterdir()) == ["accounts_de", "orders_2026-11"]
