"""Set-wise live matching (issue 17 item 5): a page of new customers is matched against the
store and against itself with one blocks query for the whole page, decided in order, and
written set-wise; it makes the decisions one-by-one ingest makes, and one record the database
refuses costs only that record."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, text

from hub.audit.models import AuditEntry
from hub.db import get_engine, session_scope
from hub.master.ingest import SOURCE_ENTITY, CustomerMaster
from hub.master.models import (
    ENTITY,
    CustomerFinding,
    CustomerSource,
    GoldenCustomer,
    MatchDecision,
    MergeEvent,
    ReviewPair,
)
from hub.master.pages import PageItem
from hub.sync.connections import add_connection
from hub.sync.engine import SyncEngine
from hub.sync.imports import import_customers
from hub.sync.models import DeadLetter, QuarantinedRecord
from tests.conftest import _empty_tables

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import customer_data

FIELDS = ("name", "tax_id", "email", "phone", "street", "city", "postcode", "country")
PAGE = 250


def _records(n: int, seed: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(system, external id, fields), system by system as three exports would arrive."""
    frame = customer_data.generate(n, seed).sort_values("source_system", kind="stable")
    return [
        (r.source_system, r.source_id, {f: getattr(r, f) or None for f in FIELDS})
        for r in frame.itertuples(index=False)
    ]


def _pages(records: list[tuple[str, str, dict[str, Any]]]) -> Iterator[tuple[str, list[PageItem]]]:
    page: list[PageItem] = []
    system = records[0][0]
    for rec_system, external_id, fields in records:
        if rec_system != system or len(page) >= PAGE:
            yield system, page
            page, system = [], rec_system
        page.append(PageItem(external_id, fields))
    yield system, page


def _state(url: str) -> dict[str, Any]:
    """What a user sees of the master, named by (system, external id), never by raw ids."""
    with session_scope(url) as session:
        name = {
            sid: (system, ext)
            for sid, system, ext in session.execute(
                select(CustomerSource.id, CustomerSource.system, CustomerSource.external_id)
            )
        }
        members: dict[int, set[tuple[str, str]]] = {}
        for sid, gid in session.execute(select(CustomerSource.id, CustomerSource.golden_id)):
            members.setdefault(gid, set()).add(name[sid])
        group = {gid: tuple(sorted(m)) for gid, m in members.items()}
        merged = {gid: into for gid, into in session.execute(select(GoldenCustomer.id, GoldenCustomer.merged_into_id))}
        for gid in merged:  # a golden record merged away stands for its survivor
            alive = gid
            while merged[alive] is not None:
                alive = merged[alive]
            group.setdefault(gid, group[alive])
        golden_values = {
            group[g.id]: (
                g.name,
                g.tax_id,
                g.email,
                g.phone,
                g.street,
                g.city,
                g.postcode,
                g.country,
                {f: (p["system"], p["external_id"], p["rule"]) for f, p in g.provenance.items()},
            )
            for g in session.scalars(select(GoldenCustomer))
            if g.id in group and g.merged_into_id is None  # a merged-away record's values are history
        }
        decisions = {
            name[d.source_id]: (
                d.outcome,
                group[d.golden_id],
                round(d.score or 0, 6),
                [(name[e["source_id"]], round(e["score"], 3), len(e["fields"])) for e in d.evidence],
            )
            for d in session.scalars(select(MatchDecision))
        }
        reviews = sorted(
            (name[r.source_id], name[r.candidate_source_id], group[r.candidate_golden_id], round(r.score, 6), r.status)
            for r in session.scalars(select(ReviewPair))
        )
        findings = sorted(
            session.execute(
                select(
                    CustomerFinding.system,
                    CustomerFinding.external_id,
                    CustomerFinding.field,
                    CustomerFinding.value,
                    CustomerFinding.reason,
                )
            ).all()
        )
        audit = sorted(
            (
                a.entity_type,
                name[a.hub_id] if a.entity_type == SOURCE_ENTITY else group[a.hub_id],
                a.field,
                a.after,
                a.actor,
            )
            for a in session.scalars(select(AuditEntry).where(AuditEntry.field == "*"))
        )
        changed = sorted(  # each golden value a page or a merge changed, and who changed it
            (group[a.hub_id], a.field, a.before or "", a.after or "", a.actor)
            for a in session.scalars(
                select(AuditEntry).where(AuditEntry.entity_type == ENTITY, AuditEntry.field != "*")
            )
        )
        merge_events = sorted(
            (
                group[m.survivor_id],
                group[m.absorbed_id],
                tuple(sorted(name[sid] for sid in m.moved_source_ids)),
                m.actor,
                m.reason or "",
            )
            for m in session.scalars(select(MergeEvent))
        )
        return {
            "groups": sorted(set(group.values())),
            "golden": golden_values,
            "decisions": decisions,
            "reviews": reviews,
            "findings": findings,
            "created": audit,
            "changed": changed,
            "merge_events": merge_events,
            "merges": len(merge_events),
        }


