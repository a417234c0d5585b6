"""The file-drop connector: exports in the code pages legacy CRMs write, dropped into an inbox
and synced by the real engine into the hub; bad rows, bad files, repeats and a crash."""

from __future__ import annotations

import csv
import io
import os
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from connectors.filedrop import FileDropConnector
from hub.db import session_scope
from hub.documents.models import Order, OrderLine
from hub.master import search
from hub.master.models import CustomerSource
from hub.sync.connections import add_connection
from hub.sync.engine import SyncEngine
from hub.sync.models import DeadLetter, Link

KEY = "test-secret-key"
HEADER = ["AccountNo", "Account Name", "Tax ID", "Contact E-Mail", "Telephone", "Street", "Town", "ZIP", "Country Code"]
CHINESE = [("CN-1", "北京华为技术有限公司", "北京"), ("CN-2", "上海明华电子科技有限公司", "上海")]
JAPANESE = [
    ("JP-1", "株式会社山田製作所", "大阪"),
    ("JP-2", "トヨタ自動車株式会社", "名古屋"),
    ("JP-3", "ｿﾆｰ株式会社 東京本社", "東京"),
]


def account(ext: str, name: str, city: str, country: str = "", email: str = "") -> list[str]:
    return [ext, name, "", email or f"info@{ext.lower()}.example", "", "", city, "", country]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


@pytest.fixture
def drop(inbox: Path, database_url: str, mappings_dir: Path) -> SyncEngine:
    with session_scope(database_url) as session:
        add_connection(
            session,
            name="crmfiles",
            kind="files",
            secret_key=KEY,
            secrets={},
            settings={"inbox": str(inbox), "files": "crm", "mapping": "crm_files", "settle_seconds": 0, "page_size": 2},
        )
    return SyncEngine(database_url, mappings_dir, KEY)


def golden_name(url: str, ext: str) -> str | None:
    with session_scope(url) as session:
        golden = search.by_external_id(session, "crmfiles", ext)
        return golden.name if golden else None


def test_exports_in_every_code_page_and_xlsx_land_intact(drop, inbox, database_url):
    write_csv(inbox / "accounts_cn_2026-11.csv", [HEADER, *(account(*r, "CN") for r in CHINESE)], "gbk")
    write_csv(inbox / "accounts_jp_2026-11.csv", [HEADER, *(account(*r, "JP") for r in JAPANESE)], "shift_jis")
    write_csv(inbox / "accounts_bom.csv", [HEADER, account("U-1", "Société Générale SA", "Paris", "FR")], "utf-8-sig")
    write_csv(inbox / "accounts_eu.csv", [HEADER, account("W-1", "Crème Brûlée Bäckerei GmbH", "Köln", "DE")], "cp1252")
    book = Workbook()
    sheet = book.active
    sheet.title = "Accounts"
    sheet.append(HEADER)
    sheet.append(
        [
            "X-1",
            "Ørsted Façades ApS",
            None,
            "kontakt@orsted-facades.example",
            "+45 70 10 20 30",
            None,
            "Aarhus",
            8000,
            "DK",
        ]
    )
    book.save(inbox / "accounts_nordic.xlsx")

    [result] = drop.sync("crmfiles", ["customers"])
    assert (result.status, result.created, result.failed) == ("done", 8, 0), result
    with session_scope(database_url) as session:
        received = dict(session.execute(select(CustomerSource.external_id, CustomerSource.data)).all())
    for ext, name, _city in [*CHINESE, *JAPANESE]:
        assert received[ext]["name"] == name  # exactly as exported, half-width kana included
        assert golden_name(database_url, ext) == unicodedata.normalize("NFKC", name)  # the master's form
    assert golden_name(database_url, "JP-3") == "ソニー株式会社 東京本社"
    assert golden_name(database_url, "U-1") == "Société Générale SA"  # the BOM is not part of "AccountNo"
    assert golden_name(database_url, "W-1") == "Crème Brûlée Bäckerei GmbH"
    assert golden_name(database_url, "X-1") == "Ørsted Façades ApS"
    with session_scope(database_url) as session:
        assert search.by_external_id(session, "crmfiles", "X-1").postcode == "8000"  # a number cell, as typed
    assert sorted(p.name.split(".")[0] for p in (inbox / "done").iterdir()) == [
        "accounts_bom",
        "accounts_cn_2026-11",
        "accounts_eu",
        "accounts_jp_2026-11",
        "accounts_nordic",
    ]
    assert not any(p.is_file() for p in inbox.iterdir())


