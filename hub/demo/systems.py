"""The demo's three systems on free loopback ports, and stopping them all, whatever happens.

The legacy CRM (SOAP) and the finance system (REST) are the simulators, served from threads
of this process; Tryton is a ``trytond`` process in its own process group under
``var/demo/tryton/``, stopped by :meth:`Systems.stop` (also at interpreter exit and on
SIGTERM), so a Ctrl-C leaves no process behind.
"""

from __future__ import annotations

import atexit
import contextlib
import secrets
import signal
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from hub.demo import erp, story
from simulators.finance import FinanceServer
from simulators.legacy_crm import RunningCrm, serve

CRM_USER = "hub-sync"


@dataclass
class Systems:
    """What is running; ``None`` for a system not started (Tryton without trytond)."""

    crm: RunningCrm | None = None
    crm_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    finance: FinanceServer | None = None
    tryton: erp.TrytonServer | None = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def __post_init__(self) -> None:
        atexit.register(self.stop)
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, _terminate)

    def start_tryton(self, cache: Path, workdir: Path, source: Path | None = None) -> erp.TrytonServer:
        """Tryton on the cached setup (the story is seeded on it), or on ``source``."""
        self.tryton = erp.start(cache, workdir, source=source, setup_only=True)
        self._stack.callback(self.tryton.stop)
        return self.tryton

    def start_crm(self) -> RunningCrm:
        store = story.crm_store(CRM_USER, self.crm_password)
        self.crm = self._stack.enter_context(serve(store))
        return self.crm

    def start_finance(self) -> FinanceServer:
        self.finance = self._stack.enter_context(FinanceServer())
        return self.finance

    def stop(self) -> None:
        self._stack.close()


def _terminate(signum: int, frame: FrameType | None) -> Any:
    raise KeyboardInterrupt  # unwinds through the demo's finally: the systems stop