def test_pages_make_the_same_groups_and_decisions_as_one_by_one(database_url, mappings_dir):
    records = _records(1500, seed=17)
    for system, page in _pages(records):  # the reference: the one-by-one path
        with session_scope(database_url) as session:
            master = CustomerMaster(session, mappings_dir)
            for item in page:
                with session.begin_nested():
                    master.ingest_one(system, item.external_id, item.fields)
    one_by_one = _state(database_url)
    _empty_tables(database_url)

    for system, page in _pages(records):
        with session_scope(database_url) as session:
            outcomes = CustomerMaster(session, mappings_dir).ingest_many(system, page)
            assert all(o.change.value == "created" for o in outcomes)
    paged = _state(database_url)

    outcomes = [d[0] for d in one_by_one["decisions"].values()]
    assert one_by_one["merges"] >= 3 and paged["merges"] == one_by_one["merges"]  # bridging records
    assert outcomes.count("linked") > 300 and outcomes.count("review") > 20  # a set worth comparing
    assert len(one_by_one["findings"]) > 10
    assert any(status == "same" for *_, status in one_by_one["reviews"])  # pairs a merge settled
    for part in ("groups", "decisions", "reviews", "findings", "created", "changed", "merge_events", "golden"):
        if isinstance(paged[part], list):
            extra = [x for x in paged[part] if x not in one_by_one[part]]
            lost = [x for x in one_by_one[part] if x not in paged[part]]
            assert paged[part] == one_by_one[part], (part, extra[:5], lost[:5])
        assert paged[part] == one_by_one[part], part


def test_a_record_joins_an_earlier_record_of_its_own_page(database_url, mappings_dir):
    page = [
        PageItem(
            "E-1", {"name": "Hollstein Antriebe GmbH", "tax_id": "DE136695976", "city": "Kassel", "country": "DE"}
        ),
        PageItem("E-2", {"name": "Nordlicht Optik AG", "city": "Kiel", "country": "DE"}),
        PageItem(
            "E-3",
            {
                "name": "Hollstein Antriebe",
                "tax_id": "DE 136 695 976",
                "email": "info@hollstein-antriebe.de",
                "city": "Kassel",
                "country": "DE",
            },
        ),
    ]
    with session_scope(database_url) as session:
        first, other, again = CustomerMaster(session, mappings_dir).ingest_many("erp", page)
    assert (first.decision, other.decision, again.decision) == ("new", "new", "linked")
    assert again.golden_id == first.golden_id != other.golden_id
    with session_scope(database_url) as session:
        golden = session.get(GoldenCustomer, first.golden_id)
        assert golden.email == "info@hollstein-antriebe.de"  # survivorship saw both records
        decision = session.scalar(select(MatchDecision).where(MatchDecision.source_id == again.source_id))
        assert decision.evidence[0]["source_id"] == first.source_id  # a real id, not the page's


@contextmanager
def _refusing(url: str, external_id: str) -> Iterator[None]:
    """A database that refuses one customer's row (a trigger), as a column bound would."""
    engine = get_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_one() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.external_id = '{external_id}' THEN "
                    "RAISE EXCEPTION 'value refused' USING ERRCODE = 'check_violation'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_one BEFORE INSERT ON customer_sources "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_one()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_one BEFORE INSERT ON customer_sources "
                    f"WHEN NEW.external_id = '{external_id}' BEGIN SELECT RAISE(ABORT, 'value refused'); END"
                )
            )
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "DROP TRIGGER refuse_one" + (" ON customer_sources" if engine.dialect.name == "postgresql" else "")
                )
            )
            if engine.dialect.name == "postgresql":
                conn.execute(text("DROP FUNCTION refuse_one()"))


def _export(folder: Path, rows: list[tuple[str, ...]]) -> tuple[Path, Path]:
    data, mapping = folder / "customers.csv", folder / "customers.yaml"
    with data.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "city", "country"])
        writer.writerows(rows)
    mapping.write_text(
        "id_column: id\ncolumns: {name: name, city: city, country: country}\nexport: delta\n", encoding="utf-8"
    )
    return data, mapping