def test_malformed_rows_become_dead_letters_with_file_and_row_and_the_rest_go_in(drop, inbox, database_url):
    rows = [
        HEADER,
        account("A-1", "Alpha Technik GmbH", "Berlin", "DE"),
        [*account("A-2", "Beta, Bau", "Bonn", "DE"), "stray"],  # row 3: a field too many
        account("A-3", "Gamma Handel KG", "Essen", "DE"),
        ["A-4", "Delta Service"],  # row 5: fields missing
        account("", "Epsilon ohne Nummer", "Kiel", "DE"),  # row 6: no id
        account("A-7", "Zeta Metall AG", "Ulm", "DE"),
    ]
    write_csv(inbox / "accounts_de.csv", rows)
    [result] = drop.sync("crmfiles", ["customers"])
    assert (result.created, result.failed) == (3, 3)
    with session_scope(database_url) as session:
        letters = {l.external_id: l for l in session.scalars(select(DeadLetter))}
    assert sorted(letters) == ["accounts_de.csv:3", "accounts_de.csv:5", "accounts_de.csv:6"]
    assert letters["accounts_de.csv:3"].error == "accounts_de.csv row 3: 10 fields, the header has 9"
    assert letters["accounts_de.csv:5"].error == "accounts_de.csv row 5: 2 fields, the header has 9"
    assert letters["accounts_de.csv:6"].error == "accounts_de.csv row 6: no value in the id column 'AccountNo'"
    assert letters["accounts_de.csv:3"].payload["data"]["values"][1] == "Beta, Bau"  # the raw row, kept
    assert [golden_name(database_url, e) for e in ("A-1", "A-3", "A-7")] == [
        "Alpha Technik GmbH",
        "Gamma Handel KG",
        "Zeta Metall AG",
    ]


def test_orders_exported_per_line_arrive_with_their_lines_and_a_bad_value_names_its_row(drop, inbox, database_url):
    write_csv(inbox / "accounts_de.csv", [HEADER, account("A-1", "Alpha Technik GmbH", "Berlin", "DE")])
    header = [
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
    write_csv(
        inbox / "orders_2026-11.csv",
        [
            header,
            ["SO-1", "A-1", "PO-77", "AUF", "03.11.2026", "EUR", "1.250,50", "1", "P-A", "Pumpe", "2", "500,25"],
            ["SO-1", "A-1", "PO-77", "AUF", "03.11.2026", "EUR", "1.250,50", "2", "P-B", "Ventil", "1", "250,00"],
            ["SO-2", "A-1", "", "ERL", "31.11.2026", "EUR", "10,00", "1", "P-C", "Dichtung", "1", "10,00"],  # row 4
            ["SO-3", "A-1", "", "ANG", "05.11.2026", "EUR", "20,00", "1", "P-C", "Dichtung", "2", "10,00"],
        ],
        "utf-8-sig",
        ";",
    )
    results = {r.stream: r for r in drop.sync("crmfiles")}
    assert (results["orders"].created, results["orders"].failed) == (2, 1), results
    with session_scope(database_url) as session:
        order = session.scalar(select(Order).where(Order.number == "SO-1"))
        assert (order.status, order.total, order.ordered_on.isoformat()) == (
            "confirmed",
            Decimal("1250.50"),
            "2026-11-03",
        )
        lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.product))
        assert [(l.product, l.unit_price) for l in lines] == [("P-A", Decimal("500.25")), ("P-B", Decimal("250.00"))]
        [letter] = session.scalars(select(DeadLetter)).all()
    assert letter.external_id == "orders_2026-11.csv:4"
    assert (
        letter.error
        == "orders_2026-11.csv row 4: column 'OrderDate': '31.11.2026' is not a date in the form '%d.%m.%Y'"
    )


