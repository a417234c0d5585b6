"""Accept and flag (issue 17): every customer that identifies something gets in; its bad fields
are findings kept with it, counted per system and reason, exported, and cleared when a
corrected record arrives. Two systems' ways of writing one company's tax id link."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from hub.auth.models import Role
from hub.db import session_scope
from hub.master import quality, search
from hub.master.models import CustomerFinding, GoldenCustomer
from hub.sync.imports import import_customers
from hub.sync.models import QuarantinedRecord
from tests.integration.customer_files import write_erp

MESSY = [
    # id, name, vat, email, phone, street, city, zip, country
    ("M-1", "Aurora Textiles Ltd", "N/A", "", "", "", "Leeds", "", "U.K."),
    ("M-2", "Bergmann Stahl GmbH", "TBD", "", "", "", "Essen", "", "GER"),
    ("M-3", "Cathay Lighting Co., Ltd.", "-", "", "", "", "Shenzhen", "", "P.R. China"),
    ("M-4", "Dragon Pump Ltd", "000000000", "", "", "", "Ningbo", "", "China (PRC)"),
    ("M-5", "Elbe Werkzeug GmbH", "", "", "+49 30 12", "", "Dresden", "", "DE"),  # no phone
    ("M-6", "Fjord Marine AS", "", "", "", "", "Bergen", "", "Atlantis"),  # no country
    ("M-7", "Gruber Holz GmbH", "DE136695977", "", "", "", "Linz", "Linz", "DE"),  # bad check, city in postcode
    ("M-8", "---", "", "", "", "", "", "", "DE"),  # nothing: refused
]


def _finding_reasons(url: str) -> dict[str, list[tuple[str, str]]]:
    with session_scope(url) as session:
        rows = session.execute(
            select(CustomerFinding.external_id, CustomerFinding.field, CustomerFinding.reason).order_by(
                CustomerFinding.external_id, CustomerFinding.field
            )
        )
        out: dict[str, list[tuple[str, str]]] = {}
        for ext, field, reason in rows:
            out.setdefault(ext, []).append((field, reason))
        return out


def test_messy_records_all_get_in_with_their_findings_listed_and_counted(database_url, mappings_dir, tmp_path):
    summary = import_customers(database_url, mappings_dir, "erp", write_erp(tmp_path, MESSY))
    assert (summary.created, summary.quarantined) == (7, 1)
    with session_scope(database_url) as session:
        for ext in ("M-1", "M-2", "M-3", "M-4", "M-5", "M-6", "M-7"):
            assert search.by_external_id(session, "erp", ext) is not None, ext
        countries = {ext: search.by_external_id(session, "erp", ext).country for ext in ("M-1", "M-2", "M-3", "M-4")}
        assert countries == {"M-1": "GB", "M-2": "DE", "M-3": "CN", "M-4": "CN"}
        golden = search.by_external_id(session, "erp", "M-7")
        assert golden.tax_id is None  # a failed id is never the golden value
        held = session.scalars(select(QuarantinedRecord)).all()
        assert [q.external_id for q in held] == ["M-8"]
    findings = _finding_reasons(database_url)
    assert set(findings) == {"M-5", "M-6", "M-7"}  # placeholders are absent, not findings
    assert [f for f, _ in findings["M-7"]] == ["postcode", "tax_id"]
    assert findings["M-6"] == [("country", "not a known country")]
    with session_scope(database_url) as session:
        counted = {(c.field, c.count) for c in quality.counts(session, "erp")}
    assert counted == {("phone", 1), ("country", 1), ("postcode", 1), ("tax_id", 1)}


def test_a_corrected_record_clears_its_findings(database_url, mappings_dir, tmp_path):
    import_customers(database_url, mappings_dir, "erp", write_erp(tmp_path, MESSY[6:7]))
    assert len(_finding_reasons(database_url)["M-7"]) == 2
    fixed = [("M-7", "Gruber Holz GmbH", "DE136695976", "", "", "", "Linz", "4020", "AT")]
    summary = import_customers(database_url, mappings_dir, "erp", write_erp(tmp_path, fixed))
    assert summary.updated == 1
    assert _finding_reasons(database_url) == {}
    with session_scope(database_url) as session:
        assert search.by_external_id(session, "erp", "M-7").tax_id == "DE136695976"


def test_two_systems_writing_one_tax_id_differently_link(database_url, mappings_dir, tmp_path):
    erp = [
        ("E-1", "Koala Freight Pty Ltd", "ABN 51 824 753 556", "", "", "", "Sydney", "", "Australia"),
        ("E-2", "Maple Parts Inc.", "812345676", "", "", "", "Toronto", "", "CA"),
    ]
    crm = [
        ("C-1", "Koala Freight", "51824753556", "", "", "", "Sydney", "", "AU"),
        ("C-2", "Maple Parts", "812345676RT0001", "", "", "", "Toronto", "", "Canada"),
    ]
    import_customers(database_url, mappings_dir, "erp", write_erp(tmp_path, erp))
    (tmp_path / "crm").mkdir()
    path = write_erp(tmp_path / "crm", crm)
    mapping = mappings_dir / "imports" / "customers"
    (mapping / "shop.yaml").write_text((mapping / "erp.yaml").read_text())
    import_customers(database_url, mappings_dir, "shop", path)
    with session_scope(database_url) as session:
        for a, b in (("E-1", "C-1"), ("E-2", "C-2")):
            assert search.by_external_id(session, "erp", a).id == search.by_external_id(session, "shop", b).id
        assert session.scalar(select(func.count()).select_from(GoldenCustomer)) == 2


def test_quality_api_and_csv_export_for_the_source_owners(client, token_for, database_url, mappings_dir, tmp_path):
    rows = MESSY[4:7] + [("M-9", '=HYPERLINK("http://x")', "", "", "+49 30 12", "", "", "", "DE")]
    import_customers(database_url, mappings_dir, "erp", write_erp(tmp_path, rows))
    it = token_for(Role.it)
    counts = client.get("/api/v1/master/quality", params={"system": "erp"}, headers=it)
    assert counts.status_code == 200
    assert {(c["field"], c["count"]) for c in counts.json()} >= {("phone", 2), ("country", 1)}
    listed = client.get(
        "/api/v1/master/quality/findings", params={"system": "erp", "field": "phone"}, headers=it
    ).json()
    assert sorted(f["external_id"] for f in listed) == ["M-5", "M-9"]
    assert client.get("/api/v1/master/quality", headers=token_for(Role.sales)).status_code == 403
    export = client.get("/api/v1/master/quality/export.csv", params={"system": "erp"}, headers=it)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(export.text)))
    assert table[0][:2] == ["system", "external_id"]
    assert len(table) == 1 + 5  # phone x2, country, postcode, tax_id
    assert not any(cell.startswith(("=", "+", "@")) for row in table[1:] for cell in row)


def test_hub_master_quality_prints_counts_and_writes_the_csv(database_url, mappings_dir, tmp_path):
    import os
    import subprocess
    import sys

    import_customers(database_url, mappings_dir, "erp", write_erp(tmp_path, MESSY))
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_MAPPINGS_DIR": str(mappings_dir)}
    out = tmp_path / "findings.csv"
    result = subprocess.run(
        [sys.executable, "-m", "hub", "master", "quality", "--system", "erp", "--csv", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "not a known country" in result.stdout
    assert "4 findings written" in result.stderr
    assert len(list(csv.reader(out.open(encoding="utf-8")))) == 1 + 4


def test_customer_changes_are_in_the_timeline_with_before_after_and_who(
    client, token_for, database_url, mappings_dir, tmp_path
):
    """Issue 12: customer changes left no audit entry; now the golden record's and each
    system's copy's changes are in the customer's timeline, like a document's."""
    import_customers(
        database_url,
        mappings_dir,
        "erp",
        write_erp(
            tmp_path,
            [
                (
                    "P-1",
                    "Müller Bau GmbH",
                    "DE136695976",
                    "info@mueller-bau.de",
                    "+49 30 1234567",
                    "",
                    "Berlin",
                    "",
                    "DE",
                ),
            ],
        ),
    )
    import_customers(
        database_url,
        mappings_dir,
        "erp",
        write_erp(
            tmp_path,
            [
                (
                    "P-1",
                    "Müller Bau GmbH",
                    "DE136695976",
                    "info@mueller-bau.de",
                    "+49 30 7654321",
                    "",
                    "Berlin",
                    "",
                    "DE",
                ),
            ],
        ),
    )
    with session_scope(database_url) as session:
        golden_id = search.by_external_id(session, "erp", "P-1").id
    detail = client.get(f"/api/v1/customers/{golden_id}", headers=token_for(Role.it)).json()
    changes = detail["changes"]
    phone = [c for c in changes if c["field"] == "phone"]
    assert {(c["record"].split()[0], c["before"], c["after"], c["actor"]) for c in phone} == {
        ("golden", "+49301234567", "+49307654321", "erp"),
        ("source", "+49 30 1234567", "+49 30 7654321", "erp"),
    }
    assert changes[-1]["field"] == "*"  # the oldest entry: created, from erp P-1


def test_the_it_page_counts_the_findings(client, token_for, database_url, mappings_dir, tmp_path):
    from tests.support.pages import sign_in_client

    import_customers(database_url, mappings_dir, "erp", write_erp(tmp_path, MESSY))
    sign_in_client(client, token_for(Role.it)["Authorization"].split()[1])
    page = client.get("/it").text
    assert 'id="findings"' in page and "not a known country" in page
