"""A real SuiteCRM 7.13.2 for tests: started (or installed) on demand, custom fields added the
way Studio would, records seeded through its own SOAP API, and read back from its database.

    crm = suitecrm.ensure()          # pytest.skip(reason) where it cannot run
    ids = crm.create("Accounts", [{"name": "Müller GmbH", "vat_id_c": "DE129273398"}])
    crm.row("accounts", ids[0])      # the stored columns (custom ones too), straight from MariaDB

When SuiteCRM does not answer: ``$SUITECRM_BASE`` (default /tmp/suitecrm) holding an install
→ its ``start.sh``; else, as root, the recipe's ``setup.sh`` (``$SUITECRM_RECIPE``, default
``../shared/systems/suitecrm`` from the repository root), about a minute. Seeding and
read-back use hand-written rpc/encoded envelopes and SQL, never the connector under test.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pymysql
import pytest
import requests
from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
RECIPE = Path(os.environ.get("SUITECRM_RECIPE") or ROOT.parent / "shared" / "systems" / "suitecrm")
BASE = Path(os.environ.get("SUITECRM_BASE") or "/tmp/suitecrm")
PORT = int(os.environ.get("SUITECRM_PORT") or 8089)
DB_PORT = int(os.environ.get("SUITECRM_DB_PORT") or 33306)
USER, PASSWORD = "admin", os.environ.get("SUITECRM_ADMIN_PASS") or "Admin123!"
URL = f"http://127.0.0.1:{PORT}/service/v4_1/soap.php"
WSDL = f"{URL}?wsdl"
NS = "http://www.sugarcrm.com/sugarcrm"

#: Custom fields as Studio adds them: (module, table, field, SQL type, fields_meta_data type, len)
CUSTOM_FIELDS = [
    ("Accounts", "accounts", "vat_id_c", "varchar(32)", "varchar", 32),
    ("AOS_Quotes", "aos_quotes", "erp_number_c", "varchar(64)", "varchar", 64),
]


def answering(timeout: float = 3.0) -> bool:
    try:
        return requests.get(WSDL, timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def _run(script: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUITECRM_BASE": str(BASE), "SUITECRM_PORT": str(PORT), "SUITECRM_DB_PORT": str(DB_PORT)}
    return subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=timeout, env=env)


def start_or_install() -> str | None:
    """Make SuiteCRM answer; the reason it cannot, or None."""
    if answering():
        return None
    if (BASE / "www" / "config.php").exists():
        done = _run(RECIPE / "start.sh", 120)
    elif not (RECIPE / "setup.sh").exists():
        return f"no SuiteCRM recipe at {RECIPE} (set SUITECRM_RECIPE)"
    elif os.geteuid() != 0:
        return f"SuiteCRM is not installed under {BASE} and installing it (PHP, MariaDB) needs root"
    else:
        done = _run(RECIPE / "setup.sh", 900)
    for _ in range(40):
        if answering():
            return None
        time.sleep(0.25)
    output = (done.stdout + done.stderr).strip().splitlines()[-8:]
    return f"SuiteCRM could not be started (PHP or MariaDB not installable here?): {' | '.join(output)}"


def _database() -> pymysql.connections.Connection:
    return pymysql.connect(
        host="127.0.0.1",
        port=DB_PORT,
        user="suitecrm",
        password="suitecrm_pw",
        database="suitecrm",
        autocommit=True,
        charset="utf8mb4",
        cursorclass=pymysql.cursors.DictCursor,
    )


def add_custom_fields() -> None:
    """``vat_id_c`` on accounts, ``erp_number_c`` on quotes, as Studio would (a
    ``fields_meta_data`` row and a column of ``<table>_cstm``); idempotent. The vardef cache
    of a module that gained a field is dropped, so SuiteCRM sees the field at the next call."""
    with _database() as db, db.cursor() as cur:
        for module, table, name, sql_type, meta_type, length in CUSTOM_FIELDS:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {table}_cstm (id_c char(36) NOT NULL PRIMARY KEY) CHARACTER SET utf8mb4"
            )
            cur.execute(f"ALTER TABLE {table}_cstm ADD COLUMN IF NOT EXISTS {name} {sql_type} NULL")
            added = cur.execute(
                "INSERT IGNORE INTO fields_meta_data (id, name, vname, custom_module, type, len, required, "
                "date_modified, deleted, audited, massupdate, duplicate_merge, reportable, importable) "
                "VALUES (%s, %s, %s, %s, %s, %s, 0, NOW(), 0, 0, 0, 0, 1, 'true')",
                (f"{module}{name}", name, f"LBL_{name.upper()}", module, meta_type, length),
            )
            if added:
                for cached in (BASE / "www" / "cache" / "modules" / module).glob("*vardefs.php"):
                    cached.unlink()


def _value(value: Any) -> str:
    return "" if value is None else escape(str(value))


def _pairs(record: dict[str, Any]) -> str:
    items = "".join(f"<item><name>{escape(k)}</name><value>{_value(v)}</value></item>" for k, v in record.items())
    return (
        f'<name_value_list SOAP-ENC:arrayType="tns:name_value[{len(record)}]" xsi:type="tns:name_value_list">'
        f"{items}</name_value_list>"
    )


@dataclass
class SuiteCrm:
    """The running SuiteCRM: raw SOAP for seeding and sessions, SQL for reading back."""

    session: str = ""
    http: requests.Session = field(default_factory=requests.Session)

    def soap(self, operation: str, body: str) -> etree._Element:
        envelope = (
            '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            f'xmlns:tns="{NS}"><SOAP-ENV:Body><tns:{operation} '
            'SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
            f"{body}</tns:{operation}></SOAP-ENV:Body></SOAP-ENV:Envelope>"
        )
        answer = self.http.post(
            URL,
            data=envelope.encode(),
            timeout=60,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f"{URL}/{operation}"},
        )
        root = etree.fromstring(answer.content, etree.XMLParser(resolve_entities=False, no_network=True))
        fault = root.find(".//faultstring")
        if fault is not None:
            raise RuntimeError(f"SuiteCRM {operation}: {fault.text}")
        return root

    def login(self) -> str:
        md5 = hashlib.md5(PASSWORD.encode()).hexdigest()
        root = self.soap(
            "login",
            f"<user_auth><user_name>{USER}</user_name><password>{md5}</password></user_auth>"
            "<application_name>tests</application_name>"
            '<name_value_list SOAP-ENC:arrayType="tns:name_value[0]" '
            'xsi:type="tns:name_value_list"/>',
        )
        self.session = root.findtext(".//return/id") or ""
        assert self.session, "SuiteCRM login answered without a session"
        return self.session

    def logout(self, session: str) -> None:
        """Ends a session (someone else's too): its next call is "Invalid Session ID"."""
        self.soap("logout", f"<session>{escape(session)}</session>")

    def create(self, module: str, records: list[dict[str, Any]]) -> list[str]:
        """``set_entries``: the new ids in order."""
        lists = "".join(_pairs(r) for r in records)
        root = self.soap(
            "set_entries",
            f"<session>{self.session}</session><module_name>{module}</module_name>"
            f'<name_value_lists SOAP-ENC:arrayType="tns:name_value_list[{len(records)}]" '
            f'xsi:type="tns:name_value_lists">{lists}</name_value_lists>',
        )
        ids = [node.text or "" for node in root.iter("item") if node.getparent().tag == "ids"]
        assert len(ids) == len(records) and all(ids), f"set_entries {module}: {ids}"
        return ids

    def update(self, module: str, record: dict[str, Any]) -> None:
        self.soap("set_entry", f"<session>{self.session}</session><module_name>{module}</module_name>{_pairs(record)}")

    # --- reading back, from the database itself -------------------------------------------
    def row(self, table: str, record_id: str) -> dict[str, Any]:
        """A record's columns, its custom ones joined (``<table>_cstm``); {} if there is none."""
        with _database() as db, db.cursor() as cur:
            cur.execute("SHOW TABLES LIKE %s", (f"{table}_cstm",))
            join = f" LEFT JOIN {table}_cstm c ON c.id_c = t.id" if cur.fetchone() else ""
            cur.execute(f"SELECT * FROM {table} t{join} WHERE t.id = %s", (record_id,))
            row = cur.fetchone() or {}
            if table == "accounts" and row:
                cur.execute(
                    "SELECT e.email_address FROM email_addr_bean_rel r JOIN email_addresses e "
                    "ON e.id = r.email_address_id WHERE r.bean_id = %s AND r.deleted = 0 "
                    "AND r.primary_address = 1",
                    (record_id,),
                )
                email = cur.fetchone()
                row["email1"] = email["email_address"] if email else None
            return row

    def sql(self, statement: str, *args: Any) -> list[dict[str, Any]]:
        with _database() as db, db.cursor() as cur:
            cur.execute(statement, args)
            return list(cur.fetchall())

    def wipe(self) -> None:
        """Every record of the modules the tests use, so a run starts from a known SuiteCRM."""
        with _database() as db, db.cursor() as cur:
            for table in (
                "accounts",
                "accounts_cstm",
                "opportunities",
                "accounts_opportunities",
                "cases",
                "aos_quotes",
                "aos_quotes_cstm",
                "email_addr_bean_rel",
                "email_addresses",
            ):
                cur.execute(f"DELETE FROM {table}")


def ensure() -> SuiteCrm:
    """A logged-in SuiteCRM with the custom fields, or ``pytest.skip`` with the reason."""
    reason = start_or_install()
    if reason:
        pytest.skip(reason)
    add_custom_fields()
    crm = SuiteCrm()
    crm.login()
    return crm