def test_an_unreadable_file_goes_to_failed_with_its_reason_and_the_others_go_in(drop, inbox, database_url):
    (inbox / "accounts_1.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write_csv(inbox / "accounts_2.csv", [["Kunde", "Name"], ["1", "Foo"]])  # another system's export
    # undecodable bytes in one row: that row is set aside, not the file
    (inbox / "accounts_cn_3.csv").write_bytes(b"AccountNo,Account Name\nC-9," + b"\xff\xfe\xff\n")
    write_csv(inbox / "accounts_4.csv", [HEADER, account("A-1", "Alpha Technik GmbH", "Berlin", "DE")])
    [result] = drop.sync("crmfiles", ["customers"])
    # each refused file is a failed record of the run, never "read 0, failed 0"
    assert (result.status, result.created, result.read, result.failed) == ("done", 1, 4, 3)
    reasons = {p.name: p.read_text(encoding="utf-8") for p in (inbox / "failed").glob("*.error.txt")}
    assert len(reasons) == 2
    by_file = {name.split(".")[0]: text for name, text in reasons.items()}
    assert "binary data, not a text table" in by_file["accounts_1"]
    assert (
        "wrong header for pattern 'accounts*.csv': no column(s) ['AccountNo', 'Account Name']" in by_file["accounts_2"]
    )
    assert len(list((inbox / "failed").glob("*.csv"))) == 2 and len(list((inbox / "done").iterdir())) == 2
    with session_scope(database_url) as session:
        letters = {l.external_id: l.error for l in session.scalars(select(DeadLetter))}
    assert letters["accounts_cn_3.csv:2"] == (
        "accounts_cn_3.csv row 2: undecodable bytes (0xff 0xfe 0xff: not gb18030 text) at column 2 ('Account Name')"
    )
    assert letters["accounts_1.csv"].startswith("accounts_1.csv: file refused, moved to failed/accounts_1.")
    assert letters["accounts_2.csv"].endswith("(header row 1 has ['Kunde', 'Name'])")
    # a second sync does not try the refused files again
    [again] = drop.sync("crmfiles", ["customers"])
    assert (again.read, again.failed) == (0, 0)


def test_the_same_file_dropped_twice_is_taken_in_once(drop, inbox, database_url):
    rows = [HEADER, account("A-1", "Alpha Technik GmbH", "Berlin", "DE")]
    write_csv(inbox / "accounts_monday.csv", rows)
    assert drop.sync("crmfiles", ["customers"])[0].created == 1
    write_csv(inbox / "accounts_tuesday.csv", rows)  # the same bytes under another name
    [again] = drop.sync("crmfiles", ["customers"])
    assert (again.read, again.created) == (0, 0)
    [note] = (inbox / "duplicates").glob("*.note.txt")
    assert note.name.startswith("accounts_tuesday.") and "accounts_monday." in note.read_text()


def test_a_crash_between_commit_and_move_imports_nothing_twice(drop, inbox, database_url, monkeypatch):
    write_csv(
        inbox / "accounts_de.csv",
        [HEADER, *(account(f"A-{i}", f"Firma Nummer {i} GmbH", "Berlin", "DE") for i in range(1, 6))],
    )

    def crash(self, stream, page):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(FileDropConnector, "acknowledge", crash)
    with pytest.raises(RuntimeError, match="worker killed"):
        drop.sync("crmfiles", ["customers"])  # the first page (2 records) is committed, not moved
    monkeypatch.undo()
    assert (inbox / "accounts_de.csv").exists()
    [rerun] = drop.sync("crmfiles", ["customers"])
    assert (rerun.unchanged, rerun.created, rerun.updated) == (2, 3, 0)
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count()).select_from(Link).where(Link.system == "crmfiles")) == 5
    assert not (inbox / "accounts_de.csv").exists() and len(list((inbox / "done").iterdir())) == 1


# --- only the inbox is read ----------------------------------------------------------------------


