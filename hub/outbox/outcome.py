"""What became of each delivery of a batch: sent, to retry (with backoff) or dead, and why.

The dispatcher (``hub.outbox.dispatch``) collects a batch's outcomes here while it writes, and
settles them set-wise at the end; ``DeliveryReport`` is what a ``deliver`` call tells its caller
(the CLI, the Celery task, the metrics).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.base import WriteResult
from connectors.errors import RecordError
from hub.outbox.models import OutboxDelivery
from hub.outbox.verify import Verdict

__all__ = ["DeliveryReport", "Failure", "NotYet", "Outcome", "Skipped", "Unexpected", "Written"]


class NotYet(Exception):  # noqa: N818 - a state, not a failure
    """The target lacks something this record refers to (its order, say): try again later."""


@dataclass
class DeliveryReport:
    target: str
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)
    #: sent, but not read back to check (``notes`` says why: the target cannot, …)
    unverified: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Failure:
    text: str
    fatal: bool  # the target refused the record: retrying the same data cannot help


#: A record the target took: its deliveries, the link the hub had, the target's answer.
Written = tuple[list[OutboxDelivery], tuple[str, str | None, int] | None, WriteResult]


class Unexpected(Exception):  # noqa: N818
    """The connector raised something outside its contract for this record: the record is
    retried with backoff and ends dead, visible; the batch's other records go on."""


class Skipped(Exception):  # noqa: N818
    """Not attempted: the target failed earlier in the batch."""


@dataclass
class Outcome:
    #: (delivery id, the target's id, how the write was verified)
    sent_rows: list[tuple[int, str, str]] = field(default_factory=list)
    failed: list[tuple[OutboxDelivery, Failure]] = field(default_factory=list)
    #: first delivery id of a record → what reading its write back found (``checked``)
    verdicts: dict[int, Verdict] = field(default_factory=dict)

    def checked(self, deliveries: list[OutboxDelivery], verdict: Verdict) -> None:
        """What reading the write back found; applied when the record is ``sent``."""
        self.verdicts[deliveries[0].id] = verdict

    def sent(self, deliveries: list[OutboxDelivery], external_id: str) -> None:
        """Linked: sent, or dead when reading it back showed the write did not take effect."""
        verdict = self.verdicts.pop(deliveries[0].id, None)
        if verdict is not None and not verdict.taken:
            self.dead(deliveries, verdict.note)
            return
        note = verdict.note if verdict is not None else "not verified"
        self.sent_rows += [(d.id, external_id, note) for d in deliveries]

    def retry(self, deliveries: list[OutboxDelivery], text: str) -> None:
        self.failed += [(d, Failure(text, fatal=False)) for d in deliveries]

    def dead(self, deliveries: list[OutboxDelivery], text: str) -> None:
        self.failed += [(d, Failure(text, fatal=True)) for d in deliveries]

    def failed_with(self, deliveries: list[OutboxDelivery], exc: Exception) -> str | None:
        """Record why these were not sent; returns the reason when the target itself is down."""
        if isinstance(exc, RecordError):
            self.dead(deliveries, str(exc))
        elif isinstance(exc, Skipped):
            self.retry(deliveries, f"not attempted: {exc}")
        elif isinstance(exc, NotYet | Unexpected):
            self.retry(deliveries, str(exc))  # with backoff, then dead after the route's attempts
        else:
            reason = f"{type(exc).__name__}: {exc}"
            self.retry(deliveries, reason)
            return reason
        return None
