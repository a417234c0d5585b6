"""Importing customer exports into the master: idempotent, matched across systems, nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.config.loader import ConfigError
from hub.db import session_scope
from hub.master import search
from hub.master.models import CustomerSource, GoldenCustomer, MatchDecision, MatchKey
from hub.sync.imports import import_customers
from hub.sync.models import Link, QuarantinedRecord, SyncRun
from tests.integration.customer_files import (
    CRM_ROWS,
    ERP_ROWS,
    write_crm,
    write_erp,
)


def _counts(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (GoldenCustomer, CustomerSource, Link, MatchKey, MatchDecision)
        }


@pytest.fixture
def folder(tmp_path: Path, mappings_dir: Path) -> Path:
    return tmp_path


def test_reimporting_the_same_file_changes_nothing(database_url, mappings_dir, folder):
    erp = write_erp(folder)
    first = import_customers(database_url, mappings_dir, "erp", erp)
    assert (first.read, first.created, first.quarantined) == (5, 5, 0)
    before = _counts(database_url)
    assert before["golden_customers"] == 5

    second = import_customers(database_url, mappings_dir, "erp", erp)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 5)
    assert _counts(database_url) == before
    with session_scope(database_url) as session:
        runs = session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
        assert [(r.status, r.read, r.created, r.unchanged) for r in runs] == [("done", 5, 5, 0), ("done", 5, 0, 5)]


def test_a_changed_row_updates_the_golden_record_with_provenance(database_url, mappings_dir, folder):
    import_customers(database_url, mappings_dir, "erp", write_erp(folder))
    rows = [list(r) for r in ERP_ROWS]
    rows[0][4] = "+49 30 7777777"  # Müller Bau's phone changed in the ERP
    summary = import_customers(database_url, mappings_dir, "erp", write_erp(folder, [tuple(r) for r in rows]))
    assert (summary.updated, summary.unchanged) == (1, 4)
    with session_scope(database_url) as session:
        golden = search.by_external_id(session, "erp", "P-1")
        assert golden is not None
        assert golden.phone == "+49307777777"
        assert golden.provenance["phone"]["system"] == "erp"
        assert golden.provenance["phone"]["external_id"] == "P-1"


def test_a_row_gone_from_a_full_export_is_flagged_not_deleted(database_url, mappings_dir, folder):
    import_customers(database_url, mappings_dir, "erp", write_erp(folder))
    summary = import_customers(database_url, mappings_dir, "erp", write_erp(folder, ERP_ROWS[1:]))
    assert summary.missing == 1
    with session_scope(database_url) as session:
        link = session.scalar(select(Link).where(Link.external_id == "P-1"))
        assert link is not None and link.missing_since is not None
        assert search.by_external_id(session, "erp", "P-1") is not None  # still there
    # back in the next export: flag cleared, nothing duplicated
    import_customers(database_url, mappings_dir, "erp", write_erp(folder))
    with session_scope(database_url) as session:
        link = session.scalar(select(Link).where(Link.external_id == "P-1"))
        assert link.missing_since is None
    assert _counts(database_url)["golden_customers"] == 5


def test_a_delta_export_flags_nothing(database_url, mappings_dir, folder):
    import_customers(database_url, mappings_dir, "erp", write_erp(folder))
    summary = import_customers(database_url, mappings_dir, "erp", write_erp(folder, ERP_ROWS[:1]), full=False)
    assert summary.missing == 0


def test_crm_accounts_link_to_the_erp_customers_they_are(database_url, mappings_dir, folder):
    import_customers(database_url, mappings_dir, "erp", write_erp(folder))
    summary = import_customers(database_url, mappings_dir, "crm", write_crm(folder))
    assert summary.created == len(CRM_ROWS)
    with session_scope(database_url) as session:

        def golden(system: str, ext: str) -> int:
            found = search.by_external_id(session, system, ext)
            assert found is not None, (system, ext)
            return found.id

        assert golden("crm", "A100") == golden("erp", "P-1")  # MUELLER BAU, same phone
        assert golden("crm", "A101") == golden("erp", "P-2")  # ACME, same phone and domain
        assert golden("crm", "A102") == golden("erp", "P-3")  # トヨタ自動車(株)
        assert golden("crm", "A103") == golden("erp", "P-4")  # region prefix dropped
        # same name, other city, other tax id: a different company
        assert golden("crm", "A104") != golden("erp", "P-5")
        assert golden("crm", "A105") not in {golden("erp", p[0]) for p in ERP_ROWS}
        detail = session.get(GoldenCustomer, golden("erp", "P-1"))
        # the ERP wins the name by source priority; the CRM's contact e-mail is more recent
        assert detail.name == "Müller Bau GmbH"
        assert detail.provenance["name"]["system"] == "erp"
        decision = session.scalar(
            select(MatchDecision)
            .join(CustomerSource, CustomerSource.id == MatchDecision.source_id)
            .where(CustomerSource.external_id == "A100")
        )
        assert decision.outcome == "linked"
        fields = {f["field"]: f["level"] for f in decision.evidence[0]["fields"]}
        assert fields["phone"] == "agree" and fields["email_domain"] == "agree"


def test_rows_that_identify_nothing_are_quarantined_bad_fields_go_in_flagged(database_url, mappings_dir, folder):
    rows = list(ERP_ROWS) + [
        ("P-6", "---", "", "", "", "", "", "", "DE"),  # no usable name
        ("P-7", "Klein AG", "DE136695977", "", "", "", "Köln", "", "DE"),  # check digit wrong
        ("", "Nameless Id GmbH", "", "", "", "", "", "", "DE"),  # no id
        ("P-9", "Phone Co", "", "", "12", "", "", "", "DE"),  # not a phone
        ("P-1", "Müller Bau GmbH", "", "", "", "", "", "", "DE"),  # id twice
    ]
    path = write_erp(folder, rows)
    summary = import_customers(database_url, mappings_dir, "erp", path)
    # accept and flag: P-7 and P-9 are in, their bad field a finding
    assert (summary.created, summary.quarantined) == (7, 3)
    with session_scope(database_url) as session:
        held = session.scalars(select(QuarantinedRecord).order_by(QuarantinedRecord.row_number)).all()
        by_row = {q.row_number: q for q in held}
        assert search.by_external_id(session, "erp", "P-7") is not None
        assert search.by_external_id(session, "erp", "P-9") is not None
    assert set(by_row) == {7, 9, 11}  # header is row 1
    assert all(q.source == str(path) and q.system == "erp" for q in held)
    assert "no usable name" in by_row[7].reason
    assert "id column 'Party'" in by_row[9].reason
    assert "appears twice" in by_row[11].reason and "row 2" in by_row[11].reason


def test_a_mapped_column_missing_from_the_file_names_file_line_and_field(database_url, mappings_dir, folder):
    mapping = mappings_dir / "imports" / "customers" / "erp.yaml"
    mapping.write_text(mapping.read_text().replace("tax_id: VAT", "tax_id: VAT No"))
    with pytest.raises(ConfigError) as caught:
        import_customers(database_url, mappings_dir, "erp", write_erp(folder))
    message = str(caught.value)
    assert "erp.yaml:5: columns.tax_id: column 'VAT No' is not in erp_parties.csv" in message


def test_a_record_that_links_two_golden_records_merges_them_with_history(database_url, mappings_dir, folder):
    from hub.master.models import MergeEvent, ReviewPair

    rows = [
        ("P-30", "Nordlicht Solar GmbH", "", "", "+49 40 1111111", "", "", "", "DE"),
        ("P-31", "Nordlicht Solar GmbH", "DE136695976", "info@nordlicht-solar.de", "", "", "Hamburg", "", "DE"),
    ]
    import_customers(database_url, mappings_dir, "erp", write_erp(folder, rows))
    with session_scope(database_url) as session:
        first = search.by_external_id(session, "erp", "P-30").id
        second = search.by_external_id(session, "erp", "P-31").id
        assert first != second  # the same name and nothing else: a steward is asked
        assert session.scalar(select(func.count()).select_from(ReviewPair)) == 1
    write_crm(folder, [("A300", "NORDLICHT SOLAR", "", "buchhaltung@nordlicht-solar.de", "040 1111111", "", "DE")])
    import_customers(database_url, mappings_dir, "crm", folder / "crm_accounts.csv")
    with session_scope(database_url) as session:
        goldens = {
            search.by_external_id(session, s, e).id for s, e in (("erp", "P-30"), ("erp", "P-31"), ("crm", "A300"))
        }
        assert len(goldens) == 1
        event = session.scalar(select(MergeEvent))
        assert event.actor == "engine" and "crm A300 links to both" in event.reason
        pair = session.scalar(select(ReviewPair))
        assert pair.status == "same" and pair.decided_by == "engine"


def test_an_xlsx_export_imports_like_its_csv(database_url, mappings_dir, folder):
    import pandas as pd

    frame = pd.read_csv(write_erp(folder), dtype=str, keep_default_na=False)
    workbook = folder / "erp_parties.xlsx"
    frame.to_excel(workbook, index=False)
    summary = import_customers(database_url, mappings_dir, "erp", workbook)
    assert (summary.created, summary.quarantined) == (5, 0)
    again = import_customers(database_url, mappings_dir, "erp", folder / "erp_parties.csv")
    assert again.unchanged == 5  # the same rows, whichever file format they came in


@pytest.mark.postgres
def test_the_one_statement_candidate_query_selects_what_the_generic_one_does(postgres_url, mappings_dir, folder):
    from hub.master.keys import blocking_keys
    from hub.master.normalise import normalise_customer
    from hub.master.store import SqlIndex

    import_customers(postgres_url, mappings_dir, "erp", write_erp(folder))
    import_customers(postgres_url, mappings_dir, "crm", write_crm(folder))
    probe = normalise_customer(
        {
            "name": "Mueller Bau",
            "phone": "+49 30 1234567",
            "city": "Berlin",
            "email": "x@mueller-bau.de",
            "country": "DE",
        }
    )
    keys = list(dict.fromkeys(blocking_keys(probe)))
    with session_scope(postgres_url) as session:
        for max_block, limit in ((60, 20), (1, 20), (60, 1)):
            index = SqlIndex(session, max_block, limit)
            one = [(c.source_id, c.golden_id, c.record) for c in index._candidates_postgres(keys)]
            generic = [(c.source_id, c.golden_id, c.record) for c in index._candidates_generic(keys)]
            assert one == generic, (max_block, limit)
        assert SqlIndex(session, 60, 20).candidates(keys)  # the crm and erp Müller Bau records