def test_a_link_in_the_inbox_pointing_outside_is_refused_and_nothing_outside_is_read(
    drop, inbox, database_url, tmp_path
):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = write_csv(outside / "payroll.csv", [HEADER, account("S-1", "Secret Payroll Ltd", "Zug", "CH")])
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    (inbox / "accounts_payroll.csv").symlink_to(secret)
    (inbox / "accounts_passwd.csv").symlink_to(outside / "passwd")
    os.link(secret, inbox / "accounts_hardlink.csv")  # the same file under a second name
    write_csv(inbox / "accounts_ok.csv", [HEADER, account("A-1", "Alpha Technik GmbH", "Berlin", "DE")])

    [result] = drop.sync("crmfiles", ["customers"])
    assert (result.status, result.created, result.failed) == ("done", 1, 3)  # each refusal counted
    assert golden_name(database_url, "S-1") is None
    notes = {p.name.split(".")[0]: p.read_text(encoding="utf-8") for p in (inbox / "failed").glob("*.error.txt")}
    assert set(notes) == {"accounts_payroll", "accounts_passwd", "accounts_hardlink"}
    assert "a symbolic link" in notes["accounts_payroll"] and "hard links" in notes["accounts_hardlink"]
    with session_scope(database_url) as session:
        letters = " ".join(f"{l.error} {l.payload}" for l in session.scalars(select(DeadLetter)))
    for text in [*notes.values(), letters]:  # not a byte of the outside files in any note or letter
        assert "root:x" not in text and "Secret Payroll" not in text and "Account Name" not in text
    # the links moved as links; what they pointed at is untouched
    moved = sorted(p for p in (inbox / "failed").iterdir() if not p.name.endswith(".txt"))
    assert sum(p.is_symlink() for p in moved) == 2
    assert (outside / "passwd").read_text(encoding="utf-8").startswith("root:x") and secret.exists()


def test_a_failed_folder_that_is_a_link_outside_is_not_written_to(drop, inbox, database_url, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (inbox / "failed").symlink_to(elsewhere, target_is_directory=True)
    (inbox / "accounts_1.csv").write_bytes(b"\x00\x01\x02 binary")
    [result] = drop.sync("crmfiles", ["customers"])
    assert result.status == "failed" and "not a folder of the inbox" in (result.error or "")
    assert list(elsewhere.iterdir()) == [] and (inbox / "accounts_1.csv").exists()


def test_an_xlsx_zip_bomb_is_refused_fast_moved_to_failed_and_not_tried_again(drop, inbox, database_url):
    import time as clock

    from tests.support.xlsx_bomb import zip_bomb

    # 526 KB that would unpack to a 512 MB account name
    zip_bomb(inbox / "accounts_bomb.xlsx", sheet="Accounts", columns=("AccountNo", "Account Name"))
    started = clock.monotonic()
    [result] = drop.sync("crmfiles", ["customers"])
    assert clock.monotonic() - started < 5
    assert (result.status, result.read, result.failed) == ("done", 1, 1)  # not "read 0, failed 0"
    [note] = (inbox / "failed").glob("accounts_bomb.*.error.txt")
    assert "xl/sharedStrings.xml is compressed" in note.read_text(encoding="utf-8")
    with session_scope(database_url) as session:
        [letter] = session.scalars(select(DeadLetter)).all()
    assert letter.external_id == "accounts_bomb.xlsx" and "a zip bomb, not an export" in letter.error
    [again] = drop.sync("crmfiles", ["customers"])
    assert (again.read, again.failed) == (0, 0) and not (inbox / "accounts_bomb.xlsx").exists()


def test_a_killed_sync_is_marked_failed_and_the_next_sync_goes_on_at_once(drop, inbox, database_url, mappings_dir):
    import signal
    import subprocess
    import sys
    import time as clock

    from hub.sync.models import SyncRun

    write_csv(
        inbox / "accounts_de.csv",
        [HEADER, *(account(f"A-{i}", f"Firma Nummer {i} GmbH", "Berlin", "DE") for i in range(150))],
    )
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_MAPPINGS_DIR": str(mappings_dir), "HUB_SECRET_KEY": KEY}
    child = subprocess.Popen(
        [sys.executable, "-c", "from hub.cli import main; main()", "sync", "crmfiles", "--stream", "customers"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = clock.monotonic() + 60
        while clock.monotonic() < deadline:
            with session_scope(database_url) as session:
                if (session.scalar(select(SyncRun.read)) or 0) > 0:
                    break
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            clock.sleep(0.1)
        child.send_signal(signal.SIGKILL)  # mid-run: the run says "running", the lease is held
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    [rerun] = drop.sync("crmfiles", ["customers"])  # not "busy" for the 10 minutes of the dead lease
    assert rerun.status == "done" and rerun.created + rerun.unchanged == 150
    with session_scope(database_url) as session:
        runs = session.execute(select(SyncRun.status, SyncRun.error).order_by(SyncRun.id)).all()
        assert session.scalar(select(func.count()).select_from(Link).where(Link.system == "crmfiles")) == 150
    assert [(status, (error or "").split(":")[0]) for status, error in runs] == [
        ("failed", "interrupted"),
        ("done", ""),
    ]
