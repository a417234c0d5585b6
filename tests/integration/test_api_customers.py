"""The customer API: every route needs its role; search, detail, steward review, merge/unmerge."""

from __future__ import annotations

import re

import pytest

from hub.api.app import create_app
from hub.auth.models import Role
from hub.sync.imports import import_customers
from tests.integration.customer_files import write_crm, write_erp

IT_ONLY = (
    "/api/v1/steward",
    "/api/v1/quarantine",
    "/api/v1/sync-runs",
    "/api/v1/customers/merge",
    "/api/v1/connections",
    "/api/v1/dead-letters",
)


def _api_routes() -> list[tuple[str, str]]:
    """(method, path) of every API operation, from the OpenAPI document users see."""
    paths = create_app().openapi()["paths"]
    return [(m.upper(), p) for p, ops in paths.items() if p.startswith("/api/") for m in ops]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_no_api_route_answers_without_a_token(settings):
    from fastapi.testclient import TestClient

    # one wrong token per route is far more than the throttle allows one client (429): this
    # test is about every route refusing, the throttle has its own (test_sessions.py)
    client = TestClient(create_app(settings.model_copy(update={"auth_failures_max": 100_000})))
    routes = _api_routes()
    assert len(routes) >= 8
    for method, path in routes:
        response = client.request(method, _concrete(path), json={})
        assert response.status_code == 401, (method, path, response.text)
        bad = client.request(method, _concrete(path), json={}, headers={"Authorization": "Bearer hub_not-a-token"})
        assert bad.status_code == 401, (method, path)


@pytest.mark.parametrize("role", [Role.sales, Role.finance])
def test_sales_and_finance_cannot_use_steward_or_quarantine_routes(client, token_for, role):
    headers = token_for(role)
    checked = 0
    for method, path in _api_routes():
        if path.startswith(IT_ONLY):
            response = client.request(method, _concrete(path), json={}, headers=headers)
            assert response.status_code == 403, (role, method, path)
            assert "may not" in response.json()["detail"]
            checked += 1
    assert checked >= 10


def test_every_role_reads_customers(client, token_for, settings, tmp_path):
    import_customers(settings.database_url, settings.mappings_dir, "erp", write_erp(tmp_path))
    for role in Role:
        response = client.get("/api/v1/customers", params={"q": "mueller bau"}, headers=token_for(role))
        assert response.status_code == 200, role
        assert response.json()[0]["name"] == "Müller Bau GmbH"


def test_search_by_each_key_and_detail_with_provenance(client, token_for, settings, tmp_path):
    import_customers(settings.database_url, settings.mappings_dir, "erp", write_erp(tmp_path))
    import_customers(settings.database_url, settings.mappings_dir, "crm", write_crm(tmp_path))
    headers = token_for(Role.sales)

    def one(**params: str) -> dict:
        response = client.get("/api/v1/customers", params=params, headers=headers)
        assert response.status_code == 200, (params, response.text)
        hits = response.json()
        assert hits, params
        return hits[0]

    mueller = one(system="crm", external_id="A100")
    assert one(q="Mullr Bau")["id"] == mueller["id"]  # typo
    assert one(tax_id="DE 136 695 976")["id"] == mueller["id"]  # formatted differently
    assert one(phone="030 1234567", country="DE")["id"] == mueller["id"]
    assert one(email="INFO@mueller-bau.de")["id"] == mueller["id"]
    assert one(q="トヨタ自動車")["name"] == "トヨタ自動車株式会社"

    detail = client.get(f"/api/v1/customers/{mueller['id']}", headers=headers).json()
    assert {(s["system"], s["external_id"]) for s in detail["sources"]} == {("erp", "P-1"), ("crm", "A100")}
    assert detail["fields"]["name"]["value"] == "Müller Bau GmbH"
    assert detail["fields"]["name"]["system"] == "erp"
    assert detail["fields"]["tax_id"] == {
        "value": "DE136695976",
        "system": "erp",
        "external_id": "P-1",
        "source_id": detail["fields"]["tax_id"]["source_id"],
        "at": detail["fields"]["tax_id"]["at"],
        "rule": "source_priority",
    }
    assert client.get("/api/v1/customers/999999", headers=headers).status_code == 404
    bad = client.get("/api/v1/customers", params={"phone": "12", "country": "DE"}, headers=headers)
    assert bad.status_code == 422 and "phone" in bad.json()["detail"]


