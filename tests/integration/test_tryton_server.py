"""The real Tryton 8.2 test server: cached seeded database, JSON-RPC reads, stop/restart.

Skipped when ``trytond`` (and the sale / account_invoice_stock modules) is not installed;
the ``test`` extra installs it.  The first run on a machine builds and caches the seeded
database (~40 s), later runs start from a copy (~2 s).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from connectors.errors import TransientError
from tests.support import tryton

pytestmark = [
    pytest.mark.skipif(not tryton.trytond_available(), reason=tryton.SKIP_REASON),
    pytest.mark.timeout(600),  # a cold cache builds the database first
]


@pytest.fixture(scope="module")
def server(tryton_server: tryton.TrytonServer) -> tryton.TrytonServer:
    # The run's one Tryton (tests/conftest.py), from the pristine seed: the tests below read
    # the seed's records, and stop, restart, kill and reset it (each leaves it running).
    return tryton_server.reset_database()


@pytest.fixture
def client(server: tryton.TrytonServer) -> Iterator[tryton.TrytonClient]:
    if not server.running:
        server.start()
    with server.client() as c:
        yield c


def _by_product(moves: list[dict], seed: dict) -> dict[str, float]:
    codes = {p["product_id"]: code for code, p in seed["products"].items()}
    return {codes[m["product"]]: m["quantity"] for m in moves}


def test_server_runs_from_the_cache(server: tryton.TrytonServer) -> None:
    cached = tryton.cache_dir()
    assert (cached / f"{tryton.DATABASE}.sqlite").exists()
    assert (cached / "seed.json").exists()
    assert server.running
    assert server.url == f"http://127.0.0.1:{server.port}/"
    assert server.db_path.parent != cached  # a private copy
    assert server.seed["company"]["currency"] == "EUR"


def test_login_and_context(client: tryton.TrytonClient, server: tryton.TrytonServer) -> None:
    assert client.user_id
    assert client.context["company"] == server.seed["company"]["id"]
    [company] = client.read("company.company", [client.context["company"]], ["currency"])
    [currency] = client.read("currency.currency", [company["currency"]], ["code"])
    assert currency["code"] == "EUR"


def test_customers(client: tryton.TrytonClient, server: tryton.TrytonServer) -> None:
    seeded = server.seed["customers"]
    ids = [c["id"] for c in seeded.values()]
    parties = client.read("party.party", ids, ["name", "code", "addresses", "contact_mechanisms", "identifiers"])
    for data, party in zip(seeded.values(), parties, strict=True):
        assert party["name"] == data["name"]
        assert party["code"] == data["code"]
        [address] = client.read("party.address", party["addresses"], ["street", "postal_code", "city", "country"])
        assert address["id"] == data["address_id"] and address["city"]
        mechanisms = client.read("party.contact_mechanism", party["contact_mechanisms"], ["type", "value"])
        assert {"type": "email", "value": data["email"]} in [
            {"type": m["type"], "value": m["value"]} for m in mechanisms
        ]
        identifiers = client.read("party.identifier", party["identifiers"], ["type", "code"])
        if data["tax_identifier"]:
            assert [(i["type"], i["code"]) for i in identifiers] == [("eu_vat", data["tax_identifier"])]
        else:
            assert identifiers == []


def test_partial_shipment_with_backorder(client: tryton.TrytonClient, server: tryton.TrytonServer) -> None:
    seed = server.seed
    partial = seed["sales"]["partial"]
    [sale] = client.read(
        "sale.sale",
        [partial["id"]],
        ["number", "state", "shipment_state", "invoice_state", "shipments", "invoices"],
    )
    assert sale["number"] == partial["number"]
    assert sale["state"] == "processing"
    assert sale["shipment_state"] == "partially shipped"
    assert sorted(sale["shipments"]) == sorted([partial["shipment"]["id"], partial["backorder"]["id"]])

    done, backorder = client.read(
        "stock.shipment.out",
        [partial["shipment"]["id"], partial["backorder"]["id"]],
        ["number", "state", "outgoing_moves", "customer"],
    )
    assert done["state"] == "done" and backorder["state"] == "waiting"
    assert done["customer"] == backorder["customer"] == partial["party_id"]
    done_moves = client.read("stock.move", done["outgoing_moves"], ["product", "quantity"])
    back_moves = client.read("stock.move", backorder["outgoing_moves"], ["product", "quantity"])
    assert _by_product(done_moves, seed) == {"P-100": 6.0, "P-200": 4.0}
    assert _by_product(back_moves, seed) == {"P-100": 4.0}

    [invoice] = client.read(
        "account.invoice",
        sale["invoices"],
        ["number", "state", "total_amount", "amount_to_pay", "lines_to_pay", "invoice_date"],
    )
    assert invoice["state"] == "posted"
    assert invoice["number"] == partial["invoice"]["number"]
    # invoiced on fulfilment: what was shipped (6 pumps, 4 valves), no taxes
    assert invoice["total_amount"] == Decimal(6) * Decimal("1250.00") + Decimal(4) * Decimal("89.50")
    assert invoice["amount_to_pay"] == invoice["total_amount"]
    [line] = client.read("account.move.line", invoice["lines_to_pay"], ["maturity_date"])
    assert isinstance(invoice["invoice_date"], dt.date)
    assert line["maturity_date"] == invoice["invoice_date"] + dt.timedelta(days=30)


def test_paid_invoice(client: tryton.TrytonClient, server: tryton.TrytonServer) -> None:
    paid = server.seed["sales"]["paid"]
    [sale] = client.read("sale.sale", [paid["id"]], ["state", "invoice_state", "invoices"])
    assert sale["state"] == "done"
    assert sale["invoice_state"] == "paid"
    [invoice] = client.read(
        "account.invoice",
        sale["invoices"],
        ["state", "total_amount", "amount_to_pay", "payment_lines", "reconciled"],
    )
    assert invoice["state"] == "paid"
    assert invoice["amount_to_pay"] == Decimal(0)
    assert invoice["reconciled"]
    payments = client.read("account.move.line", invoice["payment_lines"], ["credit", "debit", "account", "party"])
    assert sum(p["credit"] - p["debit"] for p in payments) == invoice["total_amount"]
    assert {p["account"] for p in payments} == {server.seed["accounts"]["receivable_id"]}
    assert str(invoice["total_amount"]) == paid["payment"]["amount"]


def test_draft_sale(client: tryton.TrytonClient, server: tryton.TrytonServer) -> None:
    draft = server.seed["sales"]["draft"]
    [sale] = client.read("sale.sale", [draft["id"]], ["state", "number", "shipments", "lines"])
    assert sale["state"] == "draft" and sale["number"] is None
    assert sale["shipments"] == [] and len(sale["lines"]) == 1


def test_changes_since_a_timestamp(client: tryton.TrytonClient, server: tryton.TrytonServer) -> None:
    """The connector's incremental read: create_date / write_date after a server time."""
    rows = client.search_read("party.party", [], ["create_date", "write_date"])
    since = max(max(r["create_date"], r["write_date"] or r["create_date"]) for r in rows)
    assert isinstance(since, dt.datetime) and since.tzinfo is None  # naive UTC
    changed = server.seed["customers"]["smith"]["id"]
    client.write("party.party", [changed], {"name": "Smith Engineering Limited"})
    [created] = client.create("party.party", [{"name": "Newcomer GmbH"}])
    domain = ["OR", ("create_date", ">", since), ("write_date", ">", since)]
    assert sorted(client.search("party.party", domain)) == sorted([changed, created])


