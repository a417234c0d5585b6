"""The distributed path: tasks sent through a real Redis broker run on a real Celery worker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import select

from hub.db import session_scope
from hub.master import search
from hub.sync.models import SyncRun
from tests.integration.customer_files import write_erp
from tests.support import servers
from tests.support.workers import celery_worker, wait_for


def worker_env(database_url: str, mappings_dir: Path) -> dict[str, str]:
    return {
        "HUB_BROKER_URL": servers.redis_server_url(),
        "HUB_DATABASE_URL": database_url,
        "HUB_MAPPINGS_DIR": str(mappings_dir),
        "HUB_TASK_QUEUE": f"hub-test-{os.getpid()}",
        "HUB_SECRET_KEY": "worker-test-key",
    }


@pytest.mark.postgres
def test_a_worker_imports_customers_sent_through_redis(postgres_url, mappings_dir, tmp_path: Path):
    env = worker_env(postgres_url, mappings_dir)
    with celery_worker(env) as worker:
        Celery(broker=env["HUB_BROKER_URL"]).send_task(
            "hub.import_customers", args=["erp", str(write_erp(tmp_path))], queue=env["HUB_TASK_QUEUE"]
        )

        def done() -> bool:
            with session_scope(postgres_url) as session:
                return session.scalar(select(SyncRun).where(SyncRun.status == "done")) is not None

        wait_for(done, worker)
    with session_scope(postgres_url) as session:
        run = session.scalar(select(SyncRun))
        assert (run.read, run.created) == (5, 5)
        assert search.by_external_id(session, "erp", "P-3").name == "トヨタ自動車株式会社"
