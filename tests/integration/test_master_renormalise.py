"""Re-normalising the master (hub.master.renormalise): records stored by an older normaliser
take the current form, their findings and golden values follow, and two copies of one
company that the old form kept apart are merged or queued for a steward.

The "older release" is the current normaliser with one of its earlier mistakes put back:
"ABN 51 824 753 556" read as the id "AUABN51824753556", which vetoes the same company's
"51824753556" from another system (issue 17), and a phone finding it no longer makes."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from hub.db import session_scope
from hub.master import ingest, pages, search
from hub.master.models import CustomerFinding, CustomerSource, MatchKey, MergeEvent, ReviewPair
from hub.master.normalise import NormalisedCustomer, Problem, normalise_customer
from hub.master.renormalise import renormalise
from hub.master.steward import Steward
from hub.sync.imports import import_customers, system_default_country
from tests.integration.customer_files import write_erp

ERP = [
    # id, name, vat, email, phone, street, city, zip, country
    ("E-1", "Koala Freight Pty Ltd", "ABN 51 824 753 556", "", "+61 2 9374 4000", "", "Sydney", "", "Australia"),
    ("E-2", "Maple Parts Inc.", "812345676", "", "", "", "Toronto", "", "CA"),
]
SHOP = [
    ("C-1", "Koala Freight", "51824753556", "", "", "", "Sydney", "", "AU"),
    ("C-2", "Maple Parts", "812345676RT0001", "", "", "", "Toronto", "", "Canada"),
]


def _older_release(raw, default_country=None) -> NormalisedCustomer:  # type: ignore[no-untyped-def]
    norm = normalise_customer(raw, default_country)
    tax = raw.get("tax_id") or ""
    if not tax.startswith("ABN"):
        return norm
    stale = Problem("phone", raw.get("phone") or "", "not a valid phone number")
    return dataclasses.replace(norm, tax_id="AUABN" + "".join(c for c in tax if c.isdigit()), problems=(stale,))


def _load_with_the_older_release(
    database_url: str, mappings_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, erp: list = ERP
) -> None:
    monkeypatch.setattr(pages, "normalise_customer", _older_release)
    monkeypatch.setattr(ingest, "normalise_customer", _older_release)
    import_customers(database_url, mappings_dir, "erp", write_erp(tmp_path, erp))
    (tmp_path / "shop").mkdir()
    mapping = mappings_dir / "imports" / "customers"
    (mapping / "shop.yaml").write_text((mapping / "erp.yaml").read_text())
    import_customers(database_url, mappings_dir, "shop", write_erp(tmp_path / "shop", SHOP))
    monkeypatch.undo()
    with session_scope(database_url) as session:
        koala = search.by_external_id(session, "erp", "E-1")
        assert koala.tax_id == "AUABN51824753556"
        assert koala.id != search.by_external_id(session, "shop", "C-1").id  # the old veto
        assert search.by_external_id(session, "erp", "E-2").id == search.by_external_id(session, "shop", "C-2").id


def _golden_ids(database_url: str) -> dict[str, int]:
    with session_scope(database_url) as session:
        return {
            ext: search.by_external_id(session, system, ext).id
            for system, ext in (("erp", "E-1"), ("shop", "C-1"), ("erp", "E-2"), ("shop", "C-2"))
        }


def test_renormalising_rewrites_stale_forms_and_merges_what_they_kept_apart(
    database_url, mappings_dir, tmp_path, monkeypatch
):
    _load_with_the_older_release(database_url, mappings_dir, tmp_path, monkeypatch)
    summary = renormalise(database_url, mappings_dir, system_default_country(mappings_dir), rematch="merge")
    assert (summary.read, summary.changed, summary.keys_changed) == (4, 1, 1)
    assert (summary.findings_added, summary.findings_cleared) == (0, 1)
    assert (summary.merged, summary.queued) == (1, 0)
    assert summary.refused == [] and summary.identifies_nothing == []
    golden = _golden_ids(database_url)
    assert golden["E-1"] == golden["C-1"] and golden["E-2"] == golden["C-2"]
    with session_scope(database_url) as session:
        source = session.scalars(select(CustomerSource).where(CustomerSource.external_id == "E-1")).one()
        assert source.tax_id == "AU51824753556"
        keys = set(session.scalars(select(MatchKey.key).where(MatchKey.source_id == source.id)))
        assert not any("AUABN" in key for key in keys)
        assert any("AU51824753556" in key for key in keys)
        assert session.scalars(select(CustomerFinding)).all() == []  # the stale finding is cleared
        assert search.by_external_id(session, "erp", "E-1").tax_id == "AU51824753556"
    again = renormalise(database_url, mappings_dir, system_default_country(mappings_dir), rematch="merge")
    assert (again.read, again.changed, again.merged, again.queued) == (4, 0, 0, 0)


def test_by_default_a_steward_decides_and_is_asked_once(database_url, mappings_dir, tmp_path, monkeypatch):
    _load_with_the_older_release(database_url, mappings_dir, tmp_path, monkeypatch)
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_MAPPINGS_DIR": str(mappings_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "hub", "master", "renormalise", "--system", "erp", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["read"], summary["changed"], summary["merged"], summary["queued"]) == (2, 1, 0, 1)
    golden = _golden_ids(database_url)
    assert golden["E-1"] != golden["C-1"]  # nobody merged without a steward
    with session_scope(database_url) as session:
        assert search.by_external_id(session, "erp", "E-1").tax_id == "AU51824753556"  # golden value refreshed
        [pair] = session.scalars(select(ReviewPair)).all()
        assert (pair.status, pair.candidate_golden_id) == ("pending", golden["C-1"])
    _stale_again(database_url)  # a second run: the pair is not asked twice
    summary2 = renormalise(database_url, mappings_dir, system_default_country(mappings_dir))
    assert (summary2.changed, summary2.keys_changed, summary2.queued) == (1, 1, 0)
    with session_scope(database_url) as session:
        assert len(session.scalars(select(ReviewPair)).all()) == 1


@pytest.mark.parametrize("rematch", ["merge", "review"])
def test_a_page_of_stale_records_is_matched_as_one_by_one(database_url, mappings_dir, tmp_path, monkeypatch, rematch):
    """Two stale ERP records of one golden record both reach the shop's copy: matched in one
    page, the second is decided after the first's merge (nothing to merge twice) or after its
    queued pair (the steward is asked once)."""
    second = ("E-3", "Koala Freight Pty Ltd", "ABN 51 824 753 556", "", "", "", "Sydney", "", "Australia")
    _load_with_the_older_release(database_url, mappings_dir, tmp_path, monkeypatch, erp=[*ERP, second])
    before = _golden_ids(database_url)
    summary = renormalise(database_url, mappings_dir, system_default_country(mappings_dir), rematch=rematch)
    assert (summary.read, summary.changed, summary.keys_changed) == (5, 2, 2)
    golden = _golden_ids(database_url)
    with session_scope(database_url) as session:
        e3 = search.by_external_id(session, "erp", "E-3").id
        pairs = session.scalars(select(ReviewPair)).all()
    if rematch == "merge":
        assert (summary.merged, summary.queued) == (1, 0)
        assert golden["E-1"] == golden["C-1"] == e3 == min(before["E-1"], before["C-1"])
        assert pairs == []
    else:
        assert (summary.merged, summary.queued) == (0, 1)
        assert golden == before and e3 == golden["E-1"]
        assert [(p.candidate_golden_id, p.status) for p in pairs] == [(golden["C-1"], "pending")]


def test_renormalising_an_empty_master_is_an_error(database_url, mappings_dir):
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_MAPPINGS_DIR": str(mappings_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "hub", "master", "renormalise"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "no source records to re-normalise" in result.stderr


def _stale_again(database_url: str) -> None:
    """E-1 in the older release's form once more (a second upgrade run, say)."""
    with session_scope(database_url) as session:
        source = session.scalars(select(CustomerSource).where(CustomerSource.external_id == "E-1")).one()
        source.tax_id = "AUABN51824753556"
        session.execute(delete(MatchKey).where(MatchKey.source_id == source.id))


