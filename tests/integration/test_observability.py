"""Metrics and logs as IT's tools see them: /metrics scraped with a token after a real sync,
gauges read from the database and the broker, JSON log lines that carry the sync's run id."""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from datetime import date
from pathlib import Path
from uuid import uuid4

import pytest
import redis
from celery import Celery
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from hub.api.app import create_app
from hub.auth.models import Role
from hub.db import session_scope
from hub.observability.logs import configure_logging
from hub.observability.metrics import broker_gauges
from hub.receivables.scan import scan
from hub.settings import Settings
from hub.sync.connections import add_connection
from hub.sync.engine import SyncEngine
from tests.integration.test_receivables_notify import two_overdue_orders
from tests.support import servers

KEY = "test-secret-key"
HEADER = ["AccountNo", "Account Name", "Tax ID", "Contact E-Mail", "Telephone", "Street", "Town", "ZIP", "Country Code"]


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, keyed by name and labels; parsing it proves the format."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def drop_accounts(inbox: Path, rows: list[list[str]], file: str = "accounts_1.csv") -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADER, *rows])
    (inbox / file).write_text(buffer.getvalue(), encoding="utf-8")


@pytest.fixture
def crm(tmp_path: Path, database_url: str, mappings_dir: Path) -> tuple[str, Path, SyncEngine]:
    """A file-drop connection with a name of its own: counters live as long as the process."""
    name, inbox = f"crm-{uuid4().hex[:8]}", tmp_path / "inbox"
    inbox.mkdir()
    with session_scope(database_url) as session:
        add_connection(
            session,
            name=name,
            kind="files",
            secret_key=KEY,
            secrets={},
            settings={"inbox": str(inbox), "files": "crm", "mapping": "crm_files", "settle_seconds": 0},
        )
    return name, inbox, SyncEngine(database_url, mappings_dir, KEY)


GOOD = [
    ["A-1", "Alpha Technik GmbH", "", "info@alpha.example", "", "", "Berlin", "", "DE"],
    ["A-2", "Gamma Handel KG", "", "info@gamma.example", "", "", "Essen", "", "DE"],
]
BAD = ["A-3", "Delta Service"]  # fields missing: a dead letter


def test_metrics_after_a_sync_with_one_failing_record(crm, database_url, mappings_dir, token_for):
    name, inbox, engine = crm
    drop_accounts(inbox, [GOOD[0], BAD, GOOD[1]])
    [result] = engine.sync(name, ["customers"])
    assert (result.read, result.created, result.failed) == (3, 2, 1)
    two_overdue_orders(database_url)
    scan(database_url, mappings_dir, date(2026, 1, 20), send=False)  # both signings (300 EUR each) overdue

    settings = Settings(database_url=database_url, mappings_dir=mappings_dir, broker_url=None, secret_key=KEY)
    with TestClient(create_app(settings)) as client:
        answer = client.get("/metrics", headers=token_for(Role.it))
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
        got = samples(answer.text)

        def value(metric: str, **labels: str) -> float | None:
            return got.get((metric, frozenset(labels.items())))

        for outcome, n in {"read": 3, "created": 2, "updated": 0, "unchanged": 0, "failed": 1}.items():
            assert value("hub_sync_records_total", connection=name, stream="customers", outcome=outcome) == n, outcome
        assert value("hub_sync_runs_total", connection=name, stream="customers", status="done") == 1
        assert value("hub_dead_letters_open", connection=name) == 1
        assert value("hub_connection_circuit_open", connection=name) == 0
        assert value("hub_receivables_overdue_amount", currency="EUR") == 600
        assert value("hub_receivables_alerts_open", level="1") == 2
        assert value("hub_outbox_unrouted_events") == 4  # the two opportunities and two orders
        assert value("hub_outbox_routing_lag_seconds") >= 0
        assert ("hub_celery_queue_depth", frozenset({("queue", "hub")})) not in got  # tasks run in-process

        # the good rows again in a new file: unchanged records count, the dead letter is still open
        drop_accounts(inbox, [GOOD[0], GOOD[1]], "accounts_2.csv")
        engine.sync(name, ["customers"])
        again = samples(client.get("/metrics", headers=token_for(Role.admin)).text)
        assert (
            again[
                (
                    "hub_sync_records_total",
                    frozenset({"connection": name, "stream": "customers", "outcome": "unchanged"}.items()),
                )
            ]
            == 2
        )
        assert (
            again[
                (
                    "hub_sync_runs_total",
                    frozenset({"connection": name, "stream": "customers", "status": "done"}.items()),
                )
            ]
            == 2
        )

        assert client.get("/metrics").status_code == 401
        refused = client.get("/metrics", headers=token_for(Role.sales))
        assert refused.status_code == 403 and "it" in refused.json()["detail"]


