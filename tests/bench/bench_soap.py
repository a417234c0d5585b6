"""Records/s through the SOAP connector, both shapes of the legacy CRM, two page sizes; and
(``--suitecrm``) against the real SuiteCRM 7.13.2.

    python tests/bench/bench_soap.py [--accounts 1500]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
    python tests/bench/bench_soap.py --suitecrm [--accounts 2000] [--page-sizes 200]

``--suitecrm`` wipes SuiteCRM's accounts and seeds ``--accounts`` through its API, then measures
per page size: the raw SOAP read rate (hand-written rpc/encoded requests, lxml only: what the
server delivers), the connector alone (zeep), a full sync into a fresh hub database and the
unchanged re-sync — each with all fields and with only the mapped fields (``select_fields``).
Written to tests/bench/results/suitecrm-2026-12-02.md.

The CRM simulator (a real SOAP service on loopback, in a thread of this process) holds
``--accounts`` accounts and as many orders with two lines each. Per shape and page size it
measures (1) the connector alone reading customers and orders (SOAP call, zeep parsing,
flattening) and (2) a full sync of both streams into a fresh hub database on PostgreSQL (read
+ map + apply: customers through matching, orders through links). Prints a table and writes it
to tests/bench/results/soap-2026-11-22.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from connectors.soap import SoapConnector
from hub.db import get_engine
from hub.migrate import upgrade
from hub.settings import BUNDLED_MAPPINGS
from hub.sync.engine import SyncEngine
from simulators.legacy_crm import CrmStore, RunningCrm, serve
from tests.support import servers
from tests.support.legacy_crm import KEY, PASSWORD, USER, add_crm_connection

RESULT = ROOT / "tests" / "bench" / "results" / "soap-2026-11-22.md"
STREAMS = ["customers", "orders"]
_A = ["Nord", "Süd", "Alpen", "Rhein", "Baltic", "Delta", "Kilo", "Vega", "Orion", "Lumen", "Terra", "Quant"]
_B = ["tech", "werk", "bau", "pumpen", "logistik", "metall", "form", "tronic", "plast", "ventil"]
_C = ["Berlin", "Hamburg", "München", "Köln", "Lyon", "Milano", "Wien", "Praha", "上海", "東京"]


def bulk_store(accounts: int) -> CrmStore:
    store = CrmStore(users={USER: PASSWORD})
    rows = [
        {
            "id": f"C{i:06d}",
            "name": f"{_A[i % 12]}{_B[i // 12 % 10]} {_C[i // 120 % 10]} {i} GmbH",
            "email1": f"einkauf@firma{i}.example",
            "phone_office": f"+49 30 {5550000 + i}",
            "billing_address_street": f"Hauptstraße {i % 200 + 1}",
            "billing_address_city": _C[i // 120 % 10],
            "billing_address_postalcode": f"{10000 + i % 89999}",
            "billing_address_country": "DE",
        }
        for i in range(accounts)
    ]
    orders = [
        {
            "id": f"SO{i:06d}",
            "order_number": f"CRM-{i}",
            "name": f"PO-{i}",
            "account_id": f"C{i:06d}",
            "status": "Confirmed",
            "order_date": "2026-11-02",
            "currency_id": "EUR",
            "total_amount": "2589.00",
            "lines": [
                {
                    "id": f"SO{i:06d}-1",
                    "product_code": "P-100",
                    "name": "Pump",
                    "product_qty": "2",
                    "product_unit_price": "1250.00",
                },
                {
                    "id": f"SO{i:06d}-2",
                    "product_code": "P-200",
                    "name": "Valve",
                    "product_qty": "1",
                    "product_unit_price": "89.00",
                },
            ],
        }
        for i in range(accounts)
    ]
    store.seed(accounts=rows, orders=orders)
    return store


def read_only(crm: RunningCrm, shape: str, page_size: int) -> tuple[int, float]:
    wsdl = crm.sugar_wsdl if shape == "sugar" else crm.nav_wsdl
    connector = SoapConnector(
        {"service": shape, "wsdl": wsdl, "page_size": page_size, "mappings_dir": str(BUNDLED_MAPPINGS)},
        {"username": USER, "password": PASSWORD},
    )
    started = time.perf_counter()
    count = sum(len(page) for stream in STREAMS for page in connector.read(stream, None))
    seconds = time.perf_counter() - started
    connector.close()
    return count, seconds


def full_sync(crm: RunningCrm, shape: str, page_size: int, server_url: str) -> tuple[int, float, str]:
    url = servers.create_database(server_url, prefix="hub_bench_soap")
    try:
        upgrade(url)
        add_crm_connection(url, "crm", shape, crm, BUNDLED_MAPPINGS, page_size=page_size)
        started = time.perf_counter()
        results = SyncEngine(url, BUNDLED_MAPPINGS, KEY).sync("crm", STREAMS)
        seconds = time.perf_counter() - started
        detail = ", ".join(f"{r.stream} {r.status} {r.created}c/{r.failed}f" for r in results)
        return sum(r.read for r in results), seconds, detail
    finally:
        get_engine(url).dispose()
        servers.drop_database(url)


SUITECRM_RESULT = ROOT / "tests" / "bench" / "results" / "suitecrm-2026-12-02.md"


def seed_suitecrm(crm, accounts: int) -> float:
    """``accounts`` accounts through set_entries, 200 a call; seconds taken."""
    crm.wipe()
    started = time.perf_counter()
    for start in range(0, accounts, 200):
        crm.create(
            "Accounts",
            [
                {
                    "name": f"{_A[i % 12]}{_B[i // 12 % 10]} {_C[i // 120 % 10]} {i} GmbH",
                    "vat_id_c": f"DE{100000000 + i}",
                    "email1": f"einkauf@firma{i}.example",
                    "phone_office": f"+49 30 {5550000 + i}",
                    "billing_address_street": f"Hauptstraße {i % 200 + 1}",
                    "billing_address_city": _C[i // 120 % 10],
                    "billing_address_postalcode": f"{10000 + i % 89999}",
                    "billing_address_country": "DE",
                }
                for i in range(start, min(start + 200, accounts))
            ],
        )
    return time.perf_counter() - started


def raw_read(crm, page_size: int, fields: list[str]) -> tuple[int, float]:
    """get_entry_list by hand (no zeep): the server's own rate for a full read."""
    select = "".join(f"<item>{f}</item>" for f in fields)
    count, offset, started = 0, 0, time.perf_counter()
    while True:
        root = crm.soap(
            "get_entry_list",
            (
                f"<session>{crm.session}</session><module_name>Accounts</module_name><query></query>"
                f"<order_by>id</order_by><offset>{offset}</offset>"
                f'<select_fields SOAP-ENC:arrayType="xsd:string[{len(fields)}]">{select}</select_fields>'
                '<link_name_to_fields_array SOAP-ENC:arrayType="tns:link_name_to_fields_array[0]"/>'
                f"<max_results>{page_size}</max_results><deleted>0</deleted><favorites>false</favorites>"
            ),
        )
        got = int(root.findtext(".//result_count") or 0)
        if not got:
            return count, time.perf_counter() - started
        count += got
        offset = int(root.findtext(".//next_offset") or 0)