def test_a_stewards_different_or_unmerge_is_never_undone(database_url, mappings_dir, tmp_path, monkeypatch):
    _load_with_the_older_release(database_url, mappings_dir, tmp_path, monkeypatch)
    countries = system_default_country(mappings_dir)
    assert renormalise(database_url, mappings_dir, countries).queued == 1
    with session_scope(database_url) as session:
        [pair] = session.scalars(select(ReviewPair)).all()
        Steward(session, mappings_dir).decide(pair.id, same=False, actor="steward")
    _stale_again(database_url)
    summary = renormalise(database_url, mappings_dir, countries, rematch="merge")
    assert (summary.keys_changed, summary.merged, summary.queued) == (1, 0, 0)
    golden = _golden_ids(database_url)
    assert golden["E-1"] != golden["C-1"]

    # merged by the engine, pulled apart by a steward: the next run leaves them apart
    with session_scope(database_url) as session:
        session.execute(delete(ReviewPair))
    _stale_again(database_url)
    assert renormalise(database_url, mappings_dir, countries, rematch="merge").merged == 1
    with session_scope(database_url) as session:
        event = session.scalars(select(MergeEvent).where(MergeEvent.kind == "merge")).one()
        Steward(session, mappings_dir).unmerge(event.id, actor="steward")
    _stale_again(database_url)
    again = renormalise(database_url, mappings_dir, countries, rematch="merge")
    assert (again.keys_changed, again.merged, again.queued) == (1, 0, 0)
    golden = _golden_ids(database_url)
    assert golden["E-1"] != golden["C-1"]


