"""``hub mappings check`` refuses what the hub does not have — a canonical field, a code, an
entity, a stream, a connection — naming file, line and field, before a sync or a dispatch
would silently lose the value or never send the record."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hub.config.checks import check_all
from hub.config.loader import ConfigError
from hub.settings import BUNDLED_MAPPINGS
from hub.sync.mapping import load_connector_map

#: The demo's connections (hub.demo.run): what the bundled routes.yaml names.
DEMO = {
    "erp": ("tryton", {}),
    "crm": ("soap", {"service": "sugar", "mapping": "sugar"}),
    "finance": ("accounting", {}),
}


@pytest.fixture
def mappings(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(BUNDLED_MAPPINGS, target)
    return target


def _break(mappings: Path, file: str, old: str, new: str) -> tuple[Path, int]:
    """Replace ``old`` (once) in a copy's file; the file and the line where it now differs."""
    path = mappings / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {file}"
    at = text.index(old) + next(i for i, (a, b) in enumerate(zip(old, new + "\0")) if a != b)
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path, text[:at].count("\n") + 1


def test_the_bundled_mappings_pass_offline_and_against_the_demos_connections(mappings):
    assert check_all(mappings) == []
    assert check_all(mappings, DEMO) == []


BROKEN = [
    # an unknown canonical field: the total would silently be lost
    (
        "connectors/tryton.yaml",
        "without\n      total: {path: total_amount",
        "without\n      totl: {path: total_amount",
        "streams.orders.fields.totl",
        "order has no field 'totl'",
    ),
    # a field of an order line the hub does not have
    (
        "connectors/tryton.yaml",
        "          description: description\n",
        "          descr: description\n",
        "streams.orders.fields.lines.each.descr",
        "order.lines has no field 'descr'",
    ),
    # a code the code list does not have: the delivery stage would never be reached
    (
        "connectors/tryton.yaml",
        " done: shipped,",
        " done: delivered,",
        "codes.shipment_state.values.done",
        "'delivered' is no hub code of shipment status",
    ),
    # a code list's default outside the code list
    (
        "connectors/nav.yaml",
        "    default: other\n  order_status:",
        "    default: unknown\n  order_status:",
        "codes.loss_reason.default",
        "'unknown' is no hub code of loss reason",
    ),
    # a coded field filled with the system's own values, unchecked
    (
        "connectors/accounting.yaml",
        "status: {path: Status, codes: invoice_status}",
        "status: Status",
        "streams.invoices.fields.status",
        "map it through a code list",
    ),
    # a stream whose name stands for no entity
    (
        "connectors/legacy_sql.yaml",
        "  cases:\n    fields:",
        "  tickets:\n    fields:",
        "streams.tickets",
        "feeds no canonical entity",
    ),
    # routes.yaml: a route to a stream no connector has
    (
        "routes.yaml",
        "{connection: crm, stream: shipments,",
        "{connection: crm, stream: shipmnts,",
        "routes.shipment.send_to.0.stream",
        "no connector kind or service offers a writable shipment stream 'shipmnts'",
    ),
    # … or only reads (Tryton's shipments are not writable)
    (
        "routes.yaml",
        "report_back: orders}",
        "report_back: shipments}",
        "routes.order.send_to.0.report_back",
        "writable order stream 'shipments'",
    ),
    # routes.yaml: an entity the hub does not have
    (
        "routes.yaml",
        "  payment:\n    entered_in: [finance]",
        "  payments:\n    entered_in: [finance]",
        "routes.payments",
        "unknown entity 'payments'",
    ),
    # routes.yaml: an owned field the record does not have
    (
        "routes.yaml",
        "    untaxed_total: erp\n",
        "    untaxed: erp\n",
        "ownership.order.untaxed",
        "order has no field 'untaxed'",
    ),
    # routes.yaml: when_linked names no reference of a shipment
    (
        "routes.yaml",
        "when_linked: order}",
        "when_linked: orders}",
        "routes.shipment.send_to.0.when_linked",
        "shipment has no reference 'orders'",
    ),
    # a SOAP service's stream feeding an entity the hub does not have
    (
        "soap/sugar.yaml",
        "    entity: shipment\n",
        "    entity: delivery\n",
        "streams.shipments.entity",
        "unknown entity 'delivery'",
    ),
]


@pytest.mark.parametrize("file, old, new, field, message", BROKEN, ids=[b[3] for b in BROKEN])
def test_a_broken_mapping_names_file_line_and_field(mappings, file, old, new, field, message):
    path, line = _break(mappings, file, old, new)
    problems = check_all(mappings)
    assert any(p.startswith(f"{path}:{line}: {field}: ") and message in p for p in problems), problems


