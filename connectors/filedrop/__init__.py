"""CSV and XLSX files dropped in an inbox folder, each imported once.

Settings (``connectors.filedrop.settings``): ``inbox`` (a folder), ``files`` (the layout: a name under ``mappings/files/`` or a
path to a YAML file), ``page_size`` (rows per page, default 1000), ``settle_seconds`` (a file
younger than this may still be being copied and waits for the next run; default 5).

The inbox is the state. A file is identified by the SHA-256 of its bytes; once the hub has
committed its last page it moves to ``done/<stem>.<sha12><suffix>``, so ``done/`` is also the
ledger of what was taken in. An identical file dropped again (any name) goes to
``duplicates/`` with a note and is not read; a file that is no readable table (binary, no
header, a required column missing, an XLSX over its size limits: ``connectors.files.limits``)
goes to ``failed/`` with ``<file>.error.txt`` naming the reason, so the next sync does not try
it again, and the other files go on. A refused file is also one failed record of the run (a
dead letter with external id ``<file>`` and the reason): a run never says "read 0, failed 0"
about a file it refused. Files matching no pattern stay in the inbox (they may belong to
another connection sharing it).

Only the inbox is read. A symbolic link, a file with more than one hard link, or anything else
than a regular file directly in the inbox is refused (moved to ``failed/`` as the link itself,
never followed); files are opened with ``O_NOFOLLOW`` and checked again on the open handle, and
``done/``, ``failed/`` and ``duplicates/`` must be real folders inside the inbox, so neither a
read nor an ``.error.txt`` ever touches a file outside it.

The cursor. Streams are ``cursor="time", ordered=False`` and each record's cursor is its
file's modification time (UTC), which the customer master keeps as the source's change time.
``since`` is deliberately ignored: what is left to do is exactly what is still in the inbox,
and a file copied in with an old mtime (``cp -p``, an unzipped archive) must not be skipped
because a newer file went first. Files are read oldest mtime first, then by name, so a later
export of the same records wins. ``ordered=False`` because the mtime is not a resumable
position; the engine then moves the cursor once per run, where it only records the newest file.

A crash after the hub committed a file's records but before the move leaves the file in the
inbox: the next run reads it again and every record is unchanged by its content hash (the
hub's links), so nothing is imported twice and the file then moves to ``done/``.

Rows are never dropped: a row with the wrong number of fields, a value that does not parse
(``types``), a missing or repeated id becomes ``SourceRecord(error=...)`` with external id
``<file>:<row>``, which the engine keeps as a dead letter naming file and row.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import Connector, Health, SourceRecord, Stream, config_file
from connectors.config import load_model
from connectors.errors import ConnectorError
from connectors.filedrop.layout import FileLayout, FilePattern
from connectors.filedrop.settings import FileDropSecrets, FileDropSettings
from connectors.files import FileFormatError, Limits, Row, open_table

__all__ = ["FileDropConnector"]

_DIGEST_IN_NAME = re.compile(r"\.([0-9a-f]{12})(\.[^.]+)?$")
_IN_PROGRESS = (".part", ".tmp", ".crdownload", "~")


class FileRefused(Exception):
    """A name in the inbox that is not a regular file of the inbox (a link, a device, …)."""


class _Page(list[SourceRecord]):
    """A page that may close a file: the file moves to done/ once the hub committed it."""

    __slots__ = ("ends",)

    def __init__(self) -> None:
        super().__init__()
        self.ends: tuple[Path, str] | None = None


class FileDropConnector(Connector):
    kind = "files"
    #: reading has effects (refused files move to failed/): ``hub connections test`` reads no page
    sample_pages = False

    Settings = FileDropSettings
    Secrets = FileDropSecrets
    options: FileDropSettings

    def __init__(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        super().__init__(settings, secrets)
        self.inbox = Path(self.options.inbox)
        self.layout = load_model(config_file(settings, "files", self.options.files), FileLayout)
        self.page_size = self.options.page_size
        self.settle = self.options.settle_seconds
        self.limits = Limits.from_settings()
        self.streams = tuple(
            Stream(name, entity, cursor="time", ordered=False, unique_ids=False)
            for name, entity in self.layout.streams().items()
        )

    # --- the inbox -----------------------------------------------------------------------------
    def check(self) -> Health:
        if not self.inbox.is_dir():
            return Health(False, f"inbox {self.inbox} is not a folder")
        if not os.access(self.inbox, os.W_OK):
            return Health(False, f"inbox {self.inbox} is not writable (files could not move to done/)")
        return Health(True, f"{sum(1 for _ in self._waiting(None))} file(s) waiting in {self.inbox}")

    def _waiting(self, stream: str | None) -> Iterator[tuple[Path, FilePattern]]:
        """Settled files of the stream (any stream when None), oldest first, then by name."""
        newest = time.time() - self.settle
        found = []
        for entry in os.scandir(self.inbox):
            if entry.is_dir(follow_symlinks=False) or entry.name.startswith(".") or entry.name.endswith(_IN_PROGRESS):
                continue
            pattern = self.layout.pattern_for(entry.name)
            mtime = entry.stat(follow_symlinks=False).st_mtime_ns  # a link's own time, not its target's
            if pattern and (stream is None or pattern.stream == stream) and mtime <= newest * 1e9:
                found.append((mtime, entry.name, pattern))
        for _mtime, name, pattern in sorted(found, key=lambda f: (f[0], f[1])):
            yield self.inbox / name, pattern

    def _done(self) -> dict[str, str]:
        """Digest prefix → name in done/ of every file taken in so far."""
        folder = self.inbox / "done"
        names = os.listdir(folder) if folder.is_dir() else []
        return {m.group(1): n for n in names if (m := _DIGEST_IN_NAME.search(n))}

    def _move(self, path: Path, folder: str, digest: str, note: str | None = None) -> Path:
        """Move a file (a link: the link itself) into an inbox folder, with a note beside it."""
        target_dir = self.inbox / folder
        target_dir.mkdir(exist_ok=True)
        if not stat.S_ISDIR(os.lstat(target_dir).st_mode):
            raise ConnectorError(f"files: {target_dir} is not a folder of the inbox (a link?); not writing there")
        target = target_dir / f"{path.stem}.{digest[:12]}{path.suffix}"
        os.replace(path, target)  # rename: never follows a link
        if note is not None:
            suffix = ".error.txt" if folder == "failed" else ".note.txt"
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
            with os.fdopen(os.open(target.with_name(target.name + suffix), flags, 0o644), "w", encoding="utf-8") as out:
                out.write(note + "\n")
        return target

    def _open(self, path: Path) -> bytes:
        """The bytes of a regular file directly in the inbox; FileRefused for anything else.

        ``O_NOFOLLOW`` and the checks on the open handle (not on the name) leave no moment in
        which a link swapped in could make the hub read a file outside the inbox."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as exc:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                raise FileRefused(
                    f"{path.name}: a symbolic link (to {os.readlink(path)!r}); links are not "
                    "followed: only files inside the inbox are read"
                ) from None
            raise FileRefused(f"{path.name}: cannot be opened: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise FileRefused(f"{path.name}: not a regular file; only files inside the inbox are read")
            if info.st_nlink > 1:
                raise FileRefused(
                    f"{path.name}: has {info.st_nlink} hard links (it may be a file outside "
                    "the inbox); copy the file into the inbox instead"
                )
            return handle.read()

    # --- reading -------------------------------------------------------------------------------
    def read(self, stream: str, since: str | None) -> Iterator[list[SourceRecord]]:
        self.stream(stream)  # an unknown stream is an error naming the known ones
        if not self.inbox.is_dir():
            raise ConnectorError(f"files: inbox {self.inbox} is not a folder (unmounted share?)")
        taken = self._done()
        for path, pattern in self._waiting(stream):
            try:
                raw = self._open(path)
            except FileRefused as exc:  # named by the link, never by what it points at
                yield self._refused(path, hashlib.sha256(path.name.encode()).hexdigest(), str(exc))
                continue
            digest = hashlib.sha256(raw).hexdigest()
            if digest[:12] in taken:
                self._move(
                    path,
                    "duplicates",
                    digest,
                    f"{path.name}: same content (sha256 {digest}) as "
                    f"{taken[digest[:12]]}, taken in before; not read again",
                )
                continue
            taken[digest[:12]] = f"{path.name} (this run)"
            try:
                yield from self._pages(path, pattern, raw, digest)
            except FileFormatError as exc:
                yield self._refused(path, digest, str(exc))

    def _refused(self, path: Path, digest: str, reason: str) -> _Page:
        """Move a refused file to failed/ (so no later sync tries it again) and make it one
        failed record of the run, named by the file, with the reason."""
        stamp = datetime.fromtimestamp(os.lstat(path).st_mtime, UTC).isoformat()
        moved = self._move(path, "failed", digest, reason)
        page = _Page()
        page.append(
            SourceRecord(
                external_id=path.name,
                cursor=stamp,
                data={"file": path.name, "refused": True, "reason": reason, "moved_to": f"failed/{moved.name}"},
                error=f"{path.name}: file refused, moved to failed/{moved.name}: {reason.removeprefix(path.name + ': ')}",
            )
        )
        return page

    def acknowledge(self, stream: str, page: list[SourceRecord]) -> None:
        ends = getattr(page, "ends", None)
        if ends is not None:
            path, digest = ends
            self._move(path, "done", digest)

    def _pages(self, path: Path, pattern: FilePattern, raw: bytes, digest: str) -> Iterator[_Page]:
        table = open_table(path, pattern.format, raw, self.limits)
        missing = [c for c in pattern.needed_columns() if c not in table.columns]
        if missing:
            raise FileFormatError(
                f"{path.name}: wrong header for pattern {pattern.match!r}: no column(s) {missing} "
                f"(header row {pattern.header_row} has {table.columns})"
            )
        stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
        page = _Page()
        for record in _records(path.name, pattern, table.rows, stamp):
            page.append(record)
            if len(page) >= self.page_size:
                yield page
                page = _Page()
        page.ends = (path, digest)
        yield page  # possibly empty: a header-only file still moves to done/


def _fault(file: str, row: Row, error: str, stamp: str, **extra: Any) -> SourceRecord:
    data = {"file": file, "row": row.number, "values": row.values or row.raw, **extra}
    return SourceRecord(external_id=f"{file}:{row.number}", data=data, cursor=stamp, error=error)


def _typed(file: str, pattern: FilePattern, row: Row) -> str | None:
    """Parse the typed columns in place; the first that fails is the row's problem."""
    for column, kind in pattern.types.items():
        text = row.values[column].strip()
        if not text:
            continue
        try:
            row.values[column] = pattern.parse(kind, text)
        except ValueError:
            shape = {"date": pattern.date_format, "datetime": pattern.datetime_format}.get(kind)
            return f"{file} row {row.number}: column {column!r}: {text!r} is not a {kind}" + (
                f" in the form {shape!r}" if shape else ""
            )
    return None


def _records(file: str, pattern: FilePattern, rows: Iterable[Row], stamp: str) -> Iterator[SourceRecord]:
    """Rows → records: typed values and ids checked, a document's line rows grouped.

    A document with one bad line row is a dead letter as a whole (with all its rows), never a
    document that quietly lacks a line.
    """
    first_row: dict[str, int] = {}
    group: list[Row] = []
    problems: list[str] = []

    def close() -> Iterator[SourceRecord]:
        if not group:
            return
        head, external_id = group[0], group[0].values[pattern.id_column].strip()
        data: dict[str, Any] = dict(head.values)
        if pattern.lines:
            spec = pattern.lines
            data[spec.into] = [
                {"id": f"{external_id}/{r.values[spec.key].strip()}", **{c: r.values[c] for c in spec.columns}}
                for r in group
            ]
        if problems:
            yield _fault(file, head, "; ".join(problems), stamp, rows=[r.values for r in group])
        else:
            yield SourceRecord(external_id=external_id, data=data, cursor=stamp)
        group.clear()
        problems.clear()

    for row in rows:
        problem = row.error or _typed(file, pattern, row)
        external_id = row.values[pattern.id_column].strip() if row.values else ""
        if pattern.lines and group and external_id == group[0].values[pattern.id_column].strip():
            group.append(row)  # the next line of the same document
            problems.extend([problem] if problem else [])
            continue
        yield from close()
        if problem is None and not external_id:
            problem = f"{file} row {row.number}: no value in the id column {pattern.id_column!r}"
        if problem is None and external_id in first_row:
            problem = (
                f"{file} row {row.number}: id {external_id!r} appears again (first at row "
                f"{first_row[external_id]})"
                + ("; a document's line rows must be next to each other" if pattern.lines else "")
            )
        if problem is not None:
            yield _fault(file, row, problem, stamp)
            continue
        first_row[external_id] = row.number
        group.append(row)
    yield from close()
