"""What a run must not take for granted: that each record came once, and that a full read is whole.

Both guard against a silent loss the sync engine could otherwise report as "done":

* **A record read twice in one run** (same id, same change stamp) means the system's paging
  is unstable — an offset page whose order the system ignored, a page served twice — and a
  page that repeats records skipped others. The run fails naming the stream, the ids and the
  pages, its cursor goes back to where the run started (the next run reads it all again) and
  nothing is flagged missing. A record read again with a *newer* stamp changed while the run
  paged: that is news, not a fault. A stream whose records may legitimately come twice (two
  files with the same customer) says so with ``Stream.unique_ids = False``.
* **A full read that is empty or much shorter than the last one** (below the connection
  setting ``min_full_read_ratio``, default 0.5, of the last full read of that stream, or of the
  records the hub holds from it when there was none) is far more often a wrong records path,
  filter or permission than a system that lost half its customers. Its records go in, but no
  record is flagged missing and the run ends failed naming the counts, unless the operator
  says the system really shrank (``hub sync NAME --full --force``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import SourceRecord
from hub.sync.links import Binder
from hub.sync.models import SyncRun

#: A full read shorter than this share of the last one flags nothing missing without --force.
MIN_FULL_READ_RATIO = 0.5
SHOWN = 5


@dataclass
class Seen:
    """The ids a run read, with the page (1-based) and stamp each came with."""

    unique: bool = True
    first: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    #: (id, first page, page read again)
    twice: list[tuple[str, int, int]] = field(default_factory=list)

    def add(self, record: SourceRecord, page: int) -> None:
        before = self.first.get(record.external_id)
        if before is not None and self.unique and before[1] == record.cursor:
            self.twice.append((record.external_id, before[0], page))
        self.first[record.external_id] = (page, record.cursor)

    def ids(self) -> set[str]:
        return set(self.first)

    def problem(self, system: str, stream: str) -> str | None:
        """The run's error when records came twice, naming ids and pages; else None."""
        if not self.twice:
            return None
        shown = ", ".join(f"{i!r} (pages {a} and {b})" for i, a, b in self.twice[:SHOWN])
        more = f" and {len(self.twice) - SHOWN} more" if len(self.twice) > SHOWN else ""
        return (
            f"{system} {stream}: {len(self.twice)} record(s) read twice in one run: {shown}{more}. "
            f"{system}'s paging is unstable (records shifted between pages, so others were probably "
            "skipped; check the stream's sort order). The cursor stays where this run started and no "
            "record was flagged missing"
        )


def short_full_read(
    session: Session,
    connection_id: int,
    system: str,
    stream: str,
    entity: str,
    read: int,
    ratio: float,
) -> str | None:
    """Why a full read of ``read`` distinct records is too short to flag missing records; None
    when it is not (see the module's docstring)."""
    last = session.execute(
        select(SyncRun.read, SyncRun.finished_at)
        .where(
            SyncRun.connection_id == connection_id,
            SyncRun.stream == stream,
            SyncRun.full.is_(True),
            SyncRun.status == "done",
        )
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).first()
    held = Binder(session).count(system, entity, present=True)
    if last is not None:
        baseline, what = (
            last[0],
            (
                f"the last full read ({last[0]} on {last[1]:%Y-%m-%d %H:%M})"
                if last[1]
                else f"the last full read ({last[0]})"
            ),
        )
    else:
        baseline, what = held, f"the {held} {entity} record(s) the hub holds from {system}"
    if read == 0 and held:
        return (
            f"{system} {stream}: the full read found no records, while the hub holds {held} of its "
            f"{entity} record(s): none was flagged missing. A records path, filter or permission that "
            f"finds nothing is the likely cause; if {system} really holds none now, run "
            f"hub sync {system} --full --force"
        )
    if baseline and read < ratio * baseline:
        would = max(held - read, 0)
        return (
            f"{system} {stream}: the full read found {read} record(s), under {ratio:.0%} of {what}: "
            f"up to {would} record(s) were not flagged missing. If {system} really lost them, run "
            f"hub sync {system} --full --force (connection setting min_full_read_ratio: {ratio})"
        )
    return None
