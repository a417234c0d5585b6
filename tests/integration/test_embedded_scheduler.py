"""The embedded default delivers on its own (issue 16): `hub serve` with no broker runs beat's
schedule in-process, so an order posted once reaches the ERP in seconds without a command.

A real `hub serve` process on SQLite, a real web-hook target and the real Tryton; nothing here
calls the dispatcher."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from connectors.tryton.sales import hub_ref_line
from hub.auth.models import Role
from hub.auth.tokens import create_token
from hub.db import session_scope
from hub.master.ingest import CustomerMaster
from hub.migrate import upgrade
from hub.sync.connections import add_connection
from tests.support import tryton
from tests.support.sink import webhook_sink

KEY = "scheduler-test-key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(env: dict[str, str], port: int, *extra: str) -> subprocess.Popen[str]:
    # in the database's folder: `hub serve` writes var/hub.toml where it runs, never into the checkout
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub", "serve", "--port", str(port), *extra],
        env=env,
        cwd=Path(env["HUB_DATABASE_URL"].removeprefix("sqlite:///")).parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"hub serve did not start: {proc.stderr.read() if proc.stderr else ''}")


@pytest.fixture
def served(tmp_path: Path, mappings_dir: Path):
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    (mappings_dir / "routes.yaml").write_text(
        "routes:\n  order:\n    entered_in: [crm, hub]\n    send_to: [{connection: erp, stream: orders}]\n"
        "ownership:\n  order: {status: erp}\n"
    )
    env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_MAPPINGS_DIR": str(mappings_dir), "HUB_SECRET_KEY": KEY}
    env.pop("HUB_BROKER_URL", None)
    with webhook_sink(prefix="SO") as sink, session_scope(url) as session:
        add_connection(
            session,
            name="erp",
            kind="webhook",
            settings={"url": sink.url},
            secrets={"signing_secret": sink.secret},
            secret_key=KEY,
        )
        golden = (
            CustomerMaster(session, mappings_dir)
            .ingest("crm", "A1", {"name": "Suzuki Trading 株式会社", "country": "JP"})
            .golden_id
        )
        token = create_token(session, Role.sales, "a.sales")[1]
        session.commit()
        yield env, sink, golden, token


def _post_order(port: int, token: str, golden: int) -> int:
    answer = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/orders",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "number": "WEB-1",
            "customer_id": golden,
            "owner": "a.sales",
            "lines": [{"product": "P-100", "quantity": "3", "unit_price": "25.50"}],
        },
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def test_an_order_posted_to_hub_serve_reaches_the_erp_without_a_command(served):
    env, sink, golden, token = served
    port = _free_port()
    proc = _serve(env, port)
    try:
        started = time.monotonic()
        _post_order(port, token, golden)
        while not sink.of("orders") and time.monotonic() - started < 20:
            time.sleep(0.2)
        took = time.monotonic() - started
        assert [o["data"]["number"] for o in sink.of("orders")] == ["WEB-1"], "never delivered"
        assert took < 10, f"delivered after {took:.1f} s"
    finally:
        proc.terminate()
        proc.wait(10)


def test_no_scheduler_means_nothing_moves_on_its_own(served):
    """The switch works both ways: `--no-scheduler` (or a broker) leaves it to beat."""
    env, sink, golden, token = served
    port = _free_port()
    proc = _serve(env, port, "--no-scheduler")
    try:
        _post_order(port, token, golden)
        time.sleep(5)
        assert sink.of("orders") == []
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.skipif(not tryton.trytond_available(), reason=tryton.SKIP_REASON)
@pytest.mark.timeout(600)  # a cold cache builds the seeded Tryton database first
def test_an_order_posted_to_hub_serve_becomes_a_sale_in_tryton_within_10_s(
    tryton_server: tryton.TrytonServer, tmp_path: Path, mappings_dir: Path
):
    """Issue 16's promise with the real ERP: posted once to `hub serve`, the order is a Tryton
    sale (its customer's party made first, on the way) in under 10 s, and nobody ran a command."""
    # A fresh ERP: this hub's ids start at 1, and a sale an earlier test made for
    # concord:order:1 would be found by its ref and count as delivered.
    tryton_server.reset_database()
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    upgrade(url)
    (mappings_dir / "routes.yaml").write_text(
        "routes:\n  order:\n    entered_in: [crm, hub]\n    send_to: [{connection: erp, stream: orders}]\n"
        "ownership:\n  order: {status: erp}\n"
    )
    env = {**os.environ, "HUB_DATABASE_URL": url, "HUB_MAPPINGS_DIR": str(mappings_dir), "HUB_SECRET_KEY": KEY}
    env.pop("HUB_BROKER_URL", None)
    with session_scope(url) as session:
        add_connection(
            session,
            name="erp",
            kind="tryton",
            secret_key=KEY,
            settings={"url": tryton_server.url, "database": tryton_server.database, "login": tryton_server.login},
            secrets={"password": tryton_server.password},
        )
        golden = (
            CustomerMaster(session, mappings_dir)
            .ingest("crm", "A1", {"name": "Suzuki Trading 株式会社", "country": "JP"})
            .golden_id
        )
        token = create_token(session, Role.sales, "a.sales")[1]
    port = _free_port()
    proc = _serve(env, port)
    try:
        with tryton_server.client() as client:
            started = time.monotonic()
            order_id = _post_order(port, token, golden)
            marker = hub_ref_line(f"concord:order:{order_id}")
            sales: list[int] = []
            while not sales and time.monotonic() - started < 25:
                time.sleep(0.3)
                sales = client.search("sale.sale", [("comment", "like", f"%{marker}%")])
            took = time.monotonic() - started
            assert sales, f"no Tryton sale carries {marker!r} after {took:.1f} s"
            [sale] = client.read("sale.sale", sales, ["party", "lines"])
            [party] = client.read("party.party", [sale["party"]], ["name"])
            assert party["name"] == "Suzuki Trading 株式会社"
            assert len(sale["lines"]) == 1
        print(f"order -> Tryton sale in {took:.1f} s")  # shown with -s: the figure issue 16 asks for
        assert took < 10, f"the sale reached Tryton after {took:.1f} s"
    finally:
        proc.terminate()
        proc.wait(10)
