"""Alert digests over real SMTP (aiosmtpd on loopback) and signed webhooks to a loopback
receiver that verifies the signature; a failed delivery is kept and retried; API and CLI."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from decimal import Decimal
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub.auth.models import Role
from hub.db import session_scope
from hub.notify import SignatureError, verify
from hub.receivables.models import AlertDelivery
from hub.receivables.scan import scan
from tests.integration.test_receivables import D, put
from tests.support.servers import _free_port

SECRET = "webhook-test-secret"


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Any]] = []
        self.url = ""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller

    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{port}"
    monkeypatch.setenv("HUB_SMTP_URL", inbox.url)
    try:
        yield inbox
    finally:
        controller.stop()


class Receiver(ThreadingHTTPServer):
    """A webhook endpoint that accepts only correctly signed requests."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self.down = False
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/finance"


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.server.down:
            self.send_response(503)
        else:
            try:
                verify(SECRET, self.headers, body, max_skew=60)
                self.server.received.append(json.loads(body))
                self.send_response(204)
            except SignatureError as exc:
                self.server.refused.append(str(exc))
                self.send_response(401)
        self.end_headers()


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("HUB_WEBHOOK_SECRET", SECRET)
    try:
        yield receiver
    finally:
        receiver.shutdown()
        receiver.server_close()


def notify_to(mappings_dir: Path, webhook_url: str) -> None:
    """Point the pipeline's finance recipients at the test receiver too."""
    path = mappings_dir / "pipelines" / "default.yaml"
    path.write_text(path.read_text().replace("    webhook: []", f"    webhook: [{webhook_url}]"))


def two_overdue_orders(url: str) -> None:
    for n in (1, 2):
        put(
            url,
            "opportunity",
            f"OPP-{n}",
            number=f"OPP-{n}",
            stage="won",
            expected_close=D("2026-01-02"),
            owner="ann@sales.example",
        )
        put(
            url,
            "order",
            str(n),
            number=f"SO-{n}",
            reference=f"OPP-{n}",
            status="confirmed",
            ordered_on=D("2026-01-05"),
            currency="EUR",
            total=Decimal(1000),
            lines=[],
        )


def test_one_digest_per_recipient_per_scan_by_mail_and_signed_webhook(database_url, mappings_dir, smtp, webhook):
    notify_to(mappings_dir, webhook.url)
    two_overdue_orders(database_url)
    result = scan(database_url, mappings_dir, D("2026-01-20"))  # both signings overdue (from 19 Jan)
    assert result.alerts_raised == 2 and result.failed == []
    [(to, mail)] = smtp.messages  # one mail for two alerts
    assert to == ["finance@concord.example"]
    assert "2 overdue stage payments" in mail["Subject"]
    text = mail.get_payload()
    assert "SO-1/signing" in text and "SO-2/signing" in text
    [payload] = webhook.received
    assert payload["event"] == "receivables.overdue"
    assert sorted(a["instalment"] for a in payload["alerts"]) == ["SO-1/signing", "SO-2/signing"]
    assert webhook.refused == []

    again = scan(database_url, mappings_dir, D("2026-01-21"))
    assert again.sent == [] and len(smtp.messages) == 1 and len(webhook.received) == 1

    # level 2 goes to finance and the sales owner: one mail each, one webhook
    scan(database_url, mappings_dir, D("2026-02-03"))
    assert sorted(to[0] for to, _m in smtp.messages[1:]) == ["ann@sales.example", "finance@concord.example"]
    assert len(webhook.received) == 2


def test_a_failed_delivery_is_kept_and_sent_by_the_next_scan(database_url, mappings_dir, smtp, webhook, monkeypatch):
    notify_to(mappings_dir, webhook.url)
    two_overdue_orders(database_url)
    webhook.down = True
    monkeypatch.setenv("HUB_SMTP_URL", f"smtp://127.0.0.1:{_free_port()}")  # nobody listens there
    first = scan(database_url, mappings_dir, D("2026-01-20"))
    assert first.sent == [] and len(first.failed) == 2
    assert "answered 503" in " ".join(first.failed) and "SMTP to 127.0.0.1" in " ".join(first.failed)
    with session_scope(database_url) as session:
        rows = session.scalars(select(AlertDelivery)).all()
        assert {(r.status, r.attempts) for r in rows} == {("pending", 1)} and all(r.last_error for r in rows)

    webhook.down = False
    monkeypatch.setenv("HUB_SMTP_URL", smtp.url)  # the mail server is back
    retry = scan(database_url, mappings_dir, D("2026-01-21"))
    assert retry.alerts_raised == 0 and len(retry.sent) == 2
    assert len(smtp.messages) == 1 and len(webhook.received) == 1


def test_a_wrong_secret_is_refused_by_the_receiver(database_url, mappings_dir, smtp, webhook, monkeypatch):
    notify_to(mappings_dir, webhook.url)
    two_overdue_orders(database_url)
    monkeypatch.setenv("HUB_WEBHOOK_SECRET", "not-the-shared-secret")
    result = scan(database_url, mappings_dir, D("2026-01-20"))
    assert webhook.received == [] and webhook.refused == ["signature does not match the body and timestamp"]
    assert [f for f in result.failed if "answered 401" in f]


