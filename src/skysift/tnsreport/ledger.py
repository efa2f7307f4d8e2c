"""The ledger of TNS reports: what was sent where and when, its report id and the names TNS gave.

One JSON object a line (``results/tns/sent.jsonl`` by default), appended and fsync'd before the
next step, so a killed ``skysift report-tns --send`` leaves a trace of every upload it started.
Events (each with ``time`` in UTC ISO format and the TNS API base ``url``):

* ``upload``: written *before* the POST: ``report_sha256`` and ``objects`` (objectid, internal_name);
* ``accepted``: TNS answered the upload with ``report_id``;
* ``not_arrived``: the upload's answer was lost and TNS listed none of its objects after asking, or
  TNS answered with an error: nothing was filed;
* ``sent``: one object filed, with ``objname`` (the name TNS gave), ``report_id`` (null when it was
  learnt from a search) and ``how`` (``reply`` or ``search``);
* ``rejected``: TNS processed the entry and refused it (``messages``).

An object is *sent* (to a url) after a ``sent`` event, and *pending* between an ``upload`` and what
settled it: then TNS must be asked (the reply endpoint with the report id, else a search by internal
name) before anything is sent again. A last line cut by a kill is ignored (and removed by the next
append): it was the ``upload`` being written, before the POST started. Records of other urls (the sandbox) never count for a url.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from skysift.io import InputError

__all__ = ["Ledger", "ObjectState", "utc_now"]

log = logging.getLogger(__name__)


def utc_now() -> str:
    """The current time as an ISO string in UTC (seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class ObjectState:
    """What the ledger says about one internal name at one url."""

    sent: dict | None = None  # the last ``sent`` event
    pending: dict | None = None  # the unsettled ``upload`` (with ``report_id`` once accepted)


class Ledger:
    """An append-only JSONL ledger with an exclusive lock for the duration of a send."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock_fh: Any = None

    @contextlib.contextmanager
    def locked(self) -> Iterator[Ledger]:
        """Hold the ledger's lock (a sibling ``.lock`` file) or refuse: two sends at once could both send."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        fh = open(lock_path, "a+")  # noqa: SIM115 - held for the block
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise InputError(
                f"{self.path}: another `skysift report-tns --send` is using this ledger; wait for it to "
                "finish (two sends at once could report an object twice)"
            ) from None
        self._lock_fh = fh
        try:
            yield self
        finally:
            self._lock_fh = None
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    def append(self, event: str, url: str, **fields: Any) -> dict:
        """Append one event and fsync it (and, for a new file, its directory); return the record."""
        record = {"event": event, "time": utc_now(), "url": url, **fields}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        if not new:
            self._drop_cut_line()
        with open(self.path, "ab") as fh:
            fh.write(json.dumps(record, sort_keys=True).encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        if new:
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return record

    def _drop_cut_line(self) -> None:
        """Remove a last line cut by a kill (no newline): an ``upload`` written before its POST started."""
        with open(self.path, "rb+") as fh:
            size = fh.seek(0, os.SEEK_END)
            if size == 0:
                return
            fh.seek(max(0, size - 65536))
            tail = fh.read()
            if tail.endswith(b"\n"):
                return
            cut = tail.rfind(b"\n")
            keep = size - len(tail) + cut + 1 if cut >= 0 else (0 if size <= 65536 else None)
            if keep is None:
                raise InputError(
                    f"{self.path}: its last line is cut and longer than 64 KiB; repair it by hand"
                )
            log.warning("%s: removing a cut last line (a send was killed while writing it)", self.path)
            fh.truncate(keep)
            fh.flush()
            os.fsync(fh.fileno())

    def records(self) -> list[dict]:
        """Every record, in order; a cut last line is skipped (logged), any other bad line is an error."""
        if not self.path.exists():
            return []
        lines = self.path.read_bytes().split(b"\n")
        out = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, Mapping) or "event" not in record:
                    raise ValueError("not a ledger record")
            except ValueError:
                last = all(not rest.strip() for rest in lines[number:])
                if last:
                    log.warning("%s:%d: skipping a cut last line (a send was killed while writing it)",
                                self.path, number)  # fmt: skip
                    continue
                raise InputError(
                    f"{self.path}:{number}: not a ledger record; the ledger is damaged: restore it "
                    "(it is the only record of what was sent to TNS) or move it aside and check TNS by hand"
                ) from None
            out.append(dict(record))
        return out

    def states(self, url: str) -> dict[str, ObjectState]:
        """Internal name -> :class:`ObjectState` at ``url`` (the TNS API base), from every record."""
        url = url.rstrip("/")
        states: dict[str, ObjectState] = {}
        for record in self.records():
            if str(record.get("url", "")).rstrip("/") != url:
                continue
            event = record["event"]
            if event == "upload":
                for obj in record.get("objects", []):
                    state = states.setdefault(obj["internal_name"], ObjectState())
                    state.pending = {**record, "report_id": None, "objectid": obj.get("objectid")}
                continue
            sha = record.get("report_sha256")
            if event in ("accepted", "not_arrived"):
                for state in states.values():
                    if state.pending and state.pending.get("report_sha256") == sha:
                        if event == "accepted":
                            state.pending["report_id"] = record.get("report_id")
                        else:
                            state.pending = None
            elif event in ("sent", "rejected"):
                state = states.setdefault(record["internal_name"], ObjectState())
                state.pending = None
                if event == "sent":
                    state.sent = record
        return states
