"""Follow a growing counts file (a camera platform appending its exports) batch by batch."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from gis.crowd.counts import CountBatch, CounterState, validate_counts
from gis.errors import ValidationError

log = logging.getLogger(__name__)


@dataclass
class FollowResult:
    """What a follow run did: batches and rows accepted, refused batches with their errors."""

    batches: int = 0
    rows: int = 0
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class CountsFollower:
    """Read the complete new lines of a growing CSV each poll and hand them on as batches.

    Only whole lines are taken (a line still being written waits for its newline). Each
    batch is validated as a whole with the feed's state (last time per counter): a bad
    batch is refused whole and reported with its file line, and the follower goes on with
    the lines after it. A file that shrinks (rotated or rewritten) is read again from its
    start, keeping the header.

    Parameters
    ----------
    path
        The growing file.
    gdf_places
        Places (with their counters).
    sink
        Called with each accepted batch; it stores the batch in one transaction. If it raises
        a :class:`~gis.errors.PatrolError` the batch counts as refused.
    state
        The feed's state so far (e.g. rebuilt from the store), updated as batches pass.
    """

    def __init__(
        self,
        path: str | Path,
        gdf_places: gpd.GeoDataFrame,
        sink: Callable[[CountBatch], object],
        *,
        state: CounterState | None = None,
        encoding: str | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.path = Path(path)
        self.places = gdf_places
        self.sink = sink
        self.state = state or CounterState()
        self.encoding = encoding
        self.clock = clock
        self.offset = 0
        self.line_no = 0  # lines consumed so far (header = line 1)
        self.header: list[str] | None = None
        self._decoder: codecs.IncrementalDecoder | None = None
        self.result = FollowResult()
        self._head = b""  # the file's first bytes: a rewritten file starts differently

    def _same_start(self) -> bool:
        if not self._head:
            return True
        with self.path.open("rb") as fh:
            return fh.read(len(self._head)) == self._head

    def _decode(self, data: bytes) -> str:
        if self._decoder is None:
            enc = self.encoding
            if enc is None:
                if data.startswith(codecs.BOM_UTF8):
                    enc = "utf-8-sig"
                else:
                    try:
                        data.decode("utf-8")
                        enc = "utf-8"
                    except UnicodeDecodeError:
                        enc = "gb18030"
            self._decoder = codecs.getincrementaldecoder(enc)()
        try:
            return self._decoder.decode(data)
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"bad bytes after line {self.line_no} ({exc.reason})",
                source=self.path.name,
                row=self.line_no + 1,
                fix="export all files of a feed in one encoding (UTF-8 or GBK)",
            ) from None

    def poll(self) -> int:
        """Take in the complete lines appended since the last poll; returns rows accepted."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return 0
        if not stat.S_ISREG(st.st_mode):  # a link or a device is never followed
            raise ValidationError(
                "is not a regular file (a link, folder, device or pipe)",
                source=str(self.path),
                fix="follow the export file itself",
            )
        size = st.st_size
        if size < self.offset or not self._same_start():
            log.warning("%s was replaced: reading it again from the start", self.path.name)
            self.result.notes.append(f"{self.path.name}: file shrank or was replaced, read again")
            self.offset, self.line_no, self.header, self._decoder = 0, 0, None, None
            self._head = b""
        if size == self.offset:
            return 0
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            data = fh.read(size - self.offset)
        end = data.rfind(b"\n")
        if end < 0:
            return 0
        data = data[: end + 1]
        if self.offset == 0:
            self._head = data[:256]
        self.offset += len(data)
        try:
            text = self._decode(data)
        except ValidationError as exc:
            self._refuse(str(exc))
            return 0
        rows = list(csv.reader(io.StringIO(text, newline="")))
        first_line = self.line_no + 1
        self.line_no += len(rows)
        if self.header is None:
            if not rows:
                return 0
            self.header, rows = rows[0], rows[1:]
            first_line += 1
        if not rows:
            return 0
        try:
            batch = validate_counts(
                self.header,
                rows,
                self.places,
                source=self.path.name,
                first_line=first_line,
                state=self.state,
                now=self.clock() if self.clock else None,
            )
            if len(batch):
                self.sink(batch)
        except ValidationError as exc:
            self._refuse(str(exc))
            return 0
        self.state.update(batch.frame)
        self.result.batches += 1
        self.result.rows += len(batch)
        self.result.notes.extend(batch.notes)
        return len(batch)

    def _refuse(self, message: str) -> None:
        log.warning("batch refused: %s", message)
        self.result.errors.append(message)

    def run(
        self,
        *,
        poll_seconds: float = 2.0,
        max_seconds: float | None = None,
        idle_seconds: float | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> FollowResult:
        """Poll until ``max_seconds`` have passed, the file has been idle for
        ``idle_seconds``, or ``should_stop()`` is true (none of them: until interrupted)."""
        start = last_data = time.monotonic()
        while True:
            if self.poll():
                last_data = time.monotonic()
            now = time.monotonic()
            if max_seconds is not None and now - start >= max_seconds:
                break
            if idle_seconds is not None and now - last_data >= idle_seconds:
                break
            if should_stop is not None and should_stop():
                break
            time.sleep(poll_seconds)
        return self.result