ROWS = [
    (f"C-{i}", f"{word} Werkzeug GmbH", city, "DE")
    for i, (word, city) in enumerate(
        [("Amsel", "Bonn"), ("Buche", "Kiel"), ("Distel", "Ulm"), ("Eiche", "Jena"), ("Fichte", "Gera")]
    )
]


def test_a_row_the_database_refuses_is_quarantined_alone_and_the_page_goes_in(database_url, mappings_dir, tmp_path):
    data, mapping = _export(tmp_path, ROWS)
    with _refusing(database_url, "C-2"):
        summary = import_customers(database_url, mappings_dir, "crm", data, mapping_path=mapping)
    assert (summary.read, summary.created, summary.quarantined) == (5, 4, 1)
    with session_scope(database_url) as session:
        held = session.scalars(select(QuarantinedRecord)).all()
        assert [(q.external_id, q.row_number) for q in held] == [("C-2", 4)]
        assert "the hub's database refused it" in held[0].reason and "value refused" in held[0].reason
        assert sorted(session.scalars(select(CustomerSource.external_id))) == ["C-0", "C-1", "C-3", "C-4"]
        assert session.query(MatchDecision).count() == 4  # the refused row left nothing behind
    again = import_customers(database_url, mappings_dir, "crm", data, mapping_path=mapping)
    assert (again.created, again.unchanged, again.quarantined) == (1, 4, 0)  # C-2 now goes in


@contextmanager
def _statements(url: str) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    engine = get_engine(url)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_reimporting_the_same_file_is_all_unchanged_in_a_few_statements(database_url, mappings_dir, tmp_path):
    rows = [(f"K-{i}", f"Kunde {i:04d} Handel GmbH", "Leipzig", "DE") for i in range(300)]
    data, mapping = _export(tmp_path, rows)
    with _statements(database_url) as first:
        summary = import_customers(database_url, mappings_dir, "crm", data, mapping_path=mapping)
    assert summary.created == 300
    # matched as pages: one blocks query per page, not one candidates query per record
    assert sum("match_keys" in s and "SELECT" in s for s in first) <= 2
    with _statements(database_url) as second:
        again = import_customers(database_url, mappings_dir, "crm", data, mapping_path=mapping)
    assert (again.read, again.unchanged, again.created, again.updated) == (300, 300, 0, 0)
    assert len(second) < 60, len(second)


def test_a_connector_syncs_customers_as_pages(database_url, mappings_dir, tmp_path):
    from sqlalchemy import create_engine

    from tests.integration.test_sql_connector import accounts, crm

    legacy = f"sqlite:///{tmp_path / 'crm.db'}"
    db = create_engine(legacy)
    crm.create_all(db)
    with db.begin() as conn:
        conn.execute(
            accounts.insert(),
            [
                {
                    "account_id": i,
                    "account_no": f"K-{i}",
                    "name": f"Kunde {i:03d} Handel GmbH",
                    "city": "Leipzig",
                    "country_code": "DE",
                    "email": f"info@kunde{i}.example",
                }
                for i in range(1, 121)
            ]
            + [
                {
                    "account_id": 121,
                    "account_no": "K-121",
                    "name": "Kunde 001 Handel GmbH",
                    "city": "Leipzig",
                    "country_code": "DE",
                    "email": "info@kunde1.example",
                }
            ],
        )
    db.dispose()
    with session_scope(database_url) as session:
        add_connection(
            session,
            name="crm",
            kind="sql",
            secret_key="k",
            secrets={},
            settings={"url": legacy, "tables": "legacy_crm", "mapping": "legacy_sql", "page_size": 60},
        )
    with _statements(database_url) as seen, _refusing(database_url, "7"):
        [result] = SyncEngine(database_url, mappings_dir, "k").sync("crm", ["customers"])
    assert (result.status, result.created, result.failed) == ("done", 120, 1)
    assert sum("match_keys" in s and "SELECT" in s for s in seen) <= 3 + 60  # its page went one by one
    with session_scope(database_url) as session:
        ids = {ext: gid for ext, gid in session.execute(select(CustomerSource.external_id, CustomerSource.golden_id))}
        assert ids["121"] == ids["1"]  # the copy in the third page joined its first
        [letter] = session.scalars(select(DeadLetter)).all()
        assert letter.external_id == "7" and "the hub's database refused it" in letter.error
    with _statements(database_url) as seen:
        [again] = SyncEngine(database_url, mappings_dir, "k").sync("crm", ["customers"])
    assert (again.read, again.unchanged, again.created, again.failed) == (121, 120, 1, 0)  # "7" now in
    assert sum("match_keys" in s and "SELECT" in s for s in seen) <= 3