def suitecrm_mappings(tmp: Path, selected: bool) -> Path:
    """The bundled mappings; ``selected=False``: customers ask for all fields (select_fields [])."""
    import shutil

    target = tmp / ("selected" if selected else "all")
    shutil.copytree(BUNDLED_MAPPINGS, target)
    if not selected:
        service = target / "soap" / "suitecrm.yaml"
        text = service.read_text()
        start = text.index("        select_fields: [id, date_modified, name, vat_id_c")
        end = text.index("\n", text.index("]", start))
        service.write_text(text[:start] + "        select_fields: []" + text[end:])
    return target


def zeep_decoding(client) -> None:
    """Undo ``connectors.soap.decoding``: answers through zeep's value objects (the before)."""
    for binding in client.wsdl.bindings.values():
        for operation in binding._operations.values():
            if "deserialize" in vars(operation.output):
                del operation.output.deserialize


def bench_suitecrm(accounts: int, page_sizes: list[int], server_url: str) -> None:
    import tempfile

    from hub.sync.connections import add_connection
    from tests.support import suitecrm

    crm = suitecrm.ensure()
    seeded = seed_suitecrm(crm, accounts)
    print(f"seeded {accounts} accounts in {seeded:.1f} s", flush=True)
    mapped = [
        "id",
        "date_modified",
        "name",
        "vat_id_c",
        "email1",
        "phone_office",
        "billing_address_street",
        "billing_address_city",
        "billing_address_postalcode",
        "billing_address_country",
    ]
    rows = ["| page size | fields | run | records | seconds | records/s |", "|---:|---|---|---:|---:|---:|"]

    def row(size: int, fields: str, run: str, count: int, seconds: float) -> None:
        rows.append(f"| {size} | {fields} | {run} | {count} | {seconds:.2f} | {count / seconds:.0f} |")
        print(rows[-1], flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        for size in page_sizes:
            for selected in (False, True):
                label = "mapped (select_fields)" if selected else "all"
                row(size, label, "raw SOAP (lxml, no zeep)", *raw_read(crm, size, mapped if selected else []))
                mappings = suitecrm_mappings(Path(tmp) / str(size), selected)
                settings = {
                    "service": "suitecrm",
                    "mapping": "suitecrm",
                    "wsdl": suitecrm.WSDL,
                    "mappings_dir": str(mappings),
                    "page_size": size,
                    "timeout": 120,
                }
                secrets = {"username": suitecrm.USER, "password": suitecrm.PASSWORD}
                for decoder in ("zeep's objects", "connector's decoder"):
                    connector = SoapConnector(settings, secrets)
                    if decoder == "zeep's objects":
                        zeep_decoding(connector.client.zeep)
                    started = time.perf_counter()
                    count = sum(len(page) for page in connector.read("customers", None))
                    row(size, label, f"connector read ({decoder})", count, time.perf_counter() - started)
                    connector.close()
                url = servers.create_database(server_url, prefix="hub_bench_scrm")
                try:
                    upgrade(url)
                    from hub.db import session_scope

                    with session_scope(url) as session:
                        add_connection(
                            session, name="crm", kind="soap", secret_key=KEY, settings=settings, secrets=secrets
                        )
                    engine = SyncEngine(url, mappings, KEY)
                    for run in ("full sync (read + map + match + apply)", "unchanged re-sync (--full)"):
                        started = time.perf_counter()
                        [result] = (
                            engine.sync("crm", ["customers"], full=True)
                            if "re-sync" in run
                            else engine.sync("crm", ["customers"])
                        )
                        assert result.status == "done" and result.failed == 0, result
                        if "re-sync" in run:
                            assert result.created == result.updated == 0, result
                        row(size, label, run, result.read, time.perf_counter() - started)
                finally:
                    get_engine(url).dispose()
                    servers.drop_database(url)
    SUITECRM_RESULT.write_text(
        "# SOAP connector against the real SuiteCRM 7.13.2 — 2026-12-02\n\n"
        f"`python tests/bench/bench_soap.py --suitecrm --accounts {accounts} --page-sizes "
        f"{' '.join(map(str, page_sizes))}`: {accounts} accounts seeded through set_entries ({seeded:.1f} s), "
        "SuiteCRM on PHP 8.2's built-in server (4 workers) + MariaDB on loopback, hub on PostgreSQL, same "
        "machine (2 cores, shared). `all`: select_fields [] (every Accounts field, ~70 pairs a record); "
        "`mapped`: the profile's 10 fields. Raw SOAP is hand-written rpc/encoded requests parsed by lxml "
        "(no zeep): the server's own rate, the ceiling for any client. `zeep's objects` is the connector "
        "with zeep's own answer parsing (value objects, then dicts), `connector's decoder` with "
        "connectors/soap/decoding.py (the default for rpc/encoded); the syncs use the default. The re-sync "
        "is `--full` (every record read again, all unchanged).\n\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    print(f"written to {SUITECRM_RESULT}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=1500)
    ap.add_argument("--page-sizes", type=int, nargs="+", default=[50, 500])
    ap.add_argument("--database-url", default=None, help="PostgreSQL server URL (default: embedded)")
    ap.add_argument("--suitecrm", action="store_true", help="against the real SuiteCRM (see the docstring)")
    args = ap.parse_args()
    server_url = args.database_url or servers.postgres_server_url()
    if args.suitecrm:
        bench_suitecrm(args.accounts, args.page_sizes, server_url)
        return
    rows = ["| shape | page size | run | records | seconds | records/s | detail |", "|---|---:|---|---:|---:|---:|---|"]
    with serve(bulk_store(args.accounts)) as crm:
        for shape in ("sugar", "nav"):
            for size in args.page_sizes:
                count, seconds = read_only(crm, shape, size)
                rows.append(f"| {shape} | {size} | read only | {count} | {seconds:.1f} | {count / seconds:.0f} | |")
                print(rows[-1], flush=True)
                count, seconds, detail = full_sync(crm, shape, size, server_url)
                rows.append(
                    f"| {shape} | {size} | read + map + apply | {count} | {seconds:.1f} | "
                    f"{count / seconds:.0f} | {detail} |"
                )
                print(rows[-1], flush=True)
    RESULT.write_text(
        "# SOAP connector (legacy CRM) — 2026-11-22\n\n"
        f"`python tests/bench/bench_soap.py --accounts {args.accounts}`: {args.accounts} accounts + "
        f"{args.accounts} orders (2 lines each) in the legacy CRM simulator (SOAP 1.1 over HTTP on loopback, "
        "same process); hub on PostgreSQL on this machine (2 cores). Full reads (no cursor); "
        "`read + map + apply` is `SyncEngine.sync` into a fresh database (customers through matching).\n\n"
        + "\n".join(rows)
        + "\n",
        encoding="utf-8",
    )
    print(f"written to {RESULT}")


if __name__ == "__main__":
    main()