def test_steward_reviews_a_pair_then_merges_and_unmerges(client, token_for, settings, tmp_path):
    import_customers(settings.database_url, settings.mappings_dir, "erp", write_erp(tmp_path))
    # A CRM record that agrees on the name and the city only: not enough to link, enough to ask.
    write_crm(tmp_path, [("A200", "Acme Industrie", "", "", "", "New York", "US")])
    import_customers(settings.database_url, settings.mappings_dir, "crm", tmp_path / "crm_accounts.csv")
    it = token_for(Role.it)

    pairs = client.get("/api/v1/steward/pairs", headers=it).json()
    assert len(pairs) == 1
    pair = pairs[0]
    assert pair["source"]["external_id"] == "A200"
    assert pair["candidate"]["name"] == "Acme Industries Inc."
    evidence = {e["field"]: e for e in pair["evidence"]}
    assert evidence["name"]["level"] in {"exact", "high", "subset"} and evidence["city"]["level"] == "agree"
    crm_golden, erp_golden = pair["source"]["golden_id"], pair["candidate"]["id"]
    assert crm_golden != erp_golden

    decided = client.post(f"/api/v1/steward/pairs/{pair['id']}/decision", json={"same": True}, headers=it)
    assert decided.status_code == 200 and decided.json()["status"] == "same"
    assert client.get("/api/v1/steward/pairs", headers=it).json() == []
    again = client.post(f"/api/v1/steward/pairs/{pair['id']}/decision", json={"same": True}, headers=it)
    assert again.status_code == 409

    merged = client.get(f"/api/v1/customers/{erp_golden}", headers=it).json()
    assert {s["external_id"] for s in merged["sources"]} == {"P-2", "A200"}
    looked_up = client.get("/api/v1/customers", params={"system": "crm", "external_id": "A200"}, headers=it)
    assert looked_up.json()[0]["id"] == erp_golden

    history = client.get(f"/api/v1/customers/{erp_golden}/history", headers=it).json()
    assert [e["kind"] for e in history] == ["merge"]
    undo = client.post(f"/api/v1/customers/merges/{history[0]['id']}/undo", headers=it)
    assert undo.status_code == 201 and undo.json()["moved_source_ids"]
    back = client.get(f"/api/v1/customers/{crm_golden}", headers=it).json()
    assert back["status"] == "active"
    assert [s["external_id"] for s in back["sources"]] == ["A200"]
    assert (
        client.get("/api/v1/customers", params={"system": "crm", "external_id": "A200"}, headers=it).json()[0]["id"]
        == crm_golden
    )
    assert client.post(f"/api/v1/customers/merges/{history[0]['id']}/undo", headers=it).status_code == 409


def test_quarantine_is_listed_and_replayed_after_the_mapping_is_fixed(client, token_for, settings, tmp_path):
    # two records with nothing but a national phone number, and no country to read it by:
    # they identify nothing until the mapping says which country the export is from
    rows = [("P-20", "", "", "", "040 1111111", "", "Hamburg", "", "Germany")]
    mapping = settings.mappings_dir / "imports" / "customers" / "erp.yaml"
    mapping.write_text(mapping.read_text().replace("  country: Country\n", ""))
    write_erp(tmp_path, [("P-21", "", "", "", "040 2222222", "", "Hamburg", "", "DE")] + rows)
    summary = import_customers(settings.database_url, settings.mappings_dir, "erp", tmp_path / "erp_parties.csv")
    assert summary.quarantined == 2
    it = token_for(Role.it)
    held = client.get("/api/v1/quarantine", headers=it).json()
    assert {h["row_number"] for h in held} == {2, 3}
    assert all("phone" in h["reason"] for h in held)
    result = client.post("/api/v1/quarantine/replay", json={}, headers=it).json()
    assert result == {"replayed": 0, "still_quarantined": 2}  # nothing fixed yet
    mapping.write_text(mapping.read_text() + "default_country: DE\n")
    result = client.post("/api/v1/quarantine/replay", json={}, headers=it).json()
    assert result == {"replayed": 2, "still_quarantined": 0}
    assert client.get("/api/v1/quarantine", headers=it).json() == []
    found = client.get("/api/v1/customers", params={"system": "erp", "external_id": "P-21"}, headers=it)
    assert found.json()[0]["phone"] == "+49402222222"
    runs = client.get("/api/v1/sync-runs", headers=it).json()
    assert runs[0]["failed"] == 2 and runs[0]["status"] == "done"
