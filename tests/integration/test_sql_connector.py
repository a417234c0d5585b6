"""The SQL connector against a legacy CRM database on SQLite, PostgreSQL and MariaDB, synced by
the real engine into the hub (SQLite hub for the SQLite CRM, PostgreSQL hub for the others)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine

from connectors.errors import TransientError
from connectors.sql import SqlConnector
from hub.db import session_scope
from hub.documents.models import Opportunity, Order, OrderLine, ServiceCase
from hub.master import search
from hub.sync.connections import add_connection
from hub.sync.engine import SyncEngine
from hub.sync.models import Connection, DeadLetter, Link, SyncCursor
from tests.conftest import _empty_tables
from tests.support import servers

KEY = "test-secret-key"
crm = MetaData()
accounts = Table(
    "crm_accounts",
    crm,
    Column("account_id", Integer, primary_key=True, autoincrement=True),
    Column("account_no", String(20)),
    Column("name", String(200), nullable=False),
    Column("vat_no", String(30)),
    Column("email", String(200)),
    Column("phone", String(50)),
    Column("street", String(200)),
    Column("city", String(100)),
    Column("zip", String(20)),
    Column("country_code", String(2)),
    Column("modified_at", DateTime),  # naive, Berlin time
)
opportunities = Table(
    "crm_opportunities",
    crm,
    Column("opp_id", Integer, primary_key=True),
    Column("opp_no", String(20)),
    Column("account_id", Integer),
    Column("title", String(200)),
    Column("stage_code", String(4)),
    Column("amount", Numeric(12, 2)),
    Column("currency", String(3)),
    Column("close_date", Date),
    Column("owner_login", String(50)),
    Column("loss_code", String(4)),
    Column("modified_at", DateTime),
)
orders = Table(
    "crm_orders",
    crm,
    Column("order_id", Integer, primary_key=True),
    Column("order_no", String(20)),
    Column("account_id", Integer),
    Column("po_number", String(40)),
    Column("status_code", String(2)),
    Column("order_date", Date),
    Column("currency", String(3)),
    Column("total", Numeric(12, 2)),
    Column("modified_at", DateTime),
)
items = Table(
    "crm_order_items",
    crm,
    Column("item_id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("crm_orders.order_id")),
    Column("line_no", Integer),
    Column("sku", String(40)),
    Column("item_text", String(200)),
    Column("qty", Numeric(12, 3)),
    Column("price", Numeric(12, 2)),
)
cases = Table(
    "crm_cases",
    crm,
    Column("case_id", Integer, primary_key=True),
    Column("case_no", String(20)),
    Column("account_id", Integer),
    Column("subject", String(200)),
    Column("status", String(3)),
    Column("priority", String(1)),
    Column("opened_on", Date),
    Column("closed_on", Date),
)

SAME_SECOND = datetime(2026, 11, 20, 10, 0, 0)  # local (Europe/Berlin, CET): 09:00 UTC
ACCOUNTS = [
    {
        "account_id": 1,
        "account_no": "K-1001",
        "name": "Müller Bau GmbH",
        "vat_no": "DE136695976",
        "email": "info@mueller-bau.de",
        "phone": "+49 30 1234567",
        "city": "Berlin",
        "zip": "10115",
        "country_code": "de",
        "modified_at": datetime(2026, 11, 19, 8, 0),
    },
    {
        "account_id": 2,
        "account_no": "K-1002",
        "name": "上海明华电子科技有限公司",
        "email": "contact@minghua.example.cn",
        "city": "上海",
        "country_code": "CN",
        "modified_at": SAME_SECOND,
    },
    {
        "account_id": 3,
        "account_no": "K-1003",
        "name": "トヨタ自動車株式会社",
        "email": "info@toyota.example.jp",
        "city": "東京",
        "country_code": "JP",
        "modified_at": SAME_SECOND,
    },
    {
        "account_id": 4,
        "account_no": "K-1004",
        "name": "Weber Elektro KG",
        "email": "weber@weber-elektro.de",
        "city": "Stuttgart",
        "country_code": "DE",
        "modified_at": SAME_SECOND,
    },
    {
        "account_id": 5,
        "account_no": "K-1005",
        "name": "Legacy Without Date AG",
        "email": "old@legacy.example",
        "city": "Bonn",
        "country_code": "DE",
        "modified_at": None,
    },
]
ORDERS = [
    {
        "order_id": 10,
        "order_no": "SO-10",
        "account_id": 1,
        "po_number": "PO-1",
        "status_code": "C",
        "order_date": date(2026, 11, 2),
        "currency": "EUR",
        "total": Decimal("150.00"),
        "modified_at": SAME_SECOND,
    },
    {
        "order_id": 11,
        "order_no": "SO-11",
        "account_id": 2,
        "po_number": None,
        "status_code": "ZZ",  # unknown code
        "order_date": date(2026, 11, 3),
        "currency": "CNY",
        "total": Decimal("99.00"),
        "modified_at": SAME_SECOND,
    },
    {
        "order_id": 12,
        "order_no": "SO-12",
        "account_id": 3,
        "po_number": "PO-3",
        "status_code": "S",
        "order_date": date(2026, 11, 4),
        "currency": "JPY",
        "total": Decimal("5000.00"),
        "modified_at": SAME_SECOND,
    },
]
ITEMS = [
    {
        "item_id": 100,
        "order_id": 10,
        "line_no": 1,
        "sku": "P-A",
        "item_text": "Pump",
        "qty": Decimal(2),
        "price": Decimal("50.00"),
    },
    {
        "item_id": 101,
        "order_id": 10,
        "line_no": 2,
        "sku": "P-B",
        "item_text": "Valve",
        "qty": Decimal(1),
        "price": Decimal("50.00"),
    },
    {
        "item_id": 102,
        "order_id": 11,
        "line_no": 1,
        "sku": "P-A",
        "item_text": "Pump",
        "qty": Decimal(1),
        "price": Decimal("99.00"),
    },
    {
        "item_id": 103,
        "order_id": 12,
        "line_no": 1,
        "sku": "P-C",
        "item_text": "Motor",
        "qty": Decimal(1),
        "price": Decimal("5000.00"),
    },
]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "mariadb"])
def legacy_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('legacy') / 'crm.db'}"
        return
    if request.param == "postgresql":
        server = servers.postgres_server_url()
    else:
        server = servers.mysql_server_url()
        if server is None:
            pytest.skip("HUB_TEST_MYSQL_URL is not set: no MariaDB server to test against")
    url = servers.create_database(server, prefix="legacy_crm")
    try:
        yield url
    finally:
        servers.drop_database(url)


@dataclass
class Legacy:
    url: str
    db: Engine
    hub_url: str
    engine: SyncEngine

    def execute(self, statement: object) -> None:
        with self.db.begin() as conn:
            conn.execute(statement)

    def add(self, name: str = "crm", **settings: object) -> None:
        with session_scope(self.hub_url) as session:
            add_connection(
                session,
                name=name,
                kind="sql",
                secret_key=KEY,
                secrets={},
                settings={
                    "url": self.url,
                    "tables": "legacy_crm",
                    "mapping": "legacy_sql",
                    "timezone": "Europe/Berlin",
                    "page_size": 2,
                    **settings,
                },
            )


@pytest.fixture
def legacy(request: pytest.FixtureRequest, legacy_url: str, mappings_dir: Path) -> Iterator[Legacy]:
    hub_url = request.getfixturevalue("_sqlite_url" if legacy_url.startswith("sqlite") else "_postgresql_url")
    _empty_tables(hub_url)
    db = create_engine(legacy_url)
    crm.drop_all(db)
    crm.create_all(db)
    with db.begin() as conn:
        conn.execute(accounts.insert(), [{c.name: a.get(c.name) for c in accounts.c} for a in ACCOUNTS])
        conn.execute(orders.insert(), ORDERS)
        conn.execute(items.insert(), ITEMS)
        if db.dialect.name == "postgresql":  # explicit ids do not move PostgreSQL's sequence
            conn.execute(text("SELECT setval(pg_get_serial_sequence('crm_accounts', 'account_id'), 10)"))
    setup = Legacy(legacy_url, db, hub_url, SyncEngine(hub_url, mappings_dir, KEY))
    setup.add()
    yield setup
    db.dispose()


def _cursor(url: str, stream: str) -> str | None:
    with session_scope(url) as session:
        return session.scalar(select(SyncCursor.value).where(SyncCursor.stream == stream))


def test_a_full_sync_reads_every_row_and_orders_with_their_lines(legacy):
    results = {r.stream: r for r in legacy.engine.sync("crm", ["customers", "orders"])}
    # three accounts share one modified-at second across pages of two: none is lost
    assert results["customers"].created == 5 and results["customers"].status == "done"
    assert _cursor(legacy.hub_url, "customers") == "2026-11-20T09:00:00+00:00"  # Berlin → UTC
    with session_scope(legacy.hub_url) as session:
        assert search.by_external_id(session, "crm", "2").name == "上海明华电子科技有限公司"
        assert search.by_external_id(session, "crm", "1").tax_id == "DE136695976"
        assert search.by_external_id(session, "crm", "5") is not None  # no modified-at, still read
        order = session.scalar(select(Order).where(Order.number == "SO-10"))
        assert order.status == "confirmed" and order.total == Decimal("150.00")
        assert order.customer_id == search.by_external_id(session, "crm", "1").id
        lines = session.scalars(
            select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.product)
        ).all()
        assert [(l.product, l.quantity) for l in lines] == [("P-A", Decimal(2)), ("P-B", Decimal(1))]
    again = {r.stream: r for r in legacy.engine.sync("crm", ["customers", "orders"])}
    assert all(r.created == 0 and r.updated == 0 for r in again.values()), again


def test_an_order_with_an_unknown_status_code_is_a_dead_letter_and_the_rest_go_in(legacy):
    results = {r.stream: r for r in legacy.engine.sync("crm", ["customers", "orders"])}
    assert results["orders"].status == "done"
    assert (results["orders"].created, results["orders"].failed) == (2, 1)
    with session_scope(legacy.hub_url) as session:
        [letter] = session.scalars(select(DeadLetter)).all()
        assert letter.external_id == "11" and "'ZZ' is not in code list 'crm_order_status'" in letter.error
        assert letter.payload["data"]["lines"][0]["sku"] == "P-A"


def test_an_incremental_sync_picks_up_changed_rows_sharing_one_second(legacy):
    legacy.engine.sync("crm", ["customers"])
    later = datetime(2026, 11, 21, 8, 30, 15)
    legacy.execute(update(accounts).where(accounts.c.account_id == 1).values(phone="+49 30 7654321", modified_at=later))
    legacy.execute(update(accounts).where(accounts.c.account_id == 4).values(city="Esslingen", modified_at=later))
    [result] = legacy.engine.sync("crm", ["customers"])
    assert (result.updated, result.created) == (2, 0)
    assert result.read < 5  # incremental: not the whole table again
    assert _cursor(legacy.hub_url, "customers") == "2026-11-21T07:30:15+00:00"
    with session_scope(legacy.hub_url) as session:
        assert search.by_external_id(session, "crm", "4").city == "Esslingen"


def test_an_increasing_key_stream_reads_only_new_rows(legacy, tmp_path):
    tables = tmp_path / "by_key.yaml"
    tables.write_text(
        "streams:\n  customers:\n    entity: customer\n    table: crm_accounts\n    id: account_id\n"
        "    incremental: {column: account_id, kind: sequence}\n"
    )
    legacy.add("crm-keyed", tables=str(tables))
    [first] = legacy.engine.sync("crm-keyed", ["customers"])
    assert first.created == 5 and _cursor(legacy.hub_url, "customers") == "5"
    legacy.execute(
        accounts.insert().values(account_id=6, name="Neu GmbH", email="hallo@neu.example", country_code="DE")
    )
    [second] = legacy.engine.sync("crm-keyed", ["customers"])
    assert (second.read, second.created) == (1, 1)


def test_a_column_the_database_lacks_is_a_clear_error(legacy, tmp_path):
    tables = tmp_path / "typo.yaml"
    tables.write_text(
        "streams:\n  customers:\n    entity: customer\n    table: crm_accounts\n    id: account_id\n"
        "    incremental: {column: modified_at}\n    columns: [name, emial]\n"
    )
    legacy.add("crm-typo", tables=str(tables))
    [result] = legacy.engine.sync("crm-typo", ["customers"])
    assert result.status == "failed"
    assert (
        f"{tables}:7: streams.customers.columns.1: stream 'customers': column 'emial' is not in table 'crm_accounts'"
        in result.error
    )
    with session_scope(legacy.hub_url) as session:
        connection = session.scalar(select(Connection).where(Connection.name == "crm-typo"))
        assert not legacy.engine.connector(connection).check().ok


def test_a_database_that_is_down_fails_the_run_and_keeps_the_cursor(legacy, tmp_path):
    legacy.engine.sync("crm", ["customers"])
    before = _cursor(legacy.hub_url, "customers")
    down = (
        "sqlite:///" + str(tmp_path / "no-such-dir" / "crm.db")
        if legacy.url.startswith("sqlite")
        else legacy.url.replace(legacy.url.split("@", 1)[1].split("/", 1)[0], "127.0.0.1:9")
    )
    with session_scope(legacy.hub_url) as session:
        connection = session.scalar(select(Connection).where(Connection.name == "crm"))
        connection.settings = {**connection.settings, "url": down}
    [result] = legacy.engine.sync("crm", ["customers"])
    assert result.status == "failed" and "TransientError" in result.error
    assert _cursor(legacy.hub_url, "customers") == before


def test_the_password_goes_into_the_url_object_and_never_into_messages():
    connector = SqlConnector(
        {"url": "postgresql+psycopg://crm@127.0.0.1:9/crm", "tables": "legacy_crm"}, {"password": "s3cr3t!@"}
    )
    assert connector.url.password == "s3cr3t!@"
    with pytest.raises(TransientError) as failure:
        next(connector.read("customers", None))
    assert "s3cr3t" not in str(failure.value) and "***" in str(failure.value)


def test_a_customer_is_written_back_inserted_once_and_updated(legacy):
    legacy.engine.sync("crm", ["customers"])
    with session_scope(legacy.hub_url) as session:
        connector = legacy.engine.connector(session.scalar(select(Connection).where(Connection.name == "crm")))
    new = {
        "name": "Schmidt Logistik GmbH",
        "tax_id": "DE129273398",
        "email": "info@schmidt-log.de",
        "city": "Hamburg",
        "country": "DE",
    }
    created = connector.write("customers", new, None)
    retried = connector.write("customers", new, None)  # e.g. after a lost reply
    assert created.created and not retried.created and retried.external_id == created.external_id
    connector.write("customers", {"phone": "+49 40 7654321", "name": "Schmidt Logistik GmbH & Co. KG"}, "1")
    connector.close()
    with legacy.db.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(accounts).where(accounts.c.vat_no == "DE129273398")) == 1
        row = conn.execute(select(accounts).where(accounts.c.account_id == 1)).mappings().one()
        assert row["phone"] == "+49 40 7654321" and row["modified_at"] > SAME_SECOND  # touched
    [result] = legacy.engine.sync("crm", ["customers"])
    assert (result.created, result.updated) == (1, 1)
    with session_scope(legacy.hub_url) as session:
        assert search.by_external_id(session, "crm", created.external_id).tax_id == "DE129273398"
        link = session.scalar(select(Link).where(Link.system == "crm", Link.external_id == "1"))
        assert link is not None


def test_opportunities_and_cases_arrive_with_the_crm_codes_mapped(legacy):
    legacy.execute(
        opportunities.insert().values(
            opp_id=7,
            opp_no="OP-7",
            account_id=1,
            title="Pumps 2027",
            stage_code="80",
            amount=Decimal("12000.50"),
            currency="EUR",
            close_date=date(2026, 12, 1),
            owner_login="a.meier",
            modified_at=SAME_SECOND,
        )
    )
    legacy.execute(
        cases.insert().values(
            case_id=1,
            case_no="C-1",
            account_id=3,
            subject="Pump leaks",
            status="OPN",
            priority="1",
            opened_on=date(2026, 11, 18),
        )
    )
    results = {r.stream: r for r in legacy.engine.sync("crm", ["customers", "opportunities", "cases"])}
    assert all((r.status, r.failed) == ("done", 0) for r in results.values()), results
    legacy.execute(
        cases.insert().values(
            case_id=2,
            case_no="C-2",
            account_id=1,
            subject="Invoice copy",
            status="CLS",
            priority="4",
            opened_on=date(2026, 11, 19),
            closed_on=date(2026, 11, 20),
        )
    )
    [cases_again] = legacy.engine.sync("crm", ["cases"])
    assert (cases_again.read, cases_again.created) == (1, 1)  # increasing key: only the new case
    with session_scope(legacy.hub_url) as session:
        won = session.scalar(select(Opportunity).where(Opportunity.number == "OP-7"))
        assert (won.stage, won.amount, won.expected_close) == ("won", Decimal("12000.50"), date(2026, 12, 1))
        assert won.customer_id == search.by_external_id(session, "crm", "1").id
        by_number = {c.number: c for c in session.scalars(select(ServiceCase))}
        assert (by_number["C-1"].status, by_number["C-1"].priority) == ("open", "urgent")
        assert (by_number["C-2"].status, by_number["C-2"].closed_on) == ("closed", date(2026, 11, 20))


def test_date_times_leave_the_connector_in_utc(legacy):
    connector = SqlConnector({"url": legacy.url, "tables": "legacy_crm", "timezone": "Europe/Berlin"}, {})
    [record] = [r for page in connector.read("customers", None) for r in page if r.external_id == "2"]
    connector.close()
    assert record.data["modified_at"].isoformat() == "2026-11-20T09:00:00+00:00"
    assert record.cursor == "2026-11-20T09:00:00+00:00"
