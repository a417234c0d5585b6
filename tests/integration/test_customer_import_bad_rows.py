"""``hub import customers`` with the rows real exports contain: one malformed row of each kind
is quarantined with its row and reason and every other row goes in, in one run; importing the
same file again adds no quarantine entries; a killed import does not stay "running"."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from hub.db import session_scope, utcnow
from hub.master import search
from hub.sync.imports import import_customers
from hub.sync.models import QuarantinedRecord, SyncRun

HEADER = b"Party,Name,VAT,E-Mail,Phone,Street,City,ZIP,Country"
ROOT = Path(__file__).resolve().parents[2]


def good(i: int) -> bytes:
    return f"P-{i},Müller Söhne {i} GmbH,,info{i}@firma{i}.example,,Hauptstraße {i},Köln,50667,DE".encode()


#: row bytes → the reason its quarantine entry must give
BAD = {
    b"B-1,Long Row GmbH,,a@b.example,,Weg 1,Bonn,53111,DE,surplus,more": "11 fields, the header has 9",
    b"B-2,Short Row GmbH,,a@b.example": "4 fields, the header has 9",
    b"B-3,M\xfcller Bau GmbH,,x@y.example,,Weg 3,Essen,45127,DE": "undecodable bytes (0xfc: not utf-8-sig text) at column 2 ('Name')",
    b"B-4,Nul\x00Name GmbH,,x@y.example,,Weg 4,Ulm,89073,DE": "a NUL byte (binary data in a text cell) at column 2 ('Name')",
    b"B-5,"
    + b"N" * 1024 * 1024
    + b",,x@y.example,,Weg 5,Kiel,24103,DE": "1,048,576 characters, more than the limit of 32,767 at column 2 ('Name')",
    b"B-6,"
    + b"N" * 5000
    + b",,x@y.example,,Weg 6,Kiel,24103,DE": "name ('Name'): 5,000 characters, more than the limit of 1,000 (HUB_IMPORT_MAX_FIELD_CHARS)",
    b",No Id GmbH,,x@y.example,,Weg 7,Jena,07743,DE": "no value in id column 'Party'",
}


def write_export(path: Path, good_rows: int, bad: dict[bytes, str] = BAD) -> dict[int, str]:
    """Good rows with a bad one after every few; returns row number (header = 1) → reason."""
    lines, expected = [HEADER], {}
    bad_rows = list(bad.items())
    step = max(1, good_rows // max(1, len(bad_rows)))
    for i in range(good_rows):
        lines.append(good(i))
        if bad_rows and (i + 1) % step == 0:
            row, reason = bad_rows.pop(0)
            lines.append(row)
            expected[len(lines)] = reason
    assert not bad_rows
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    return expected


def _open_entries(url: str) -> list[QuarantinedRecord]:
    with session_scope(url) as session:
        return list(
            session.scalars(
                select(QuarantinedRecord)
                .where(QuarantinedRecord.resolved_at.is_(None))
                .order_by(QuarantinedRecord.row_number)
            )
        )


def test_a_malformed_row_of_every_kind_is_quarantined_with_row_and_reason_and_the_rest_go_in(
    database_url, mappings_dir, tmp_path
):
    path = tmp_path / "erp_parties.csv"
    expected = write_export(path, 70)
    summary = import_customers(database_url, mappings_dir, "erp", path)
    assert (summary.read, summary.created, summary.quarantined) == (77, 70, 7)
    held = _open_entries(database_url)
    assert {q.row_number: q.reason for q in held} == expected
    by_row = {q.row_number: q for q in held}
    assert [by_row[n].external_id for n in sorted(by_row)] == ["B-1", "B-2", "B-3", "B-4", "B-5", "B-6", None]
    # what a quarantine entry keeps is storable and readable, not 1 MB of "N"
    assert all(len(str(q.payload)) < 10_000 for q in held)
    with session_scope(database_url) as session:
        golden = search.by_external_id(session, "erp", "P-3")
        assert golden is not None and golden.name == "Müller Söhne 3 GmbH"  # UTF-8 kept UTF-8
        assert search.by_external_id(session, "erp", "B-2") is None  # a short row is not padded in
        [run] = session.scalars(select(SyncRun)).all()
    assert (run.status, run.read, run.created, run.failed) == ("done", 77, 70, 7)


def test_importing_the_same_bad_file_again_adds_no_entries_and_a_corrected_row_closes_its_own(
    database_url, mappings_dir, tmp_path
):
    path = tmp_path / "erp_parties.csv"
    write_export(path, 14)
    import_customers(database_url, mappings_dir, "erp", path)
    first = {q.id: (q.row_number, q.reason) for q in _open_entries(database_url)}
    assert len(first) == 7
    again = import_customers(database_url, mappings_dir, "erp", path)
    assert again.quarantined == 7  # still counted in the run: it found them again
    second = _open_entries(database_url)
    assert {q.id: (q.row_number, q.reason) for q in second} == first  # the same entries, refreshed
    assert {q.run_id for q in second} == {again.run_id}

    fixed = dict(BAD)
    del fixed[b"B-2,Short Row GmbH,,a@b.example"]  # B-2 exported correctly this time
    expected = write_export(path, 14, fixed)
    text = path.read_bytes().replace(HEADER + b"\r\n", HEADER + b"\r\nB-2,Short Row GmbH,,a@b.example,,,,,DE\r\n")
    path.write_bytes(text)
    import_customers(database_url, mappings_dir, "erp", path)
    still = _open_entries(database_url)
    assert sorted(q.external_id or "" for q in still) == ["", "B-1", "B-3", "B-4", "B-5", "B-6"]
    assert {q.id for q in still} < set(first)  # nothing added, B-2's entry closed
    assert len(expected) == 6
    with session_scope(database_url) as session:
        assert search.by_external_id(session, "erp", "B-2") is not None


def test_a_killed_import_is_marked_failed_when_the_next_import_starts(database_url, mappings_dir, tmp_path):
    big = tmp_path / "erp_parties.csv"
    write_export(big, 3000, {})  # ~120 rows/s through the master: half a minute
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_MAPPINGS_DIR": str(mappings_dir)}
    child = subprocess.Popen(
        [sys.executable, "-c", "from hub.cli import main; main()", "import", "customers", str(big), "--system", "erp"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with session_scope(database_url) as session:
                run = session.scalar(select(SyncRun))
                if run is not None and run.read > 0:
                    break
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            time.sleep(0.2)
        else:
            raise AssertionError("the import did not commit a batch in 60 s")
        child.send_signal(signal.SIGKILL)  # no finally, no except: the run's row says "running"
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    with session_scope(database_url) as session:
        assert session.scalar(select(SyncRun.status)) == "running"
    small = tmp_path / "small" / "erp_parties.csv"
    small.parent.mkdir()
    write_export(small, 3, {})
    import_customers(database_url, mappings_dir, "erp", small)
    with session_scope(database_url) as session:
        runs = session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
    assert [(r.status, (r.error or "").split(":")[0]) for r in runs] == [("failed", "interrupted"), ("done", "")]
    assert runs[0].finished_at is not None and runs[0].read > 0


def test_a_run_on_another_host_is_interrupted_only_once_its_heartbeat_is_old(database_url):
    from hub.sync.runs import mark_interrupted

    with session_scope(database_url) as session:
        for name, beat in (("fresh", utcnow()), ("stale", utcnow() - timedelta(hours=2))):
            session.add(
                SyncRun(system=name, entity_type="customer", source=name, host="worker-7", pid=1, heartbeat_at=beat)
            )
        # this host, a pid that no longer exists
        session.add(
            SyncRun(system="gone", entity_type="customer", source="gone", host=socket.gethostname(), pid=_dead_pid())
        )
    with session_scope(database_url) as session:
        mark_interrupted(session, timedelta(minutes=30))
    with session_scope(database_url) as session:
        status = {system: state for system, state in session.execute(select(SyncRun.system, SyncRun.status))}
    assert status == {"fresh": "running", "stale": "failed", "gone": "failed"}


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_file_refused_as_a_whole_is_a_failed_run_with_its_reason(database_url, mappings_dir, tmp_path):
    import pytest

    from connectors.files import FileFormatError
    from tests.support.xlsx_bomb import zip_bomb

    bomb = zip_bomb(tmp_path / "erp_parties.xlsx", columns=("Party", "Name"))
    started = time.monotonic()
    with pytest.raises(FileFormatError, match="a zip bomb, not an export"):
        import_customers(database_url, mappings_dir, "erp", bomb)
    assert time.monotonic() - started < 5
    with session_scope(database_url) as session:
        [run] = session.scalars(select(SyncRun)).all()
    assert run.status == "failed" and run.source == str(bomb) and "xl/sharedStrings.xml is compressed" in run.error