@pytest.mark.parametrize("broker", ["redis", "amqp"])
def test_queue_depth_is_read_from_the_broker(broker: str) -> None:
    url = servers.redis_server_url() if broker == "redis" else servers.amqp_server_url()
    if url is None:
        pytest.skip("HUB_TEST_AMQP_URL is not set")
    queue = f"metrics-{uuid4().hex[:8]}"
    sender = Celery("probe", broker=url)
    try:
        for n in range(3):  # real Celery task messages, waiting with no worker on the queue
            sender.send_task("hub.sync", args=[f"crm-{n}"], queue=queue)
        # RabbitMQ counts a published message a moment after the publish returns (no publisher
        # confirms): read the gauge until the broker has all three, as a scrape a moment later would
        deadline = time.monotonic() + 10
        while True:
            got = {m.name: m.samples for m in broker_gauges(url, queue)}
            depth = got.get("hub_celery_queue_depth", [None])[0]
            if (depth is not None and depth.value == 3) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert got["hub_broker_up"][0].value == 1
        [depth] = got["hub_celery_queue_depth"]
        assert (depth.labels, depth.value) == ({"queue": queue}, 3)
    finally:
        if broker == "redis":
            redis.Redis.from_url(url).delete(queue)
        else:
            with sender.connection_for_write() as conn:
                conn.default_channel.queue_delete(queue)
        sender.close()

    down = {m.name: m.samples for m in broker_gauges("redis://127.0.0.1:1/0", queue)}
    assert down["hub_broker_up"][0].value == 0 and "hub_celery_queue_depth" not in down


def test_a_syncs_log_lines_carry_its_run_id(crm, database_url):
    name, inbox, engine = crm
    drop_accounts(inbox, [GOOD[0], BAD])
    out = io.StringIO()
    handler = configure_logging("json", "INFO", stream=out)
    try:
        [result] = engine.sync(name, ["customers"])
        logging.getLogger("hub.test").info("after the run")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    engine_lines = [line for line in lines if line["logger"] == "hub.sync.engine"]
    assert engine_lines, lines
    assert {(line["connection"], line["stream"], line["run_id"]) for line in engine_lines} == {
        (name, "customers", result.run_id)
    }
    [dead] = [line for line in engine_lines if line["message"].startswith("dead letter")]
    assert dead["level"] == "warning" and "accounts_1.csv row 3" in dead["message"]
    [summary] = [line for line in engine_lines if line["message"].startswith("sync run")]
    assert summary["message"] == "sync run done: read 2, created 1, updated 0, unchanged 0, failed 1"
    assert set(summary) >= {"timestamp", "level", "logger", "message"}
    assert lines[-1]["message"] == "after the run" and "run_id" not in lines[-1]  # the context ended with the run


def test_plain_text_logs_name_the_run_too(crm):
    name, inbox, engine = crm
    drop_accounts(inbox, [BAD])
    out = io.StringIO()
    handler = configure_logging("text", "INFO", stream=out)
    try:
        [result] = engine.sync(name, ["customers"])
    finally:
        logging.getLogger().removeHandler(handler)
    assert f"[connection={name} stream=customers run_id={result.run_id}]" in out.getvalue().splitlines()[0]
    with pytest.raises(ValueError, match="HUB_LOG_FORMAT"):
        configure_logging("xml")
