"""`hub outbox dispatch` that is killed with SIGKILL right after the target answered a write.

    python -m tests.support.dying_dispatch HUB_REF [BATCH]

Runs the real command (``hub.cli``'s ``outbox dispatch``: route, then deliver to each due
target) in a process of its own, with two changes only: the dispatcher claims ``BATCH``
deliveries at a time (default 2, so that the batches before the fatal one commit), and
``TrytonConnector.write`` sends SIGKILL to its own process as soon as the write of the record
whose ``hub_ref`` is ``HUB_REF`` has returned — Tryton has committed the sale, the hub has not
committed its link or the delivery's outcome. That is the moment a worker dying (OOM killer,
power cut, a deploy) costs the most: no ``finally``, no rollback, nothing sent back.

The environment gives the hub's database (``HUB_DATABASE_URL``), mappings and secret key, as
for any ``hub`` command.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from typing import Any


def main(hub_ref: str, batch: int) -> None:
    from connectors.base import WriteResult
    from connectors.tryton import TrytonConnector
    from hub.cli import app
    from hub.outbox.dispatch import Dispatcher

    write = TrytonConnector.write

    def write_then_die(
        self: TrytonConnector, stream: str, data: Mapping[str, Any], external_id: str | None
    ) -> WriteResult:
        result = write(self, stream, data, external_id)
        if data.get("hub_ref") == hub_ref:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    init = Dispatcher.__init__

    def small_batches(self: Dispatcher, engine: Any, batch_size: int = batch) -> None:
        init(self, engine, batch_size)

    TrytonConnector.write = write_then_die  # type: ignore[method-assign]
    Dispatcher.__init__ = small_batches  # type: ignore[method-assign,assignment]
    app(["outbox", "dispatch"], standalone_mode=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2)
