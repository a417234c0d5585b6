"""File imports (``hub import customers``): a CSV/XLSX export through a YAML column map into
the customer master, on the same ingest path connectors use.

The file is read by the tolerant table reader (``connectors.files.open_table``): a row with
extra or missing fields, undecodable bytes, a NUL byte or an over-long cell is quarantined
with its row number (as a spreadsheet shows it) and reason, like a row without an id, a
repeated id or a field over ``import_max_field_chars``; every other row goes in. Only what
concerns the whole file (no header, binary, an XLSX over its size limits) refuses it.

Rows go into the customer master as set-wise pages (``CustomerMaster.ingest_many``: matched
against the store and against each other, written in a few statements; a row the database
refuses is quarantined alone). Work is committed in batches, so an interrupted import
keeps what it did and a re-run finds those rows unchanged; a row still bad refreshes its open
quarantine entry instead of adding one, and a corrected row closes it. A run whose process
was killed is marked failed (``hub.sync.runs``) when the next import starts. A full export
flags the records it no longer contains.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, field_validator

from connectors.files import FileFormatError, Row, TableFormat, open_table
from connectors.files.limits import Limits
from hub.config.loader import ConfigError, line_of, load_model, read_yaml
from hub.db import session_scope, utcnow
from hub.heap import settled_heap
from hub.master.ingest import CUSTOMER_FIELDS, ENTITY, CustomerMaster, RejectedRecord
from hub.master.pages import PageItem
from hub.settings import get_settings
from hub.sync.links import Change, mark_missing
from hub.sync.models import QuarantinedRecord, SyncRun
from hub.sync.quarantine import quarantine, replay, resolve_taken_in, row_key
from hub.sync.runs import mark_interrupted


class ImportMapping(BaseModel):
    """How one system's export maps onto canonical customer fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entity: Literal["customer"] = "customer"
    id_column: str
    columns: dict[str, str]
    updated_at_column: str | None = None
    default_country: str | None = None
    export: Literal["full", "delta"] = "full"
    encoding: str | None = None
    sheet: str | None = None

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(CUSTOMER_FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; customer fields are {list(CUSTOMER_FIELDS)}")
        return value


def mapping_file(mappings_dir: Path, system: str) -> Path:
    """``imports/customers/<system>.yaml``, else the generic ``default.yaml``."""
    folder = mappings_dir / "imports" / "customers"
    specific = folder / f"{system}.yaml"
    return specific if specific.exists() else folder / "default.yaml"


def system_default_country(mappings_dir: Path) -> Callable[[str], str | None]:
    """``system -> default_country`` of its import mapping as it is now, each read once: the
    country a system's records are read in when they name none (replays, re-normalising)."""
    current: dict[str, str | None] = {}

    def of(system: str) -> str | None:
        if system not in current:
            path = mapping_file(mappings_dir, system)
            current[system] = load_model(path, ImportMapping).default_country if path.exists() else None
        return current[system]

    return of


def check_columns(path: Path, mapping: ImportMapping, columns: list[str], data_file: Path) -> None:
    """Every mapped column must exist in the file: one wrong header would empty a field."""
    _data, positions = read_yaml(path)
    wanted = [("id_column",), *[("columns", f) for f in mapping.columns]]
    if mapping.updated_at_column:
        wanted.append(("updated_at_column",))
    problems = []
    for loc in wanted:
        column = getattr(mapping, loc[0]) if len(loc) == 1 else mapping.columns[loc[1]]
        if column not in columns:
            problems.append(
                (
                    line_of(positions, loc),
                    ".".join(loc),
                    f"column {column!r} is not in {data_file.name} (its columns: {columns})",
                )
            )
    if problems:
        raise ConfigError(path, problems)


@dataclass
class ImportSummary:
    run_id: int
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    missing: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    reasons: list[str] = field(default_factory=list)


def _timestamp(value: str) -> datetime:
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        raise ValueError("empty")
    dt = stamp.to_pydatetime()
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _table_format(data_file: Path, mapping: ImportMapping) -> TableFormat:
    """How to read the file: its mapping's encoding and sheet; tab for .tsv, the header's
    most frequent of , ; tab | for .txt, comma otherwise."""
    delimiter = ","
    suffix = data_file.suffix.lower()
    if suffix == ".tsv":
        delimiter = "\t"
    elif suffix == ".txt":
        with data_file.open("rb") as handle:
            head = handle.readline()
        delimiter = max(",;\t|", key=lambda c: head.count(c.encode()))
    return TableFormat(encoding=mapping.encoding or "detect", delimiter=delimiter, sheet=mapping.sheet)


@settled_heap()
def import_customers(
    database_url: str,
    mappings_dir: Path,
    system: str,
    data_file: Path,
    *,
    mapping_path: Path | None = None,
    full: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = 2000,
) -> ImportSummary:
    """Import one export file; ``progress(done, total)`` is called as rows go in."""
    mapping_path = mapping_path or mapping_file(mappings_dir, system)
    mapping = load_model(mapping_path, ImportMapping)
    fmt, limits = _table_format(data_file, mapping), Limits.from_settings()
    raw = data_file.read_bytes()
    try:
        table = open_table(data_file, fmt, raw, limits)
    except FileFormatError as exc:  # refused as a whole: a failed run says so, not only the console
        with session_scope(database_url) as session:
            mark_interrupted(session)
            session.add(
                SyncRun(
                    system=system,
                    entity_type=ENTITY,
                    source=str(data_file),
                    status="failed",
                    error=f"file refused: {exc}",
                    finished_at=utcnow(),
                )
            )
        raise
    check_columns(mapping_path, mapping, table.columns, data_file)
    is_full = mapping.export == "full" if full is None else full
    total = _count(data_file, fmt, raw, limits) if progress else 0  # only a progress bar needs it

    with session_scope(database_url) as session:
        mark_interrupted(session)
        run = SyncRun(system=system, entity_type=ENTITY, source=str(data_file))
        session.add(run)
    summary = ImportSummary(run_id=run.id)
    seen: dict[str, int] = {}  # external id → its row, for every row that went in
    source_name = str(data_file)
    id_position = table.columns.index(mapping.id_column)

    def flush(session: Any) -> None:
        db_run = session.get(SyncRun, run.id)
        db_run.read, db_run.created, db_run.updated = summary.read, summary.created, summary.updated
        db_run.unchanged, db_run.failed = summary.unchanged, summary.quarantined

    try:
        batch: list[Row] = []
        for item in table.rows:
            batch.append(item)
            if len(batch) >= batch_size:
                _apply_batch(
                    database_url, mappings_dir, system, mapping, batch, seen, summary, source_name, flush, id_position
                )
                if progress:
                    progress(summary.read, total)
                batch = []
        if batch:
            _apply_batch(
                database_url, mappings_dir, system, mapping, batch, seen, summary, source_name, flush, id_position
            )
        with session_scope(database_url) as session:
            if is_full:
                summary.missing = len(mark_missing(session, system, ENTITY, seen))
            resolve_taken_in(session, ENTITY, system, seen, run.id)
            db_run = session.get(SyncRun, run.id)
            assert db_run is not None
            flush(session)
            db_run.missing = summary.missing
            db_run.status = "done"
            db_run.finished_at = utcnow()
    except BaseException as exc:
        with session_scope(database_url) as session:
            db_run = session.get(SyncRun, run.id)
            assert db_run is not None
            db_run.status, db_run.error, db_run.finished_at = "failed", repr(exc), utcnow()
        raise
    if progress:
        progress(summary.read, total)
    return summary


def _count(data_file: Path, fmt: TableFormat, raw: bytes, limits: Limits) -> int:
    """Rows in the file, for progress: its lines for a CSV (an estimate: a quoted field may
    hold a line break), else a second pass of the reader, which an unchanged re-load of a CSV
    would otherwise spend a third of its time on."""
    if data_file.suffix.lower() not in (".xlsx", ".xlsm"):
        return max(raw.count(b"\n") - fmt.header_row + (0 if raw.endswith(b"\n") else 1), 0)
    try:
        return sum(1 for _ in open_table(data_file, fmt, raw, limits).rows)
    except FileFormatError:
        return 0


def _problem(
    row: Row, mapping: ImportMapping, fields: dict[str, str | None], file: str, seen: dict[str, int], max_chars: int
) -> str | None:
    """Why this row cannot go in as a customer, before the master sees it; None if it may."""
    if row.error:
        return row.error.removeprefix(f"{file} row {row.number}: ")
    external_id = (row.values.get(mapping.id_column) or "").strip()
    if not external_id:
        return f"no value in id column {mapping.id_column!r}"
    if external_id in seen:
        return f"id {external_id!r} appears twice in the file (first at row {seen[external_id]})"
    for name, value in fields.items():
        if value is not None and len(value) > max_chars:
            return (
                f"{name} ({mapping.columns[name]!r}): {len(value):,} characters, more than the "
                f"limit of {max_chars:,} (HUB_IMPORT_MAX_FIELD_CHARS)"
            )
    return None


def _apply_batch(
    database_url: str,
    mappings_dir: Path,
    system: str,
    mapping: ImportMapping,
    batch: list[Row],
    seen: dict[str, int],
    summary: ImportSummary,
    source_name: str,
    flush: Callable[[Any], None],
    id_position: int,
) -> None:
    file, max_chars = Path(source_name).name, get_settings().import_max_field_chars
    with session_scope(database_url) as session:
        master = CustomerMaster(session, mappings_dir)
        page: list[tuple[Row, str, dict[str, Any], PageItem]] = []  # rows fit to go in

        def set_aside(row: Row, external_id: str, fields: dict[str, Any], reason: str, key: str | None) -> None:
            summary.quarantined += 1
            if len(summary.reasons) < 20:
                summary.reasons.append(f"row {row.number}: {reason}")
            shown = {
                f: v if v is None or len(v) <= max_chars else f"{v[:200]}… ({len(v):,} characters)"
                for f, v in fields.items()
            }
            quarantine(
                session,
                entity_type=ENTITY,
                system=system,
                source=source_name,
                reason=reason,
                row_number=row.number,
                external_id=external_id or None,
                run_id=summary.run_id,
                key=key,
                payload={"fields": shown, "row": row.values or row.raw, "default_country": mapping.default_country},
            )

        for row in batch:
            summary.read += 1
            values = row.values
            external_id = (values.get(mapping.id_column) or "").strip()
            fields = {f: values.get(column) for f, column in mapping.columns.items()}
            if row.error and len(row.raw) > id_position:  # which record the bad row was, for people
                external_id = row.raw[id_position].strip()[:200]
            problem = _problem(row, mapping, fields, file, seen, max_chars)
            if problem is not None:
                key = None  # the record's own entry (by id), unless the row is the problem:
                if row.error or not external_id or external_id in seen:
                    key = row_key(None, values or row.raw, source_name)  # this row of this file
                set_aside(row, external_id, fields, problem, key)
                continue
            seen[external_id] = row.number
            when = None
            if mapping.updated_at_column and values.get(mapping.updated_at_column):
                try:
                    when = _timestamp(values[mapping.updated_at_column])
                except ValueError:
                    set_aside(
                        row,
                        external_id,
                        fields,
                        f"{mapping.updated_at_column} {values[mapping.updated_at_column]!r}: not a date/time",
                        None,
                    )
                    continue
            page.append((row, external_id, fields, PageItem(external_id, fields, when, mapping.default_country)))
        # the rows fit to go in, as one set-wise page of the customer master
        outcomes = master.ingest_many(system, [item for *_, item in page])
        for (row, external_id, fields, _item), outcome in zip(page, outcomes, strict=True):
            if isinstance(outcome, RejectedRecord):
                set_aside(row, external_id, fields, outcome.reason, None)
            elif outcome.change is Change.created:
                summary.created += 1
                summary.decisions[outcome.decision or "new"] += 1
            elif outcome.change is Change.updated:
                summary.updated += 1
            else:
                summary.unchanged += 1
        flush(session)


def replay_quarantined(database_url: str, mappings_dir: Path, record_ids: list[int] | None = None) -> tuple[int, int]:
    """Replay quarantined customer records (all open ones, or the given ids): (in, still out)."""
    ok = still = 0
    mapped_country = system_default_country(mappings_dir)

    def default_country(rec: QuarantinedRecord) -> str | None:
        """The system's mapping as it is now: replaying is how a fixed mapping takes effect."""
        return mapped_country(rec.system) or rec.payload.get("default_country")

    with session_scope(database_url) as session:
        master = CustomerMaster(session, mappings_dir)
        query = session.query(QuarantinedRecord).filter(
            QuarantinedRecord.entity_type == ENTITY, QuarantinedRecord.resolved_at.is_(None)
        )
        if record_ids:
            query = query.filter(QuarantinedRecord.id.in_(record_ids))
        for record in query.order_by(QuarantinedRecord.id).all():

            def apply(rec: QuarantinedRecord) -> None:
                if not rec.external_id:
                    raise RejectedRecord("no external id")
                master.ingest(
                    rec.system,
                    rec.external_id,
                    rec.payload.get("fields", {}),
                    default_country=default_country(rec),
                )

            if replay(session, record, apply) is None:
                ok += 1
            else:
                still += 1
    return ok, still