def test_a_record_whose_new_form_names_another_entity_of_its_golden_record_is_named(
    database_url, mappings_dir, tmp_path, monkeypatch
):
    """The older release kept "ABN 51 824 753 556" only as weak digits, so it joined a
    namesake with another ABN; read right, the two are different legal entities."""

    def weak_abn(raw, default_country=None):  # type: ignore[no-untyped-def]
        norm = normalise_customer(raw, default_country)
        tax = raw.get("tax_id") or ""
        return dataclasses.replace(norm, tax_id="?" + "".join(c for c in tax if c.isdigit())) if "ABN" in tax else norm

    monkeypatch.setattr(pages, "normalise_customer", weak_abn)
    monkeypatch.setattr(ingest, "normalise_customer", weak_abn)
    erp = [("E-1", "Koala Freight Pty Ltd", "ABN 51 824 753 556", "", "", "", "Sydney", "", "AU")]
    shop = [("C-1", "Koala Freight Pty Ltd", "53004085616", "", "", "", "Sydney", "", "AU")]
    mapping = mappings_dir / "imports" / "customers"
    (mapping / "shop.yaml").write_text((mapping / "erp.yaml").read_text())
    import_customers(database_url, mappings_dir, "shop", write_erp(tmp_path, shop))
    (tmp_path / "erp").mkdir()
    import_customers(database_url, mappings_dir, "erp", write_erp(tmp_path / "erp", erp))
    monkeypatch.undo()
    with session_scope(database_url) as session:
        joined = search.by_external_id(session, "erp", "E-1").id
        assert joined == search.by_external_id(session, "shop", "C-1").id
    summary = renormalise(database_url, mappings_dir, system_default_country(mappings_dir), rematch="merge")
    assert summary.split == [("erp", "E-1", joined)]
    assert (summary.merged, summary.queued) == (0, 0)