def test_a_route_to_a_connection_that_does_not_exist_or_lacks_the_stream(mappings):
    path = mappings / "routes.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    # the CRM reads the typed SOAP shape (nav), which writes no shipments and no orders
    problems = check_all(mappings, {"erp": ("tryton", {}), "crm": ("soap", {"service": "nav"})})
    shipments = next(n for n, text in enumerate(lines, 1) if "stream: shipments" in text)
    report = next(n for n, text in enumerate(lines, 1) if "report_back: orders" in text)
    finance = next(n for n, text in enumerate(lines, 1) if "entered_in: [erp, finance]" in text)
    assert (
        f"{path}:{shipments}: routes.shipment.send_to.0.stream: connection 'crm' (soap) has no writable "
        "shipment stream 'shipments' (its writable shipment streams: none)" in problems
    )
    assert any(p.startswith(f"{path}:{report}: routes.order.send_to.0.report_back: connection 'crm'") for p in problems)
    assert any(
        p.startswith(f"{path}:{finance}: routes.invoice.entered_in.1: no connection 'finance'") for p in problems
    )


def test_a_sync_refuses_a_broken_field_map_too(mappings):
    """The sync loads maps through the same check: a typo stops it with file and line instead
    of mapping every order without its total."""
    path, line = _break(
        mappings,
        "connectors/tryton.yaml",
        "without\n      total: {path: total_amount",
        "without\n      totl: {path: total_amount",
    )
    with pytest.raises(ConfigError) as caught:
        load_connector_map(mappings, "tryton")
    assert f"{path}:{line}: streams.orders.fields.totl: order has no field 'totl'" in str(caught.value)


def test_the_command_exits_non_zero_naming_file_and_line(mappings, tmp_path):
    path, line = _break(mappings, "connectors/tryton.yaml", " done: shipped,", " done: delivered,")
    env = {
        **os.environ,
        "HUB_MAPPINGS_DIR": str(mappings),
        "HUB_DATABASE_URL": f"sqlite:///{tmp_path}/none.db",
    }
    result = subprocess.run(
        [sys.executable, "-m", "hub", "mappings", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    err = result.stderr.replace("\n", "")
    assert f"{path}:{line}: codes.shipment_state.values.done: 'delivered'" in err
    assert "not checked against the connections: no database at" in err  # said, not silently skipped
    assert not (tmp_path / "none.db").exists()  # a check creates no database


def test_the_hubs_own_connections_are_what_a_route_may_name(mappings, tmp_path):
    """Read from the hub's database: a system that is no connection, and a connection whose
    connector lacks the route's stream (a web hook that takes only orders), are refused; a hub
    without connections yet says so instead of refusing every route."""
    from hub.config.checks import stored_connections
    from hub.db import session_scope
    from hub.migrate import upgrade
    from hub.sync.models import Connection

    url = f"sqlite:///{tmp_path}/hub.db"
    upgrade(url)
    assert stored_connections(url) == "the hub has no connections yet (hub connections add)"
    with session_scope(url) as session:
        session.add_all(
            [
                Connection(name="erp", kind="tryton", settings={}),
                Connection(
                    name="crm",
                    kind="webhook",
                    settings={"url": "https://crm.example/h", "streams": ["orders"]},
                ),
            ]
        )
    connections = stored_connections(url)
    assert not isinstance(connections, str) and sorted(connections) == ["crm", "erp"]
    problems = "\n".join(check_all(mappings, connections))
    path = mappings / "routes.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    shipments = next(n for n, text in enumerate(lines, 1) if "stream: shipments" in text)
    finance = next(n for n, text in enumerate(lines, 1) if "entered_in: [finance]" in text)
    assert (
        f"{path}:{shipments}: routes.shipment.send_to.0.stream: connection 'crm' (webhook) has no writable shipment stream "
        "'shipments' (its writable shipment streams: none)" in problems
    )
    assert f"{path}:{finance}: routes.payment.entered_in.0: no connection 'finance' (connections: crm, erp;" in problems
    assert "report_back" not in problems  # the web hook takes orders: the CRM learns the ERP's number


def test_a_connections_field_map_must_map_every_stream_its_connector_offers(mappings):
    """The CRM's SOAP service offers shipments; read with the typed shape's map (nav), which
    has none, every shipment would become a dead letter. A stream renamed in the map (a typo)
    is named too: no connection reading with that map offers it."""
    nav = mappings / "connectors" / "nav.yaml"
    problems = check_all(mappings, {**DEMO, "crm": ("soap", {"service": "sugar", "mapping": "nav"})})
    assert any(
        p.startswith(f"{nav}:")
        and "connection 'crm' (soap service sugar) offers stream 'shipments' (shipment), which this map does not map"
        in p
        for p in problems
    ), problems
    sugar, line = _break(
        mappings,
        "connectors/sugar.yaml",
        "  cases:\n    fields:",
        "  cses:\n    entity: case\n    fields:",
    )
    problems = check_all(mappings, DEMO)
    assert (
        f"{sugar}:{line}: streams.cses: no connection reading with this map ('crm') offers a stream "
        "'cses'" in "\n".join(problems)
    )
    assert any("offers stream 'cases' (case), which this map does not map" in p for p in problems)
