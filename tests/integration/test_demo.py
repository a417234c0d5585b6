"""``hub demo`` as a newcomer runs it: the real Tryton, the SOAP CRM and the finance system
start, the story is seeded and synced, the pages answer with the printed tokens, and Ctrl-C
leaves no process behind.

The demo's Tryton database is the test suite's own cache (``$CONCORD_TEST_CACHE`` or
``~/.cache/concord-tests``; one build for both, ``hub/demo/erp.py``): the first run builds
it (~40 s), later runs start from it and from the day's seeded story.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hub.demo import erp
from tests.support.pages import sign_in_client
from tests.support.servers import _free_port, _pid_alive
from tests.support.tryton import _cache_root

pytestmark = [pytest.mark.skipif(not erp.available(), reason=erp.INSTALL_HINT), pytest.mark.timeout(300)]


def _wait_for(proc: subprocess.Popen[str], marker: str, timeout: float) -> str:
    """The demo's output up to the line containing ``marker``."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"no {marker!r} within {timeout} s; output:\n{''.join(seen)}")


def test_the_demo_serves_the_story_and_ctrl_c_stops_every_system(tmp_path: Path) -> None:
    port = _free_port()
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("hub")),
            "demo",
            "--port",
            str(port),
            "--var",
            str(var),
            "--cache",
            str(_cache_root()),
        ],
        cwd=tmp_path,
        env={**env, "COLUMNS": "200"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out = _wait_for(proc, "Ctrl-C stops", 240)
        tryton_pid = int((var / "tryton" / "trytond.pid").read_text())
        tokens = dict(re.findall(r"^\s+(admin|sales|finance|it)\s+(hub_\S+)$", out, re.MULTILINE))
        assert set(tokens) == {"admin", "sales", "finance", "it"}, out
        assert not [line for line in out.splitlines() if line.startswith("  ! ")], out  # no failed sync
        systems = dict(re.findall(r"(erp|crm|finance) (http://127\.0\.0\.1:\d+\S*)", out))
        assert set(systems) == {"erp", "crm", "finance"}, out
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as hub:
            wait = time.monotonic() + 30
            while True:  # uvicorn starts right after the summary
                try:
                    hub.get("/healthz")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < wait, "the hub never listened"
                    time.sleep(0.2)

            # 1. the CRM's order reached the ERP, which gave it its own number
            order_id = re.search(
                r"order CRM-SO-1001, entered in the CRM, is sale (SO\d+) in the ERP → "
                + re.escape(base)
                + r"/orders/(\d+)",
                out,
            )
            assert order_id, out
            status = hub.get(
                f"/api/v1/orders/{order_id[2]}/status", headers={"Authorization": f"Bearer {tokens['sales']}"}
            ).json()
            assert status["numbers"]["crm"] == "CRM-SO-1001" and status["numbers"]["erp"] == order_id[1], status
            sign_in_client(hub, tokens["sales"])  # through the login form
            page = hub.get(f"/orders/{order_id[2]}")
            assert page.status_code == 200 and order_id[1] in page.text and "CRM-SO-1001" in page.text
            hub.cookies.clear()

            # 2. Müller, spelled three ways in three systems, is one customer
            customer = re.search(
                r"appears in 3 systems \(crm, erp, finance\) → GET " + re.escape(base) + r"/api/v1/customers/(\d+)", out
            )
            assert customer, out
            detail = hub.get(f"/api/v1/customers/{customer[1]}", headers={"Authorization": f"Bearer {tokens['it']}"})
            sources = {(s["system"], s.get("name") or s.get("data", {}).get("name")) for s in detail.json()["sources"]}
            assert {system for system, _name in sources} == {"crm", "erp", "finance"}, sources
            assert len({name for _system, name in sources}) >= 2, sources  # spelled differently

            # 3. the project's delivery instalment, billed by finance 45 days ago, is overdue
            late = re.search(r"late delivery payment (SO\d+/delivery): 6,000\.00 due (\S+)", out)
            assert late, out
            overdue = hub.get("/api/v1/receivables/overdue", headers={"Authorization": f"Bearer {tokens['finance']}"})
            [row] = [r for r in overdue.json() if r["reference"] == late[1]]
            assert row["stage"] == "delivery" and row["due_date"] == late[2] and row["days_overdue"] > 0, row
            assert hub.get("/api/v1/me", headers={"Authorization": "Bearer hub_wrong"}).status_code == 401

        # 4. seeded on purpose, and said so: a review pair, a data-quality finding, a dead letter
        assert re.search(r"- review pair crm C09001 / C09002 \(Krause Hydraulik\), score [4-6]\.\d", out), out
        assert "- data-quality finding crm C09003: tax_id DE123456789" in out, out
        assert re.search(r"- dead letter crm/\w+ C09004: .*usable name", out), out

        # 5. a second terminal in the same folder, no HUB_ variables: the CLI works on the demo's
        # hub (var/hub.toml), its key included, and says which file it used
        listed = subprocess.run(
            [sys.executable, "-m", "hub", "dead-letters", "list", "--json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert listed.returncode == 0, listed.stderr
        assert "var/hub.toml" in listed.stderr and str(var / "hub.db") in listed.stderr, listed.stderr
        assert [(d["connection"], d["external_id"]) for d in json.loads(listed.stdout)] == [("crm", "C09004")]
        assert (var / "secret.key").read_text().strip() not in (tmp_path / "var" / "hub.toml").read_text()
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends
        code = proc.wait(60)
    assert code in (0, 130), code
    assert not _pid_alive(tryton_pid) or b"trytond" not in Path(f"/proc/{tryton_pid}/cmdline").read_bytes()
    for url in systems.values():
        with pytest.raises(httpx.TransportError):
            httpx.get(url, timeout=2)