def test_user_errors_are_raised(client: tryton.TrytonClient) -> None:
    with pytest.raises(tryton.TrytonError) as info:
        client.create(
            "party.party",
            [{"name": "Bad VAT", "identifiers": [["create", [{"type": "eu_vat", "code": "DE1"}]]]}],
        )
    assert info.value.kind == "UserError"


def test_stop_and_restart(server: tryton.TrytonServer) -> None:
    port, db = server.port, server.db_path
    with server.client() as client:
        party = server.seed["customers"]["jansen"]["id"]
        client.write("party.party", [party], {"name": "Jansen Techniek B.V. (renamed)"})

        server.stop()
        assert not server.running
        with pytest.raises(TransientError):  # the product's client: retried, then transient
            client.read("party.party", [party], ["name"])

        server.start()
        assert server.running and server.port == port and server.db_path == db
        # the same client goes on (its session is stored in the database)
        [row] = client.read("party.party", [party], ["name"])
        assert row["name"] == "Jansen Techniek B.V. (renamed)"

        server.restart()
        assert server.port == port
        [row] = client.read("party.party", [party], ["name"])
        assert row["name"] == "Jansen Techniek B.V. (renamed)"


def test_crash_keeps_committed_data(server: tryton.TrytonServer) -> None:
    party = server.seed["customers"]["dupont"]["id"]
    with server.client() as client:
        client.write("party.party", [party], {"name": "Dupont (before the crash)"})
        server.kill()  # SIGKILL: what a crash in the middle of a sync looks like
        assert not server.running
        server.start()
        [row] = client.read("party.party", [party], ["name"])
    assert row["name"] == "Dupont (before the crash)"


def test_client_logs_in_again_after_401(client: tryton.TrytonClient) -> None:
    client.session = "expired-or-unknown"
    [row] = client.read("company.company", [client.context["company"]], ["id"])
    assert row["id"] == client.context["company"]
    assert client.session != "expired-or-unknown"


def test_reset_database(server: tryton.TrytonServer) -> None:
    party = server.seed["customers"]["peeters"]["id"]
    with server.client() as client:
        client.write("party.party", [party], {"name": "Changed"})
    server.reset_database()
    with server.client() as client:
        [row] = client.read("party.party", [party], ["name"])
    assert row["name"] == server.seed["customers"]["peeters"]["name"]


@pytest.mark.parametrize(
    ("model", "code_list"),
    [("sale.sale", "sale_state"), ("stock.shipment.out", "shipment_state"), ("account.invoice", "invoice_state")],
)
def test_every_state_the_real_tryton_has_is_in_the_code_list(
    client: tryton.TrytonClient, model: str, code_list: str
) -> None:
    """A state missing from mappings/connectors/tryton.yaml makes every such record a dead
    letter (Tryton 8.2's customer shipments have a ``shipped`` state between packed and done):
    the code lists must cover what the server itself declares."""
    import yaml

    from hub.settings import BUNDLED_MAPPINGS

    declared = client.call(f"model.{model}.fields_get", ["state"])["state"]["selection"]
    states = {value for value, _label in declared}
    mapping = yaml.safe_load((BUNDLED_MAPPINGS / "connectors" / "tryton.yaml").read_text())
    assert states - set(mapping["codes"][code_list]["values"]) == set()
