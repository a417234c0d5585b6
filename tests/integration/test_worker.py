"""The distributed path: a task sent through a real Redis broker runs on a real Celery worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import select

from hub.db import session_scope
from hub.master import search
from hub.sync.models import SyncRun
from tests.integration.customer_files import write_erp
from tests.support import servers


@pytest.mark.postgres
def test_a_worker_imports_customers_sent_through_redis(postgres_url, mappings_dir, tmp_path: Path):
    database_url = postgres_url
    broker = servers.redis_server_url()
    env = {**os.environ, "HUB_BROKER_URL": broker, "HUB_DATABASE_URL": database_url,
           "HUB_MAPPINGS_DIR": str(mappings_dir)}
    queue = f"hub-test-{os.getpid()}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "hub.tasks", "worker", "--pool=solo",
         "--concurrency=1", "-Q", queue, "--without-heartbeat", "--without-gossip",
         "--without-mingle", "--loglevel=WARNING"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        client = Celery(broker=broker)
        client.send_task("hub.import_customers", args=["erp", str(write_erp(tmp_path))], queue=queue)
        deadline = time.monotonic() + 60
        run = None
        while time.monotonic() < deadline:
            with session_scope(database_url) as session:
                run = session.scalar(select(SyncRun).where(SyncRun.status == "done"))
            if run is not None:
                break
            assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
            time.sleep(0.2)
        assert run is not None, "the worker did not finish the import within 60 s"
        assert (run.read, run.created) == (5, 5)
        with session_scope(database_url) as session:
            assert search.by_external_id(session, "erp", "P-3").name == "トヨタ自動車株式会社"
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
