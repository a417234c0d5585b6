"""Live lookup benchmark: one new record matched against N golden customers on PostgreSQL.

Requirement: "one new record matched against 1M golden records: p95 <= 10 ms".

    python tests/bench/bench_lookup.py --golden 1000000 --probes 2000 [--database-url URL] [--keep]

1. Populate (skipped when the database already holds >= N golden customers): N golden
   customers, each with one ``erp`` source record, its link and its ``match_keys`` rows, bulk
   loaded with COPY. Rows are built with the hub's own functions (``_clean``,
   ``normalise_customer``, ``check_usable``, ``blocking_keys``, ``content_hash``, ``survive``)
   so they are what ``CustomerMaster.ingest`` would have written; a fidelity check ingests a
   sample through the real ingest first and compares. Then VACUUM ANALYZE.
2. Probes: half noisy duplicates of golden customers (their crm / finance spellings from the
   labelled generator), half customers the master has never seen. Each is timed twice:
   (a) match only: normalise + blocking keys + ``SqlIndex.candidates`` + ``Matcher.decide``;
   (b) full live ingest: ``CustomerMaster(session, mappings).ingest("crm", ...)`` + commit.
3. The table goes to tests/bench/results/lookup-<date>.md and stdout.

With --keep the probes' writes are removed again afterwards (and the touched golden records
re-survived), so repeated runs measure the same N-record master.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import platform
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import psycopg
import psycopg.sql
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from hub.db import get_engine, get_sessionmaker
from hub.master.ingest import CUSTOMER_FIELDS, CustomerMaster, RejectedRecord, _clean, check_usable
from hub.master.keys import blocking_keys
from hub.master.matching import Matcher
from hub.master.normalise import normalise_customer
from hub.master.rules import match_rules, survivorship_rules
from hub.master.store import SqlIndex
from hub.master.survivorship import survive
from hub.migrate import upgrade
from hub.settings import BUNDLED_MAPPINGS
from hub.sync.links import content_hash

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import customer_data

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hub_bench_lookup"
GOLDEN_SYSTEM = "erp"
PROBE_SYSTEM = "crm"
#: golden customers (usable, distinct-entity erp records) per generated record, measured ~0.30
GOLDEN_PER_RECORD = 0.28
WARMUP = 20
POOL_MIN = 5000  # probe records kept per kind, so a --keep database serves later runs
_SID_PLACEHOLDER = -987654321

console = Console(stderr=True)


# ------------------------------------------------------------------------------------------
# Database
# ------------------------------------------------------------------------------------------


def libpq(url: str, database: str | None = None) -> str:
    u = make_url(url)
    if database is not None:
        u = u.set(database=database)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(libpq(url, "postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
            console.print(f"created database {name}")


def drop_database(url: str) -> None:
    get_engine(url).dispose()
    name = make_url(url).database
    with psycopg.connect(libpq(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    console.print(f"dropped database {name}")


POOL_DDL = """
CREATE TABLE IF NOT EXISTS bench_lookup_probes (
    seq integer PRIMARY KEY,
    kind text NOT NULL,            -- dup | new
    entity_id text NOT NULL,
    golden_id integer,             -- the right golden record of a dup probe
    fields json NOT NULL
)"""


# ------------------------------------------------------------------------------------------
# Rows as ingest writes them
# ------------------------------------------------------------------------------------------


def _fields(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: rec.get(k) for k in CUSTOMER_FIELDS}


def _prepare_chunk(chunk: list[tuple[str, dict[str, Any]]]) -> list[tuple | None]:
    """Worker: for each (external id, fields) the values ingest would store, or None if it
    would be rejected (quarantined). Ids are not known yet: the source id in the provenance
    is a placeholder the loader replaces."""
    rules = survivorship_rules(BUNDLED_MAPPINGS)
    now = datetime.now(UTC)
    out: list[tuple | None] = []
    for external_id, fields in chunk:
        data = {k: _clean(fields.get(k)) for k in CUSTOMER_FIELDS}
        norm = normalise_customer(data)
        try:
            check_usable(norm)
        except RejectedRecord:
            out.append(None)
            continue
        keys = list(dict.fromkeys(blocking_keys(norm)))
        source = SimpleNamespace(
            id=_SID_PLACEHOLDER,
            system=GOLDEN_SYSTEM,
            external_id=external_id,
            data=data,
            name=norm.name,
            name_key=norm.name_key,
            legal_form=norm.legal_form,
            tax_id=norm.tax_id,
            email=norm.email,
            email_domain=norm.email_domain,
            phone=norm.phone,
            street=norm.street,
            city=norm.city,
            postcode=norm.postcode,
            country=norm.country,
            source_updated_at=now,
        )
        values, provenance = survive([source], rules)  # type: ignore[list-item]
        out.append(
            (
                external_id,
                json.dumps(data),  # SQLAlchemy's JSON type serialises with json.dumps defaults
                content_hash(data),
                (
                    norm.name,
                    norm.name_key,
                    norm.legal_form,
                    norm.tax_id,
                    norm.email,
                    norm.email_domain,
                    norm.phone,
                    norm.street,
                    norm.city,
                    norm.postcode,
                    norm.country,
                ),
                keys,
                tuple(
                    values[f]
                    for f in (
                        "name",
                        "tax_id",
                        "email",
                        "phone",
                        "street",
                        "city",
                        "postcode",
                        "country",
                    )
                ),
                json.dumps(provenance),
                now,
            )
        )
    return out


@dataclass
class Prepared:
    rows: list[tuple] = field(default_factory=list)  # usable golden rows, id = position + 1
    entity_ids: list[str] = field(default_factory=list)
    rejected_entities: set[str] = field(default_factory=set)


# ------------------------------------------------------------------------------------------
# Data: golden set and probe pools from the labelled generator
# ------------------------------------------------------------------------------------------


@dataclass
class Dataset:
    df: Any
    golden_candidates: list[int]  # row positions of each entity's first erp record, in order


def generate(n_golden: int, n_probes: int, seed: int) -> tuple[Dataset, int]:
    n_records = int(max(n_golden / GOLDEN_PER_RECORD, 3 * n_probes) + 5000)
    with console.status(f"generating {n_records:,} labelled records (customer_data.generate)"):
        t0 = time.perf_counter()
        df = customer_data.generate(n_records, seed)
    console.print(f"generated {n_records:,} records in {time.perf_counter() - t0:.0f}s")
    first_erp = ~df.duplicated(subset=["entity_id", "source_system"]) & (df["source_system"] == GOLDEN_SYSTEM)
    return Dataset(df, list(np.flatnonzero(first_erp.to_numpy()))), n_records


def prepare_golden(ds: Dataset, n_golden: int, pool: multiprocessing.pool.Pool, progress: Progress) -> Prepared:
    df = ds.df
    cols = ["source_id", *CUSTOMER_FIELDS, "entity_id"]
    recs = df[cols].to_numpy()
    prepared = Prepared()
    # a margin for rejected records, processed in order; stop at n_golden usable ones
    want = min(len(ds.golden_candidates), int(n_golden * 1.12) + 1000)
    positions = ds.golden_candidates[:want]
    chunk = 2000
    chunks = [positions[i : i + chunk] for i in range(0, len(positions), chunk)]
    task = progress.add_task("normalise golden records", total=n_golden)

    def payload(ps: list[int]) -> list[tuple[str, dict[str, Any]]]:
        return [(recs[p][0], dict(zip(CUSTOMER_FIELDS, recs[p][1:9]))) for p in ps]

    for ps, results in zip(chunks, pool.imap(_prepare_chunk, (payload(c) for c in chunks))):
        for p, row in zip(ps, results):
            entity = recs[p][9]
            if row is None:
                prepared.rejected_entities.add(entity)
            elif len(prepared.rows) < n_golden:
                prepared.rows.append(row)
                prepared.entity_ids.append(entity)
        progress.update(task, completed=len(prepared.rows))
        if len(prepared.rows) >= n_golden:
            break
    if len(prepared.rows) < n_golden:
        raise SystemExit(f"only {len(prepared.rows):,} usable golden records generated; lower GOLDEN_PER_RECORD")
    return prepared


def probe_pools(
    ds: Dataset, golden_of_entity: dict[str, int], excluded: set[str], n_per_kind: int, seed: int
) -> list[tuple[str, str, int | None, dict[str, Any]]]:
    """(kind, entity_id, right golden id, fields): dup = another system's record of a golden
    customer; new = a record of a customer with no golden record. One probe per entity, only
    records ingest accepts (a rejected one measures quarantine, not matching)."""
    rng = random.Random(seed + 1)
    df = ds.df
    is_golden = df["entity_id"].map(lambda e: e in golden_of_entity).to_numpy()
    is_excluded = df["entity_id"].map(lambda e: e in excluded).to_numpy()
    other_system = (df["source_system"] != GOLDEN_SYSTEM).to_numpy()
    dup_pos = np.flatnonzero(is_golden & other_system)
    new_pos = np.flatnonzero(~is_golden & ~is_excluded)
    out: list[tuple[str, str, int | None, dict[str, Any]]] = []
    for kind, positions in (("dup", dup_pos), ("new", new_pos)):
        order = list(positions)
        rng.shuffle(order)
        seen: set[str] = set()
        taken = 0
        for p in order:
            rec = df.iloc[p]
            entity = rec["entity_id"]
            if entity in seen:
                continue
            fields = _fields(rec.to_dict())
            data = {k: _clean(v) for k, v in fields.items()}
            try:
                check_usable(normalise_customer(data))
            except RejectedRecord:
                continue
            seen.add(entity)
            out.append((kind, entity, golden_of_entity.get(entity), fields))
            taken += 1
            if taken >= n_per_kind:
                break
    return out


# ------------------------------------------------------------------------------------------
# Fidelity check: the COPY rows equal what the real ingest writes
# ------------------------------------------------------------------------------------------


def fidelity_check(url: str, sample: list[tuple[str, dict[str, Any]]]) -> str:
    """Ingest ``sample`` through CustomerMaster in a rolled-back transaction (on the empty
    database, before populating) and compare every stored column with the prepared rows."""
    prepared = [r for r in _prepare_chunk(sample) if r is not None]
    by_ext = {r[0]: r for r in prepared}
    problems: list[str] = []
    checked = 0
    session = get_sessionmaker(url)()
    try:
        master = CustomerMaster(session, BUNDLED_MAPPINGS)
        outcomes = {}
        for external_id, fields in sample:
            if external_id not in by_ext:
                continue
            outcomes[external_id] = master.ingest(GOLDEN_SYSTEM, external_id, fields)
        session.flush()
        for external_id, outcome in outcomes.items():
            row = by_ext[external_id]
            sid = outcome.source_id
            src = session.execute(
                text(
                    "SELECT data::text, name, name_key, legal_form, tax_id, email, email_domain, phone,"
                    " street, city, postcode, country, system, external_id FROM customer_sources"
                    " WHERE id = :id"
                ),
                {"id": sid},
            ).one()
            if src[0] != row[1]:
                problems.append(f"{external_id}: data {src[0]!r} != {row[1]!r}")
            if tuple(src[1:12]) != row[3]:
                problems.append(f"{external_id}: columns {tuple(src[1:12])} != {row[3]}")
            link = session.execute(
                text(
                    "SELECT l.content_hash, l.entity_type, l.system, l.hub_id FROM links l JOIN customer_sources s"
                    " ON s.link_id = l.id WHERE s.id = :id"
                ),
                {"id": sid},
            ).one()
            if link[0] != row[2] or link[1] != "customer" or link[2] != GOLDEN_SYSTEM:
                problems.append(f"{external_id}: link {tuple(link)}")
            keys = [
                k for (k,) in session.execute(text("SELECT key FROM match_keys WHERE source_id = :id"), {"id": sid})
            ]
            if sorted(keys) != sorted(row[4]):
                problems.append(f"{external_id}: keys {sorted(keys)} != {sorted(row[4])}")
            if outcome.decision == "new":
                g = session.execute(
                    text(
                        "SELECT name, tax_id, email, phone, street, city, postcode, country,"
                        " provenance::text, status FROM golden_customers WHERE id = :id"
                    ),
                    {"id": outcome.golden_id},
                ).one()
                if tuple(g[:8]) != row[5] or g[9] != "active":
                    problems.append(f"{external_id}: golden {tuple(g[:8])} != {row[5]}")
                mine = json.loads(row[6])
                theirs = json.loads(g[8])
                for f in mine:
                    mine[f]["source_id"] = sid
                    mine[f].pop("at")
                for f in theirs:
                    theirs[f].pop("at")
                if mine != theirs:
                    problems.append(f"{external_id}: provenance {theirs} != {mine}")
                if json.dumps(json.loads(g[8])) != g[8]:
                    problems.append(f"{external_id}: provenance serialised differently: {g[8][:80]}")
            checked += 1
    finally:
        session.rollback()
        session.close()
    if problems:
        for p in problems[:20]:
            console.print(f"[red]fidelity:[/red] {p}")
        raise SystemExit(f"fidelity check failed: {len(problems)} differences in {checked} records")
    return f"{checked} records ingested through CustomerMaster matched the COPY rows column for column"


def stored_fidelity(url: str, n: int = 1000) -> tuple[int, int, list[str]]:
    """Re-derive a random sample of stored golden source records from their ``data`` with the
    code as it is now: (checked, differing, examples). A reused database populated by an older
    normalisation would otherwise be measured as if it were what ingest writes today."""
    with psycopg.connect(libpq(url)) as conn:
        rows = (
            conn.execute(
                "SELECT s.id, s.external_id, s.data, s.name, s.name_key, s.legal_form, s.tax_id, s.email,"
                " s.email_domain, s.phone, s.street, s.city, s.postcode, s.country,"
                " (SELECT array_agg(key ORDER BY key) FROM match_keys k WHERE k.source_id = s.id),"
                " l.content_hash"
                " FROM customer_sources s TABLESAMPLE SYSTEM_ROWS(%s) JOIN links l ON l.id = s.link_id"
                " WHERE s.system = %s",
                (n, GOLDEN_SYSTEM),
            ).fetchall()
            if _has_tsm_system_rows(conn)
            else conn.execute(
                "SELECT s.id, s.external_id, s.data, s.name, s.name_key, s.legal_form, s.tax_id, s.email,"
                " s.email_domain, s.phone, s.street, s.city, s.postcode, s.country,"
                " (SELECT array_agg(key ORDER BY key) FROM match_keys k WHERE k.source_id = s.id),"
                " l.content_hash"
                " FROM customer_sources s JOIN links l ON l.id = s.link_id"
                " WHERE s.system = %s AND s.id IN (SELECT (random() * (SELECT max(id) FROM"
                " customer_sources))::int + 1 FROM generate_series(1, %s))",
                (GOLDEN_SYSTEM, n),
            ).fetchall()
        )
    bad: list[str] = []
    for r in rows:
        data = r[2]
        norm = normalise_customer(data)
        now = (
            norm.name,
            norm.name_key,
            norm.legal_form,
            norm.tax_id,
            norm.email,
            norm.email_domain,
            norm.phone,
            norm.street,
            norm.city,
            norm.postcode,
            norm.country,
        )
        keys = sorted(dict.fromkeys(blocking_keys(norm)))
        if tuple(r[3:14]) != now or sorted(r[14] or []) != keys or r[15] != content_hash(data):
            if len(bad) < 5:
                diff = [
                    f"{f}: {a!r} -> {b!r}"
                    for f, a, b in zip(
                        (
                            "name",
                            "name_key",
                            "legal_form",
                            "tax_id",
                            "email",
                            "email_domain",
                            "phone",
                            "street",
                            "city",
                            "postcode",
                            "country",
                        ),
                        r[3:14],
                        now,
                    )
                    if a != b
                ]
                if sorted(r[14] or []) != keys:
                    diff.append(f"keys: {sorted(r[14] or [])} -> {keys}")
                bad.append(f"{r[1]}: " + "; ".join(diff))
            else:
                bad.append("")
    return len(rows), len(bad), [b for b in bad if b]


def _has_tsm_system_rows(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'tsm_system_rows'").fetchone() is not None


# ------------------------------------------------------------------------------------------
# Populate with COPY
# ------------------------------------------------------------------------------------------


def copy_load(url: str, prep: Prepared, progress: Progress) -> dict[str, int]:
    n = len(prep.rows)
    counts: dict[str, int] = {}
    with psycopg.connect(libpq(url)) as conn:
        # Rows are consistent by construction; skip the per-row FK triggers during the load
        # (superuser only; without it the load is just slower).
        try:
            conn.execute("SET session_replication_role = replica")
        except psycopg.Error:
            conn.rollback()
        cur = conn.cursor()

        def copy(table: str, columns: str, rows_iter, total: int) -> None:
            task = progress.add_task(f"COPY {table}", total=total)
            done = 0
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as cp:
                for r in rows_iter:
                    cp.write_row(r)
                    done += 1
                    if done % 20000 == 0:
                        progress.update(task, completed=done)
            progress.update(task, completed=total)
            counts[table] = done

        def provenance(i: int, r: tuple) -> str:
            return r[6].replace(f'"source_id": {_SID_PLACEHOLDER}', f'"source_id": {i}')

        # golden id = link id = source id = position + 1
        copy(
            "golden_customers",
            "id, name, tax_id, email, phone, street, city, postcode, country, provenance, status,"
            " merged_into_id, created_at, updated_at",
            ((i, *r[5], provenance(i, r), "active", None, r[7], r[7]) for i, r in enumerate(prep.rows, 1)),
            n,
        )
        copy(
            "links",
            "id, entity_type, hub_id, system, external_id, external_version, content_hash,"
            " created_at, updated_at, missing_since",
            ((i, "customer", i, GOLDEN_SYSTEM, r[0], None, r[2], r[7], r[7], None) for i, r in enumerate(prep.rows, 1)),
            n,
        )
        copy(
            "customer_sources",
            "id, link_id, golden_id, system, external_id, data, name, name_key, legal_form, tax_id,"
            " email, email_domain, phone, street, city, postcode, country, source_updated_at,"
            " received_at",
            ((i, i, i, GOLDEN_SYSTEM, r[0], r[1], *r[3], r[7], r[7]) for i, r in enumerate(prep.rows, 1)),
            n,
        )
        # ingest records its decision for every new record: "new", no candidate above review
        copy(
            "match_decisions",
            "id, source_id, outcome, golden_id, score, evidence, decided_by, created_at",
            ((i, i, "new", i, None, "[]", "engine", r[7]) for i, r in enumerate(prep.rows, 1)),
            n,
        )
        task = progress.add_task("sort match keys", total=None)
        keys = sorted((k, i) for i, r in enumerate(prep.rows, 1) for k in r[4])
        progress.update(task, total=1, completed=1)
        copy("match_keys", "key, source_id", iter(keys), len(keys))
        for table in ("golden_customers", "links", "customer_sources", "match_decisions"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
    task = progress.add_task("VACUUM ANALYZE", total=None)
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    progress.update(task, total=1, completed=1)
    return counts


HUB_TABLES = (
    "golden_customers",
    "links",
    "customer_sources",
    "match_keys",
    "match_decisions",
    "review_pairs",
)


def prewarm(url: str) -> str:
    """Read the master's tables and indexes into the OS page cache (pg_prewarm 'read'): the
    steady state of a live hub that keeps serving lookups, whatever ran on the box before."""
    t0 = time.perf_counter()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        rels = [
            r
            for (r,) in conn.execute(
                "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relname = ANY(%s)"
                " UNION ALL SELECT i.indexrelid::regclass::text FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname = ANY(%s)",
                (list(HUB_TABLES), list(HUB_TABLES)),
            )
        ]
        blocks = sum(conn.execute("SELECT pg_prewarm(%s::regclass, 'read')", (r,)).fetchone()[0] for r in rels)
    return (
        f"{len(rels)} tables and indexes ({blocks * 8 / 1024:,.0f} MB) read into the OS page"
        f" cache with pg_prewarm in {time.perf_counter() - t0:.0f} s before the probes"
    )


def evict(url: str) -> str:
    """Drop the master's files from the OS page cache (posix_fadvise DONTNEED on this database's
    relation files only, after a CHECKPOINT): every probe then finds most pages on disk, the
    state of a hub whose machine has too little memory for the master's working set. Needs
    the database on this machine and read access to its data directory."""
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        datadir = Path(conn.execute("SHOW data_directory").fetchone()[0])
        paths = [
            p
            for (p,) in conn.execute(
                "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.relname = ANY(%s)"
                " UNION ALL SELECT pg_relation_filepath(i.indexrelid) FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname = ANY(%s)",
                (list(HUB_TABLES), list(HUB_TABLES)),
            )
        ]
        conn.execute("CHECKPOINT")
    dropped = 0
    for rel in paths:
        for f in datadir.glob(rel + "*"):
            fd = os.open(f, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                dropped += f.stat().st_size
            finally:
                os.close(fd)
    return (
        f"cold: {dropped / 2**20:,.0f} MB of the master's files dropped from the OS page cache"
        " before the probes (shared_buffers keeps what it held)"
    )


def blocks_read(url: str) -> tuple[int, int]:
    """(blocks read from outside shared_buffers, blocks hit) so far in the bench database."""
    time.sleep(1.1)  # statistics reach pg_stat_database at most once a second
    with psycopg.connect(libpq(url)) as conn:
        return conn.execute(
            "SELECT blks_read, blks_hit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()


def store_pool(url: str, pool_rows: list[tuple[str, str, int | None, dict[str, Any]]]) -> None:
    with psycopg.connect(libpq(url)) as conn:
        conn.execute(POOL_DDL)
        conn.execute("TRUNCATE bench_lookup_probes")
        with conn.cursor().copy("COPY bench_lookup_probes (seq, kind, entity_id, golden_id, fields) FROM STDIN") as cp:
            for seq, (kind, entity, gid, fields) in enumerate(pool_rows):
                cp.write_row((seq, kind, entity, gid, json.dumps(fields)))


def load_pool(url: str) -> list[tuple[str, str, int | None, dict[str, Any]]]:
    with psycopg.connect(libpq(url)) as conn:
        if conn.execute("SELECT to_regclass('bench_lookup_probes')").fetchone()[0] is None:
            return []
        return [
            (kind, entity, gid, fields)
            for kind, entity, gid, fields in conn.execute(
                "SELECT kind, entity_id, golden_id, fields FROM bench_lookup_probes ORDER BY seq"
            )
        ]


# ------------------------------------------------------------------------------------------
# Measurement
# ------------------------------------------------------------------------------------------


@dataclass
class Probe:
    kind: str
    entity_id: str
    golden_id: int | None
    fields: dict[str, Any]
    external_id: str = ""


@dataclass
class Timing:
    total: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # this process's CPU time (time.process_time)
    normalise: list[float] = field(default_factory=list)
    candidates: list[float] = field(default_factory=list)
    decide: list[float] = field(default_factory=list)
    n_keys: list[int] = field(default_factory=list)
    n_candidates: list[int] = field(default_factory=list)
    outcome: list[tuple[str, str, bool]] = field(default_factory=list)  # kind, outcome, right
    found: list[bool] = field(default_factory=list)  # dup probes: right golden among candidates


def match_only(url: str, probes: list[Probe], progress: Progress, label: str) -> Timing:
    rules = match_rules(BUNDLED_MAPPINGS)
    matcher = Matcher(rules)
    maker = get_sessionmaker(url)
    t = Timing()
    task = progress.add_task(label, total=len(probes))
    for probe in probes:
        session = maker()
        try:
            c0 = time.process_time()
            t0 = time.perf_counter()
            data = {k: _clean(probe.fields.get(k)) for k in CUSTOMER_FIELDS}
            norm = normalise_customer(data)
            keys = blocking_keys(norm)
            t1 = time.perf_counter()
            index = SqlIndex(session, rules.blocking.max_block_size, rules.blocking.max_candidates)
            candidates = index.candidates(keys)
            t2 = time.perf_counter()
            decision = matcher.decide(norm, candidates)
            t3 = time.perf_counter()
            c1 = time.process_time()
        finally:
            session.rollback()
            session.close()
        t.total.append(t3 - t0)
        t.cpu.append(c1 - c0)
        t.normalise.append(t1 - t0)
        t.candidates.append(t2 - t1)
        t.decide.append(t3 - t2)
        t.n_keys.append(len(dict.fromkeys(keys)))
        t.n_candidates.append(len(candidates))
        t.outcome.append(
            (
                probe.kind,
                decision.outcome,
                probe.kind == "dup" and decision.golden_id == probe.golden_id,
            )
        )
        if probe.kind == "dup":
            t.found.append(any(c.golden_id == probe.golden_id for c in candidates))
        progress.advance(task)
    return t


def full_ingest(url: str, probes: list[Probe], progress: Progress, label: str) -> Timing:
    maker = get_sessionmaker(url)
    t = Timing()
    task = progress.add_task(label, total=len(probes))
    for probe in probes:
        session = maker()
        try:
            c0 = time.process_time()
            t0 = time.perf_counter()
            outcome = CustomerMaster(session, BUNDLED_MAPPINGS).ingest(PROBE_SYSTEM, probe.external_id, probe.fields)
            session.commit()
            t1 = time.perf_counter()
            c1 = time.process_time()
        finally:
            session.close()
        t.total.append(t1 - t0)
        t.cpu.append(c1 - c0)
        t.outcome.append(
            (
                probe.kind,
                outcome.decision or "?",
                probe.kind == "dup" and outcome.decision == "linked" and outcome.golden_id == probe.golden_id,
            )
        )
        progress.advance(task)
    return t


def explain_candidates(url: str, probe: Probe) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the two candidate queries of one probe."""
    rules = match_rules(BUNDLED_MAPPINGS)
    engine = get_engine(url)
    captured: list[tuple[str, Any]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    data = {k: _clean(probe.fields.get(k)) for k in CUSTOMER_FIELDS}
    keys = blocking_keys(normalise_customer(data))
    out: list[str] = []
    with Session(engine) as session:
        session.execute(text("SET LOCAL track_io_timing = on"))
        event.listen(engine, "before_cursor_execute", grab)
        try:
            SqlIndex(session, rules.blocking.max_block_size, rules.blocking.max_candidates).candidates(keys)
        finally:
            event.remove(engine, "before_cursor_execute", grab)
        for statement, parameters in captured:
            plan = session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
            out.append(statement.strip().split("\n")[0][:120] + " ...")
            out.extend(line for (line,) in plan)
            out.append("")
        session.rollback()
    return "\n".join([f"keys: {keys}", *out])


def cleanup(url: str, base: dict[str, int]) -> int:
    """Remove what the probes wrote; re-survive the golden records they had joined."""
    with Session(get_engine(url)) as session:
        touched = [
            g
            for (g,) in session.execute(
                text("SELECT DISTINCT golden_id FROM customer_sources WHERE id > :s AND golden_id <= :g"),
                {"s": base["customer_sources"], "g": base["golden_customers"]},
            )
        ]
        session.execute(text("DELETE FROM review_pairs WHERE source_id > :s"), {"s": base["customer_sources"]})
        session.execute(text("DELETE FROM match_decisions WHERE id > :d"), {"d": base["match_decisions"]})
        session.execute(text("DELETE FROM match_keys WHERE source_id > :s"), {"s": base["customer_sources"]})
        session.execute(text("DELETE FROM customer_sources WHERE id > :s"), {"s": base["customer_sources"]})
        session.execute(text("DELETE FROM links WHERE id > :l"), {"l": base["links"]})
        session.execute(text("DELETE FROM golden_customers WHERE id > :g"), {"g": base["golden_customers"]})
        master = CustomerMaster(session, BUNDLED_MAPPINGS)
        for gid in touched:
            master.refresh_golden(gid)
        session.commit()
    return len(touched)


# ------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------


def pct(values: list[float]) -> tuple[float, ...]:
    a = np.asarray(values) * 1000.0
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return p50, p95, p99, a.max(), a.mean()


def row(label: str, values: list[float]) -> str:
    return f"| {label} | " + " | ".join(f"{v:.2f}" for v in pct(values)) + " |"


def outcomes_table(t: Timing) -> list[str]:
    lines = [
        "| probes | n | linked | review | new | linked to the right golden |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind in ("dup", "new"):
        rows = [o for o in t.outcome if o[0] == kind]
        c = Counter(o[1] for o in rows)
        right = sum(1 for o in rows if o[2])
        right_s = f"{right}/{len(rows)} = {right / len(rows):.1%}" if kind == "dup" and rows else "-"
        lines.append(f"| {kind} | {len(rows)} | {c['linked']} | {c['review']} | {c['new']} | {right_s} |")
    return lines


def db_facts(url: str) -> dict[str, Any]:
    with psycopg.connect(libpq(url)) as conn:
        facts = {
            "server": conn.execute("SHOW server_version").fetchone()[0],
            "shared_buffers": conn.execute("SHOW shared_buffers").fetchone()[0],
        }
        for table in ("golden_customers", "customer_sources", "links", "match_keys"):
            n, size = conn.execute(
                f"SELECT count(*), pg_size_pretty(pg_total_relation_size('{table}')) FROM {table}"
            ).fetchone()
            facts[table] = f"{n:,} rows, {size}"
        facts["block sizes"] = conn.execute(
            "SELECT count(*) FILTER (WHERE c > 60), count(*), max(c) FROM"
            " (SELECT key, count(*) c FROM match_keys GROUP BY key) s"
        ).fetchone()
    return facts


def report(
    args: argparse.Namespace,
    facts: dict[str, Any],
    populate: str,
    fidelity: str,
    a: Timing,
    b: Timing,
    explain: str | None,
    load: dict[str, tuple[float, float]],
    cache: str,
    io: dict[str, tuple[int, int]],
) -> str:
    n_golden = facts["golden_customers"].split(" ")[0]
    big, keys, biggest = facts["block sizes"]
    lines = [
        f"# Live lookup benchmark — {date.today().isoformat()}",
        "",
        (
            f"`python tests/bench/bench_lookup.py --golden {args.golden} --probes {args.probes}"
            f" --cache {args.cache}`"
            f" (seed {args.seed})"
        ),
        "",
        "Requirement: one new record matched against 1M golden records, **p95 ≤ 10 ms**.",
        "",
        f"* Master: {n_golden} golden customers, each with one `{GOLDEN_SYSTEM}` source record,"
        " its link and its match keys (COPY-loaded with the hub's own normalisation; " + fidelity + ").",
        f"* Populate: {populate}",
        f"* Code: {code_version()}.",
        (
            f"* PostgreSQL {facts['server']} on 127.0.0.1, shared_buffers {facts['shared_buffers']};"
            f" {os.cpu_count()} CPUs; Python {platform.python_version()}."
        ),
        (
            f"* Tables: golden_customers {facts['golden_customers']}; customer_sources"
            f" {facts['customer_sources']}; links {facts['links']}; match_keys {facts['match_keys']}"
            f" ({keys:,} distinct keys, {big:,} of them shared by more than 60 records and skipped;"
            f" largest block {biggest:,})."
        ),
        (
            f"* Probes: {args.probes} ({args.probes // 2} noisy duplicates of golden customers in other"
            f" systems' spellings, {args.probes - args.probes // 2} new customers), interleaved;"
            f" {WARMUP} warm-up probes per phase not counted. Phase (a) runs over all probes first,"
            " then phase (b)."
        ),
        "",
        "## Latency (ms, time.perf_counter, per record)",
        "",
        "| measure | p50 | p95 | p99 | max | mean |",
        "|---|---:|---:|---:|---:|---:|",
        row("**(a) match only** (normalise + keys + SqlIndex.candidates + Matcher.decide)", a.total),
        row("&nbsp;&nbsp;(a1) normalise_customer + blocking_keys", a.normalise),
        row(
            "&nbsp;&nbsp;(a2) SqlIndex.candidates (2 SQL round trips, incl. pool checkout)",
            a.candidates,
        ),
        row("&nbsp;&nbsp;(a3) Matcher.decide", a.decide),
        row("&nbsp;&nbsp;(a) CPU time of the benchmark process (Python side)", a.cpu),
        row("**(b) full live ingest** (CustomerMaster(...).ingest + commit)", b.total),
        row("&nbsp;&nbsp;(b) CPU time of the benchmark process (Python side)", b.cpu),
        "",
        (
            f"Cache: {cache}. Blocks PostgreSQL had to read from outside shared_buffers per probe:"
            f" (a) {io['a'][0] / len(a.total):.1f} (hits {io['a'][1] / len(a.total):.0f}),"
            f" (b) {io['b'][0] / len(b.total):.1f} (hits {io['b'][1] / len(b.total):.0f})."
        ),
        "",
        (
            f"Machine load (1-min load average, {os.cpu_count()} CPUs; the box is shared with other"
            f" jobs) during (a): {load['a'][0]:.1f} → {load['a'][1]:.1f};"
            f" during (b): {load['b'][0]:.1f} → {load['b'][1]:.1f}."
        ),
        "",
        f"Verdict (a) p95 {pct(a.total)[1]:.2f} ms: "
        + ("**meets** the 10 ms requirement." if pct(a.total)[1] <= 10 else "**misses** the 10 ms requirement."),
        "",
        f"Per probe: blocking keys p50 {np.percentile(a.n_keys, 50):.0f} / max {max(a.n_keys):.0f}; candidates scored p50 {np.percentile(a.n_candidates, 50):.0f} / p95 {np.percentile(a.n_candidates, 95):.0f} / max {max(a.n_candidates):.0f}.",
        "",
        "## Sanity: decisions",
        "",
        "(a) match only:",
        "",
        *outcomes_table(a),
        "",
        (
            f"The lookup itself: for {sum(a.found)}/{len(a.found)} = {sum(a.found) / max(1, len(a.found)):.1%}"
            " of the duplicate probes the right golden record was among the candidates returned by"
            " SqlIndex.candidates (the rest is the scoring's, not the lookup's)."
        ),
        "",
        "(b) full ingest:",
        "",
        *outcomes_table(b),
        "",
    ]
    if explain:
        lines += [
            "## EXPLAIN (ANALYZE, BUFFERS) of the slowest (a) probe's candidate queries (re-run: warm)",
            "",
            "```",
            explain,
            "```",
            "",
        ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------


def code_version() -> str:
    """HEAD and whether the matching code / mappings had uncommitted changes (read-only git)."""
    import subprocess

    root = HERE.parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "hub", "mappings"],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    changed = sorted({line[3:].strip() for line in dirty if line.strip()})
    if not changed:
        return f"git {head}, clean"
    return f"git {head} plus uncommitted changes in " + ", ".join(f"`{c}`" for c in changed)


def progress_bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--golden", type=int, default=1_000_000)
    ap.add_argument("--probes", type=int, default=2000)
    ap.add_argument("--database-url", default=DEFAULT_URL)
    ap.add_argument("--keep", action="store_true", help="keep the database for the next run")
    ap.add_argument(
        "--rebuild",
        action="store_true",
        help="drop and re-populate the database even if it holds enough golden records",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--cache",
        choices=("warm", "asis", "cold"),
        default="warm",
        help="warm: pg_prewarm the master's tables into the OS page cache first (steady"
        " state of a live hub); asis: whatever the page cache holds; cold: drop"
        " the master's files from the OS page cache first (local server only)",
    )
    ap.add_argument("--workers", type=int, default=max(1, os.cpu_count() or 1))
    ap.add_argument("--out", type=Path, default=HERE / "results" / f"lookup-{date.today().isoformat()}.md")
    args = ap.parse_args(argv)
    url = args.database_url
    n_dup = args.probes // 2
    n_new = args.probes - n_dup

    if args.rebuild:
        drop_database(url)
    ensure_database(url)
    upgrade(url)
    with psycopg.connect(libpq(url)) as conn:
        have = conn.execute("SELECT count(*) FROM golden_customers").fetchone()[0]
    pool_rows = load_pool(url) if have >= args.golden else []
    enough_pool = (
        sum(1 for r in pool_rows if r[0] == "dup") >= n_dup + WARMUP
        and sum(1 for r in pool_rows if r[0] == "new") >= n_new + WARMUP
    )

    fidelity = "fidelity check not run (reused database)"
    if have >= args.golden and enough_pool:
        populate = f"skipped: the database already holds {have:,} golden customers"
        with psycopg.connect(libpq(url)) as conn:
            earlier = conn.execute("SELECT obj_description('bench_lookup_probes'::regclass, 'pg_class')").fetchone()[0]
        if earlier:
            populate += f" (populated by an earlier run: {earlier})"
        console.print(populate)
        checked, differing, examples = stored_fidelity(url)
        if differing:
            for e in examples:
                console.print(f"[red]stale:[/red] {e}")
            raise SystemExit(
                f"{differing} of {checked} sampled golden source records differ from what the current"
                " normalisation / blocking keys produce: the database was populated by other code."
                " Run with --rebuild."
            )
        fidelity = f"reused database; {checked} sampled stored records re-derived with the current code: identical"
    else:
        if have:
            raise SystemExit(
                f"{make_url(url).database} holds {have:,} golden customers (< {args.golden:,}) or no"
                " probe pool; drop it first"
            )
        t_start = time.perf_counter()
        workers = multiprocessing.get_context("fork").Pool(args.workers)
        try:
            ds, n_records = generate(args.golden, args.probes, args.seed)
            t_gen = time.perf_counter() - t_start
            sample_pos = ds.golden_candidates[:200]
            fidelity = fidelity_check(
                url,
                [(ds.df.iloc[p]["source_id"], _fields(ds.df.iloc[p].to_dict())) for p in sample_pos],
            )
            console.print(fidelity)
            t1 = time.perf_counter()
            with progress_bar() as progress:
                prep = prepare_golden(ds, args.golden, workers, progress)
                t_norm = time.perf_counter() - t1
                t2 = time.perf_counter()
                counts = copy_load(url, prep, progress)
                t_copy = time.perf_counter() - t2
        finally:
            workers.terminate()  # chunks past the N-th usable record are not needed
            workers.join()
        golden_of_entity = {e: i for i, e in enumerate(prep.entity_ids, 1)}
        pool_rows = probe_pools(
            ds,
            golden_of_entity,
            prep.rejected_entities,
            max(POOL_MIN, max(n_dup, n_new) + WARMUP),
            args.seed,
        )
        store_pool(url, pool_rows)
        total = time.perf_counter() - t_start
        populate = (
            f"{total:.0f} s in all — generate {n_records:,} labelled records {t_gen:.0f} s,"
            f" normalise + keys + survivorship ({args.workers} processes) {t_norm:.0f} s,"
            f" COPY {counts['golden_customers']:,} golden / links / sources / decisions +"
            f" {counts['match_keys']:,} match keys, then VACUUM ANALYZE {t_copy:.0f} s"
        )
        console.print(f"populate: {populate}")
        with psycopg.connect(libpq(url), autocommit=True) as conn:
            conn.execute(
                psycopg.sql.SQL("COMMENT ON TABLE bench_lookup_probes IS {}").format(psycopg.sql.Literal(populate))
            )
        del ds, prep

    # probes: interleave dups and new ones; warm-up probes come from the rest of the pool
    dups = [Probe(*r) for r in pool_rows if r[0] == "dup"]
    news = [Probe(*r) for r in pool_rows if r[0] == "new"]
    measured = [p for pair in zip(dups[:n_dup], news[:n_new]) for p in pair]
    measured += dups[len(measured) // 2 : n_dup] + news[len(measured) // 2 : n_new]
    warm = [p for pair in zip(dups[n_dup : n_dup + WARMUP // 2], news[n_new : n_new + WARMUP // 2]) for p in pair]
    run_tag = datetime.now().strftime("%Y%m%d%H%M%S")
    for i, p in enumerate(warm + measured):
        p.external_id = f"BENCH-{run_tag}-{i:05d}"

    facts = db_facts(url)  # the master the probes are matched against
    gc.collect()
    with psycopg.connect(libpq(url)) as conn:
        base = {
            t: conn.execute(f"SELECT coalesce(max(id), 0) FROM {t}").fetchone()[0]
            for t in ("golden_customers", "links", "customer_sources", "match_decisions")
        }
    cache = {"warm": prewarm, "cold": evict}.get(args.cache, lambda _: "page cache as found (no prewarm)")(url)
    console.print(cache)
    load: dict[str, tuple[float, float]] = {}
    io: dict[str, tuple[int, int]] = {}
    try:
        with progress_bar() as progress:
            match_only(url, warm, progress, "(a) warm-up")
            before, io0 = os.getloadavg()[0], blocks_read(url)
            a = match_only(url, measured, progress, "(a) match only")
            load["a"] = (before, os.getloadavg()[0])
            io1 = blocks_read(url)
            io["a"] = (io1[0] - io0[0], io1[1] - io0[1])
        # the plan of the slowest lookup, before (b) adds the probes to the master
        explain = explain_candidates(url, measured[int(np.argmax(a.total))])
        with progress_bar() as progress:
            full_ingest(url, warm, progress, "(b) warm-up")
            before, io0 = os.getloadavg()[0], blocks_read(url)
            b = full_ingest(url, measured, progress, "(b) full ingest")
            load["b"] = (before, os.getloadavg()[0])
            io1 = blocks_read(url)
            io["b"] = (io1[0] - io0[0], io1[1] - io0[1])
    finally:
        if args.keep:
            touched = cleanup(url, base)
            console.print(f"removed the probes' writes; re-survived {touched} golden records")

    md = report(args, facts, populate, fidelity, a, b, explain, load, cache, io)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(md, encoding="utf-8")
    print(md)
    console.print(f"written to {args.out}")
    if not args.keep:
        drop_database(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