def test_finance_api_roles_views_and_exports(client, token_for, database_url, mappings_dir):
    two_overdue_orders(database_url)
    finance, sales = token_for(Role.finance), token_for(Role.sales)
    assert client.post("/api/v1/receivables/scan", json={"as_of": "2026-01-20"}, headers=sales).status_code == 403
    scanned = client.post("/api/v1/receivables/scan", json={"as_of": "2026-01-20"}, headers=finance)
    assert scanned.status_code == 200 and scanned.json()["alerts_raised"] == 2

    overdue = client.get("/api/v1/receivables/overdue?as_of=2026-01-20", headers=finance).json()
    assert [(r["reference"], r["days_overdue"], r["level"]) for r in overdue] == [
        ("SO-1/signing", 1, 1),
        ("SO-2/signing", 1, 1),
    ]
    order_id = overdue[0]["order_id"]
    # sales reads only the orders it owns: the token's name must be the sales owner
    assert client.get(f"/api/v1/receivables/orders/{order_id}", headers=sales).status_code == 403
    assert client.get("/api/v1/receivables/overdue", headers=sales).json() == []

    ageing = client.get("/api/v1/receivables/ageing?as_of=2026-03-01&by=stage", headers=finance).json()
    assert ageing["buckets"] == ["current", "1-30", "31-60", "61-90", "90+"]
    [row] = ageing["rows"]
    assert (row["stage"], row["31-60"], row["total"]) == ("signing", 600.0, 600.0)  # due 16 Jan: 44 days
    custom = client.get("/api/v1/receivables/ageing?as_of=2026-03-01&buckets=10&buckets=50", headers=finance).json()
    assert custom["buckets"] == ["current", "1-10", "11-50", "50+"] and custom["rows"][0]["11-50"] == 600.0

    funnel = client.get("/api/v1/receivables/funnel", headers=finance).json()
    assert [(s["stage"], s["orders"], s["conversion"]) for s in funnel["stages"]] == [
        ("signing", 2, 1.0),
        ("delivery", 0, 0.0),
        ("acceptance", 0, None),
    ]

    accepted = client.post(
        f"/api/v1/receivables/orders/{order_id}/stages/acceptance", json={"date": "2026-02-01"}, headers=finance
    )
    assert accepted.status_code == 200 and accepted.json()["source"] == "recorded"
    wrong = client.post(
        f"/api/v1/receivables/orders/{order_id}/stages/nope", json={"date": "2026-02-01"}, headers=finance
    )
    assert wrong.status_code == 422 and "stage 'nope' is not in pipeline" in wrong.json()["detail"]

    alert_id = overdue[0]["alert"]["id"]
    assert client.post(f"/api/v1/receivables/alerts/{alert_id}/acknowledge", headers=finance).status_code == 204
    assert client.get("/api/v1/receivables/alerts?status=acknowledged", headers=finance).json()[0]["id"] == alert_id

    bad = client.put(
        "/api/v1/receivables/pipelines/default",
        headers={**finance, "Content-Type": "application/yaml"},
        content=(mappings_dir / "pipelines" / "default.yaml").read_text().replace("percent: 30", "percent: 50"),
    )
    assert bad.status_code == 422 and "percentages add up to" in bad.json()["detail"] and "api:" in bad.json()["detail"]
    good = client.put(
        "/api/v1/receivables/pipelines/default",
        headers={**finance, "Content-Type": "application/yaml"},
        content=(mappings_dir / "pipelines" / "default.yaml").read_text().replace("grace_days: 3", "grace_days: 4"),
    )
    assert good.status_code == 200 and good.json()["version"] == 2

    csv = client.get("/api/v1/receivables/export/overdue.csv?as_of=2026-01-20", headers=finance)
    assert csv.status_code == 200 and "SO-1/signing" in csv.content.decode("utf-8-sig")
    xlsx = client.get("/api/v1/receivables/export/counts:instalment_status.xlsx", headers=finance)
    import io

    import pandas as pd

    sheet = pd.read_excel(io.BytesIO(xlsx.content))
    # statuses are as of the last scan: the acceptance recorded since counts at the next one
    assert dict(zip(sheet["value"], sheet["count"])) == {"pending": 4, "overdue": 2}


def test_the_cli_scans_and_exports(database_url, mappings_dir, tmp_path):
    from tests.integration.test_cli import hub

    two_overdue_orders(database_url)
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_MAPPINGS_DIR": str(mappings_dir)}
    env.pop("HUB_SMTP_URL", None)
    out = hub(env, "receivables", "scan", "--as-of", "2026-01-20").stdout
    assert "enrolled 2" in out and "alerts raised 2" in out and "failed 1" in out  # no SMTP configured: kept
    ageing = json.loads(hub(env, "receivables", "ageing", "--as-of", "2026-01-20", "--json").stdout)
    assert ageing["rows"][0]["1-30"] == 600.0
    hub(env, "receivables", "export", "ageing", "--out", str(tmp_path / "ageing.xlsx"), "--as-of", "2026-01-20")
    assert (tmp_path / "ageing.xlsx").read_bytes()[:2] == b"PK"
    bad = hub(env, "receivables", "scan", "--as-of", "20.01.2026", check=False)
    assert bad.returncode == 2 and "is not a date" in bad.stderr
