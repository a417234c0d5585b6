"""Finding orders by part of the customer's name: what was typed is text, not a LIKE pattern."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.auth.models import Role
from hub.db import session_scope
from hub.master.ingest import CustomerMaster


def test_percent_and_underscore_in_customer_match_only_themselves(
    client: Any, token_for: Any, database_url: str, mappings_dir: Path
) -> None:
    with session_scope(database_url) as session:
        master = CustomerMaster(session, mappings_dir)
        ids = {name: master.ingest("crm", ext, {"name": name, "country": "DE"}).golden_id
               for ext, name in (("A1", "50% Rabatt GmbH"), ("A2", "Okafor Ltd"))}
    it = token_for(Role.it)
    for n, golden in enumerate(ids.values()):
        posted = client.post("/api/v1/orders", headers=it, json={
            "number": f"S-{n}", "customer_id": golden, "lines": [{"product": "P", "quantity": "1", "unit_price": "1"}]})
        assert posted.status_code == 201, posted.text

    def found(customer: str) -> list[str]:
        answer = client.get("/api/v1/orders", params={"customer": customer}, headers=it)
        assert answer.status_code == 200, answer.text
        return [o["customer"] for o in answer.json()]

    assert found("%") == ["50% Rabatt GmbH"] and found("50%") == ["50% Rabatt GmbH"]
    assert found("_") == [] and found("Okafor_Ltd") == [] and found("/") == []
    assert found("okafor") == ["Okafor Ltd"]
