"""Real HTTP servers on 127.0.0.1 for the tests: IRSA's bulk tree, nph_light_curves, SNAD, TNS, scripted faults.

``FakeServices(release_parent)`` serves a DR tree written by the demo simulator:

* ``/lc/lc_<dr>/<relpath>`` and ``/lc/lc_<dr>/checksum.md5``: the files, with optional Range
  support (206 / 416) and throttling;
* ``/cgi-bin/ZTF/nph_light_curves?ID=..|POS=CIRCLE ra dec r&COLLECTION=ztf_<dr>&FORMAT=csv``: the
  documented CSV columns, built from the same tree;
* ``/api/v3/data/<dr>/oid/full/json`` and ``.../circle/full/json``: SNAD's JSON, with SNAD's
  rules (only catflags == 0 and magerr > 0 epochs; ``mjd`` is the DR hmjd).

``arrivals`` holds the arrival time of every request (rate-limit checks).
Faults are injected per path key (the release-relative path, ``nph`` or ``snad``):
``status`` (answer 500 that many times), ``slow`` (sleep ``slow_seconds`` before answering),
``cut`` (send headers with the full Content-Length, half the body, then close), ``wrong`` (flip
bytes of the body). Each answered request consumes one fault, in that order. ``stats`` counts
requests, bytes sent, Range requests and complete full-body (200) answers per key.

``FakeCDS`` speaks CDS XMatch's sync API (VOTable answers, with faults); ``FakeTNSCatalog`` serves
TNS' public-objects zip to a bot; ``FakeTNSBulk`` speaks TNS' bulk-report / bulk-report-reply / search
exchange and files what it receives (with "received, then the connection dropped" faults);
``ScriptedServer`` answers by a script of faults (statuses with headers, slow answers, dropped
connections) and records when each request arrived, for the tests of :mod:`skysift.net`.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import zipfile
from collections import Counter, defaultdict
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import astropy.units as u
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from astropy.coordinates import SkyCoord
from astropy.io.votable import from_table, writeto
from astropy.table import Table

from skysift.layout import FILTER_CODES

JD_MJD_OFFSET = 2400000.5


def demo_epochs(release_root: Path) -> pd.DataFrame:
    """Every epoch of a DR tree as long-format rows (what the query services hold)."""
    frames = []
    for path in sorted(release_root.glob("*/field*/ztf_*.parquet")):
        t = pq.read_table(path).to_pandas()
        t = t.explode(["hmjd", "mag", "magerr", "clrcoeff", "catflags"], ignore_index=True)
        frames.append(t)
    df = pd.concat(frames, ignore_index=True)
    return df.astype(
        {
            "hmjd": np.float64,
            "mag": np.float32,
            "magerr": np.float32,
            "clrcoeff": np.float32,
            "catflags": np.int32,
        }
    )


def _irsa_rows(df: pd.DataFrame) -> pd.DataFrame:
    """nph_light_curves CSV rows (documented columns) for epochs of the DR tree."""
    rng = np.random.default_rng(len(df))
    n = len(df)
    rcid = df["rcid"].to_numpy().astype(int)
    cosd = np.cos(np.radians(df["objdec"].to_numpy(np.float64)))
    return pd.DataFrame(
        {
            "oid": df["objectid"].to_numpy(np.int64),
            "expid": (df["hmjd"].to_numpy() * 1e4).astype(np.int64),
            "hjd": [repr(float(v) + JD_MJD_OFFSET) for v in df["hmjd"]],
            "mjd": df["hmjd"].to_numpy() - 0.0031,
            "mag": df["mag"].to_numpy(np.float32),
            "magerr": df["magerr"].to_numpy(np.float32),
            "catflags": df["catflags"].to_numpy(np.int32),
            "filtercode": [FILTER_CODES[int(f)] for f in df["filterid"]],
            "ra": df["objra"].to_numpy(np.float64) + rng.normal(0, 0.05, n) / 3600 / cosd,
            "dec": df["objdec"].to_numpy(np.float64) + rng.normal(0, 0.05, n) / 3600,
            "chi": 1.0,
            "sharp": 0.0,
            "filefracday": 20180101123456 + np.arange(n, dtype=np.int64),
            "field": df["fieldid"].to_numpy(),
            "ccdid": rcid // 4 + 1,
            "qid": rcid % 4 + 1,
            "limitmag": 20.5,
            "magzp": 26.3,
            "magzprms": 0.02,
            "clrcoeff": df["clrcoeff"].to_numpy(np.float32),
            "clrcounc": 1e-5,
            "exptime": 30.0,
            "airmass": 1.2,
            "programid": 1,
        }
    )


def _sep_arcsec(ra, dec, ra0, dec0):
    """Angular separation (arcsec), haversine."""
    ra, dec, ra0, dec0 = map(np.radians, (ra, dec, ra0, dec0))
    h = np.sin((dec - dec0) / 2) ** 2 + np.cos(dec) * np.cos(dec0) * np.sin((ra - ra0) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(h))) * 3600


class FakeServices:
    """The three services on one ThreadingHTTPServer in a daemon thread (use as a context manager)."""

    def __init__(self, release_parent: Path, dr: str = "dr24", *, throttle: float = 0.0, chunk: int = 4096):
        self.parent = Path(release_parent)
        self.dr = dr
        self.throttle = throttle
        self.chunk = chunk
        self.range_support = True
        self.slow_seconds = 2.0
        self.faults: dict[str, Counter] = defaultdict(Counter)
        self.stats: dict[str, Counter] = defaultdict(Counter)
        self.ranges: list[tuple[str, str]] = []
        self.arrivals: list[float] = []  # time.monotonic() of every request, as it arrived
        self.lock = threading.Lock()
        self._epochs: pd.DataFrame | None = None
        self._irsa: pd.DataFrame | None = None

    # -- data ------------------------------------------------------------------------------------
    @property
    def epochs(self) -> pd.DataFrame:
        """All epochs of the served tree (lazily built)."""
        if self._epochs is None:
            self._epochs = demo_epochs(self.parent / self.dr)
            self._irsa = _irsa_rows(self._epochs)
        return self._epochs

    def _select(self, ids=None, cone=None) -> np.ndarray:
        """Row mask of epochs of objects with these ids or inside a cone (ra, dec, radius_arcsec)."""
        df = self.epochs
        if ids is not None:
            return df["objectid"].isin(ids).to_numpy()
        ra, dec, radius = cone
        return _sep_arcsec(df["objra"].to_numpy(float), df["objdec"].to_numpy(float), ra, dec) < radius

    def irsa_csv(self, query: dict) -> bytes:
        """The nph_light_curves CSV answer of a query."""
        assert query["FORMAT"] == ["csv"] and query["COLLECTION"] == [f"ztf_{self.dr}"], query
        if "ID" in query:
            mask = self._select(ids=[int(x) for x in query["ID"][0].split(",")])
        else:
            shape, ra, dec, radius = query["POS"][0].split()
            assert shape == "CIRCLE"
            mask = self._select(cone=(float(ra), float(dec), float(radius) * 3600))
        rows = self._irsa[mask]
        if "BANDNAME" in query:
            rows = rows[rows["filtercode"].str[-1].isin(query["BANDNAME"][0].split(","))]
        return rows.to_csv(index=False).encode()

    def snad_json(self, kind: str, query: dict) -> bytes:
        """SNAD's JSON answer (only catflags == 0, magerr > 0 epochs; objects with none are absent)."""
        if kind == "oid":
            mask = self._select(ids=[int(x) for x in query["oid"]])
        else:
            mask = self._select(
                cone=(float(query["ra"][0]), float(query["dec"][0]), float(query["radius_arcsec"][0]))
            )
        df = self.epochs[mask]
        df = df[(df["catflags"] == 0) & (df["magerr"] > 0)]
        out = {}
        for oid, g in df.groupby("objectid", sort=True):
            g = g.sort_values("hmjd", kind="stable")
            first = g.iloc[0]
            out[str(oid)] = {
                "meta": {
                    "nobs": int(first["nepochs"]),
                    "ngoodobs": len(g),
                    "duration": float(g["hmjd"].max() - g["hmjd"].min()),
                    "filter": FILTER_CODES[int(first["filterid"])],
                    "fieldid": int(first["fieldid"]),
                    "rcid": int(first["rcid"]),
                    "coord": {"ra": float(first["objra"]), "dec": float(first["objdec"])},
                    "h3": {"10": 0},
                },
                "lc": [
                    {"mjd": float(t), "mag": float(m), "magerr": float(e), "clrcoeff": float(c)}
                    for t, m, e, c in zip(g["hmjd"], g["mag"], g["magerr"], g["clrcoeff"], strict=True)
                ],
            }
        return json.dumps(out).encode()

    # -- server ----------------------------------------------------------------------------------
    def __enter__(self) -> FakeServices:
        services = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                with services.lock:
                    services.arrivals.append(time.monotonic())
                try:
                    services._handle(self)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.bulk_url = self.url + "/lc/lc_{dr}"
        self.api_url = self.url + "/cgi-bin/ZTF/nph_light_curves"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _take_fault(self, key: str) -> str | None:
        """Consume the next injected fault of a key, if any."""
        with self.lock:
            for kind in ("status", "slow", "cut", "wrong"):
                if self.faults[key][kind] > 0:
                    self.faults[key][kind] -= 1
                    return kind
        return None

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        """Route one GET and apply faults."""
        parts = urlsplit(h.path)
        query = parse_qs(parts.query)
        prefix = f"/lc/lc_{self.dr}/"
        if parts.path.startswith(prefix):
            key = parts.path[len(prefix) :]
            path = self.parent / self.dr / key
            if ".." in key or not path.is_file():
                return self._send(h, key, 404, b"not found")
            body = path.read_bytes()
            return self._send_file(h, key, body)
        if parts.path == "/cgi-bin/ZTF/nph_light_curves":
            return self._send(h, "nph", 200, self.irsa_csv(query), "text/csv")
        snad = f"/api/v3/data/{self.dr}/"
        if parts.path in (snad + "oid/full/json", snad + "circle/full/json"):
            kind = parts.path[len(snad) :].split("/")[0]
            return self._send(h, "snad", 200, self.snad_json(kind, query), "application/json")
        return self._send(h, parts.path, 404, b"not found")

    def _send_file(self, h: BaseHTTPRequestHandler, key: str, body: bytes) -> None:
        """A file answer with Range support (206/416) when enabled."""
        rng = h.headers.get("Range")
        with self.lock:
            self.stats[key]["requests"] += 1
            if rng:
                self.stats[key]["range_requests"] += 1
                self.ranges.append((key, rng))
        if rng and self.range_support:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            if start >= len(body):
                return self._write(h, key, 416, b"", extra={"Content-Range": f"bytes */{len(body)}"})
            return self._write(
                h,
                key,
                206,
                body[start:],
                extra={"Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}"},
            )
        return self._write(h, key, 200, body, full=True)

    def _send(self, h, key: str, status: int, body: bytes, ctype: str = "text/plain") -> None:
        """A non-file answer (counted)."""
        with self.lock:
            self.stats[key]["requests"] += 1
        self._write(h, key, status, body, ctype=ctype)

    def _write(self, h, key, status, body, *, ctype="application/octet-stream", extra=None, full=False):
        """Send status, headers and body, applying the key's next fault."""
        fault = self._take_fault(key) if status < 400 else None
        if fault == "status":
            status, body, full = 500, b"internal error", False
        elif fault == "slow":
            time.sleep(self.slow_seconds)
        elif fault == "wrong":
            body = bytes(b ^ 0x5A for b in body[:64]) + body[64:]
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            h.send_header(name, value)
        h.end_headers()
        if fault == "cut":
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            with self.lock:
                self.stats[key]["bytes"] += len(body) // 2
            h.connection.shutdown(socket.SHUT_RDWR)
            h.close_connection = True
            return
        sent = 0
        for start in range(0, len(body), self.chunk):
            piece = body[start : start + self.chunk]
            h.wfile.write(piece)
            h.wfile.flush()
            sent += len(piece)
            with self.lock:
                self.stats[key]["bytes"] += len(piece)
            if self.throttle:
                time.sleep(self.throttle)
        if full and status == 200 and fault != "wrong":
            with self.lock:
                self.stats[key]["full"] += 1


class FakeTNSBulk:
    """TNS' bulk-report / bulk-report-reply / search exchange on 127.0.0.1 (use as a context manager).

    ``POST /api/bulk-report`` (form ``api_key``, ``data``) checks the key and the tns_marker
    User-Agent, parses the JSON, checks each entry's required fields itself, *files* the report (each
    accepted entry becomes a TNS object named 2026aaa, 2026aab, ... in filing order, with its
    internal name and position) and answers a ``report_id``; ``POST /api/bulk-report-reply``
    (``api_key``, ``report_id``) answers 404 for the first ``pending_polls`` polls, then the feedback:
    ``{"100": {"message", "objname"}}`` per accepted entry; an entry with a ``reporting_group_id`` not
    in ``groups`` or a missing field makes the reply HTTP 400 ("Bad request") with the entry's error
    messages. ``POST /api/get/search`` (``data``: ``internal_name`` exact, or ``ra``/``dec``/``radius``
    in arcsec) answers ``data.reply`` = ``[{objname, prefix, objid}]`` among the filed objects (seen only
    after ``pending_searches`` searches since filing: TNS files bulk reports asynchronously) and the
    ``known`` objects (``{objname, ra, dec, internal_names}`` reported by others).

    Faults, consumed one per request of their endpoint: ``upload_faults`` -- ``"file_then_drop"`` (file
    the report, then close the connection without an answer), ``"file_then_slow"`` (file, then answer
    after ``slow_seconds``: the client times out), ``"file_then_500"`` (file, answer 500), ``"drop"``
    (close without filing), ``"500"`` / ``"503"`` (answer that, without filing);
    ``reply_faults`` / ``search_faults``: ``"drop"``, ``"500"``, ``"503"``. ``drop_uploads=n`` is n
    ``"file_then_drop"`` faults. ``reports`` keeps every filed report by id, ``polls`` counts reply
    requests, ``searches`` the search queries, ``agents`` the User-Agents seen, ``bodies`` every body.
    """

    REQUIRED = ("ra", "dec", "reporting_group_id", "discovery_data_source_id", "reporter",
                "discovery_datetime", "at_type", "non_detection", "photometry")  # fmt: skip

    def __init__(self, key: str, *, bot_id: int = 4242, bot_name: str = "skysift_test", groups=(42,),
                 pending_polls: int = 2, drop_uploads: int = 0, upload_faults=(), reply_faults=(),
                 search_faults=(), pending_searches: int = 0, known=(), slow_seconds: float = 1.0):  # fmt: skip
        self.key = key
        self.agent = "tns_marker" + json.dumps({"tns_id": bot_id, "type": "bot", "name": bot_name})
        self.groups = {str(g) for g in groups}
        self.pending_polls = pending_polls
        self.pending_searches = pending_searches
        self.slow_seconds = slow_seconds
        self.faults = {
            "bulk-report": ["file_then_drop"] * drop_uploads + list(upload_faults),
            "bulk-report-reply": list(reply_faults),
            "get/search": list(search_faults),
        }
        self.reports: dict[str, dict] = {}
        self.feedback: dict[str, tuple[int, list]] = {}
        self.objects: list[dict] = [
            {"objname": k["objname"], "prefix": k.get("prefix", "AT"), "ra": float(k["ra"]),
             "dec": float(k["dec"]), "internal_names": set(k.get("internal_names", ())), "filed_at": -1}
            for k in known
        ]  # fmt: skip
        self.named = 0
        self.polls: Counter = Counter()
        self.searches: list[dict] = []
        self.agents: list[str] = []
        self.bodies: list[str] = []
        self.lock = threading.Lock()

    def uploads_per_internal_name(self) -> Counter:
        """How many filed reports carried each internal name (2 = reported twice)."""
        with self.lock:
            return Counter(
                entry.get("internal_name")
                for report in self.reports.values()
                for entry in report["at_report"].values()
            )

    def _file(self, report: dict) -> str:
        """File a report (under the lock): its feedback, and a TNS object per accepted entry."""
        report_id = str(1000 + len(self.reports))
        self.reports[report_id] = report
        out, bad = [], False
        for _, entry in sorted(report.get("at_report", {}).items(), key=lambda kv: int(kv[0])):
            errors = [f"{k}: this field is required" for k in self.REQUIRED if k not in entry]
            if str(entry.get("reporting_group_id")) not in self.groups:
                errors.append(f"reporting_group_id: unknown group id {entry.get('reporting_group_id')}")
            groups = entry.get("photometry", {}).get("photometry_group", {})
            if any(str(p.get("filter_value")) not in ("110", "111", "112") for p in groups.values()):
                errors.append("photometry: filter_value is not a ZTF filter id")
            if errors:
                bad = True
                out.append(
                    {str(102 + i): {"message": m, "message_id": 102 + i} for i, m in enumerate(errors)}
                )
                continue
            name = "2026" + "".join(chr(97 + (self.named // 26**k) % 26) for k in (2, 1, 0))
            self.named += 1
            self.objects.append({"objname": name, "prefix": "AT", "ra": float(entry["ra"]["value"]),
                                 "dec": float(entry["dec"]["value"]), "filed_at": len(self.searches),
                                 "internal_names": {entry.get("internal_name", "")}})  # fmt: skip
            out.append({"100": {"message": "The AT was successfully reported", "objname": name}})
        self.feedback[report_id] = ((400 if bad else 200), out)
        return report_id

    def _search(self, query: dict) -> list[dict]:
        """Objects matching a search (under the lock); filed ones only after pending_searches searches."""
        self.searches.append(query)
        visible = [
            o
            for o in self.objects
            if o["filed_at"] < 0 or len(self.searches) - o["filed_at"] > self.pending_searches
        ]
        if query.get("internal_name"):
            hits = [o for o in visible if query["internal_name"] in o["internal_names"]]
        else:
            ra, dec, radius = float(query["ra"]), float(query["dec"]), float(query["radius"])
            hits = [o for o in visible if _sep_arcsec(o["ra"], o["dec"], ra, dec) <= radius]
        return [{"objname": o["objname"], "prefix": o["prefix"], "objid": i} for i, o in enumerate(hits)]

    def __enter__(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out
                    self.close_connection = True

            def _drop(self) -> None:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                path = urlsplit(self.path).path.removeprefix("/api/")
                with fake.lock:
                    fake.agents.append(self.headers.get("User-Agent", ""))
                    fake.bodies.append(raw)
                    faults = fake.faults.get(path)
                    fault = faults.pop(0) if faults else None
                if self.headers.get("User-Agent") != fake.agent or form.get("api_key") != fake.key:
                    return self._answer(401, {"id_code": 401, "id_message": "Unauthorized"})
                if fault == "drop":
                    return self._drop()
                if fault in ("500", "503"):
                    return self._answer(int(fault), {"id_code": int(fault), "id_message": "Service error"})
                if path == "bulk-report":
                    try:
                        report = json.loads(form["data"])
                    except (KeyError, ValueError):
                        return self._answer(400, {"id_code": 400, "id_message": "Bad request", "data": {}})
                    with fake.lock:
                        report_id = fake._file(report)
                    if fault == "file_then_drop":
                        return self._drop()
                    if fault == "file_then_500":
                        return self._answer(500, {"id_code": 500, "id_message": "Internal error"})
                    if fault == "file_then_slow":
                        time.sleep(fake.slow_seconds)
                    return self._answer(
                        200, {"id_code": 200, "id_message": "OK", "data": {"report_id": report_id}}
                    )
                if path == "bulk-report-reply":
                    report_id = form.get("report_id", "")
                    with fake.lock:
                        fake.polls[report_id] += 1
                        polls = fake.polls[report_id]
                        feedback = fake.feedback.get(report_id)
                    if feedback is None or polls <= fake.pending_polls:
                        return self._answer(
                            404, {"id_code": 404, "id_message": "Report not found", "data": {}}
                        )
                    status, entries = feedback
                    message = "OK" if status == 200 else "Bad request"
                    return self._answer(status, {"id_code": status, "id_message": message,
                                                 "data": {"feedback": {"at_report": entries}}})  # fmt: skip
                if path == "get/search":
                    with fake.lock:
                        reply = fake._search(json.loads(form.get("data") or "{}"))
                    return self._answer(200, {"id_code": 200, "id_message": "OK", "data": {"reply": reply}})
                return self._answer(404, {"id_code": 404, "id_message": "Not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_port}/api"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class ScriptedServer:
    """A 127.0.0.1 server that answers each request by the next step of a script (for the HTTP client's tests).

    Steps (consumed one per request, any method; an empty script answers 200 ``ok``):
    ``("status", code, headers)``, ``("slow", seconds)`` (then 200), ``("drop",)`` (read the request,
    then close the connection without an answer). ``requests`` records (monotonic arrival time, method,
    path, User-Agent, body) of every request.
    """

    def __init__(self, script=()) -> None:
        self.script: list[tuple] = list(script)
        self.requests: list[tuple[float, str, str, str, bytes]] = []
        self.lock = threading.Lock()

    def arrivals(self) -> list[float]:
        """Arrival times of the requests, in order."""
        with self.lock:
            return sorted(r[0] for r in self.requests)

    def __enter__(self) -> str:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _handle(self) -> None:
                arrived = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                with server.lock:
                    server.requests.append(
                        (arrived, self.command, self.path, self.headers.get("User-Agent", ""), body)
                    )
                    step = server.script.pop(0) if server.script else ("status", 200, {})
                status, headers, payload = 200, {}, b"ok"
                if step[0] == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if step[0] == "slow":
                    time.sleep(step[1])
                elif step[0] == "status":
                    status, headers = step[1], step[2]
                    payload = b"ok" if status < 400 else b"error"
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out
                    self.close_connection = True

            do_GET = do_POST = _handle  # noqa: N815 - http.server's names

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


ERROR_VOTABLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE version="1.3" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
<RESOURCE type="results">
<INFO name="QUERY_STATUS" ID="QUERY_STATUS" value="ERROR">%s</INFO>
</RESOURCE>
</VOTABLE>
"""


class FakeCDS:
    """CDS XMatch's sync API on 127.0.0.1 (use as a context manager; it yields the service URL).

    ``catalogs`` maps table ids (``simbad``, ``B/vsx/vsx``) to astropy Tables with ra/dec (or
    RAJ2000/DEJ2000) columns. ``faults`` are consumed one per POST ("403", "500", "slow");
    ``posts`` keeps every parsed form; ``max_in_flight`` the most queries served at once;
    ``serialization`` is the VOTable's ("binary" keeps fixed-width padding through astropy's parser).
    """

    def __init__(self, catalogs: dict[str, Table]):
        self.catalogs = catalogs
        self.faults: list[str] = []  # consumed one per POST: "403", "500", "slow"
        self.posts: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0
        self.serialization = "tabledata"
        self.lock = threading.Lock()

    def __enter__(self) -> str:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _cds_handler(self))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_port}/xmatch/api/v1/sync"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def posts_form_of(objects: pd.DataFrame) -> dict:
        """The form astroquery posts for these objects (upload columns as skysift names them)."""
        up = Table(
            {"skysift_key": objects["objectid"], "skysift_ra": objects["ra"], "skysift_dec": objects["dec"]}
        )
        buf = io.StringIO()
        up.write(buf, format="ascii.csv")
        return {
            "cat1": buf.getvalue().encode(),
            "distMaxArcsec": b"1.0",
            "colRA1": b"skysift_ra",
            "colDec1": b"skysift_dec",
        }

    def answer(self, form: dict) -> tuple[int, bytes]:
        """The xmatch of the uploaded CSV against cat2, as a VOTable (angDist, cat1 cols, cat2 cols)."""
        fault = self.faults.pop(0) if self.faults else ""
        if fault == "403":
            return 403, b"banned"
        if fault == "500":
            return 500, ERROR_VOTABLE % b"Internal error, try again"
        if fault == "slow":
            time.sleep(1.5)
        time.sleep(self.delay)
        table_id = form["cat2"].decode().removeprefix("vizier:")
        if table_id not in self.catalogs:
            return 400, ERROR_VOTABLE % b"unknown table"
        cat = self.catalogs[table_id]
        up = Table.read(io.BytesIO(form["cat1"]), format="ascii.csv")
        radius = float(form["distMaxArcsec"])
        ra_col = "ra" if "ra" in cat.colnames else "RAJ2000"
        dec_col = "dec" if "dec" in cat.colnames else "DEJ2000"
        c1 = SkyCoord(up[form["colRA1"].decode()] * u.deg, up[form["colDec1"].decode()] * u.deg)
        c2 = SkyCoord(cat[ra_col] * u.deg, cat[dec_col] * u.deg)
        sep = c1[:, None].separation(c2[None, :]).to_value(u.arcsec)
        i, j = np.nonzero(sep <= radius)
        out = Table({"angDist": np.round(sep[i, j], 6)})
        for name in up.colnames:
            out[name] = up[name][i]
        for name in cat.colnames:
            out[name] = cat[name][j]
        votable = from_table(out)
        votable.get_first_table().format = self.serialization
        buf = io.BytesIO()
        writeto(votable, buf)
        return 200, buf.getvalue()


def _cds_handler(state: FakeCDS):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest output clean
            pass

        def do_GET(self):
            body = b"simbad\nB/vsx/vsx\nI/355/gaiadr3\nII/246/out\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            msg = BytesParser(policy=email_policy).parsebytes(
                b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + raw
            )
            form = {
                p.get_param("name", header="content-disposition"): p.get_payload(decode=True)
                for p in msg.iter_parts()
            }
            with state.lock:
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
                state.posts.append(form)
            try:
                status, body = state.answer(form)
            finally:
                with state.lock:
                    state.in_flight -= 1
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client timed out
                pass

    return Handler


class FakeTNSCatalog:
    """TNS' public-objects zip on 127.0.0.1 (use as a context manager; it yields the zip's URL).

    A POST with the right form ``api_key`` and the bot's ``tns_marker`` User-Agent gets the zip (a
    time-stamp line, then the CSV of ``catalog``), anything else HTTP 401; ``faults`` (status codes)
    are answered first, one per POST; ``posts`` counts the POSTs.
    """

    def __init__(
        self, catalog: pd.DataFrame, key: str, *, bot_id: int = 4242, bot_name: str = "skysift_test"
    ):
        self.catalog = catalog
        self.key = key
        self.agent = "tns_marker" + json.dumps({"tns_id": bot_id, "type": "bot", "name": bot_name})
        csv = catalog.assign(objid=np.arange(len(catalog)), typeid=1).to_csv(index=False)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("tns_public_objects.csv", '"2026-11-30 00:00:00"\n' + csv)
        self.zip = buf.getvalue()
        self.posts = 0
        self.faults: list[str] = []
        self.lock = threading.Lock()

    def __enter__(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 - http.server's name
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                with fake.lock:
                    fake.posts += 1
                    fault = fake.faults.pop(0) if fake.faults else None
                if fault:
                    status, body = int(fault), b"busy"
                elif form.get("api_key") != [fake.key] or self.headers["User-Agent"] != fake.agent:
                    status, body = 401, b"Unauthorized"
                else:
                    status, body = 200, fake.zip
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        port = self.server.server_port
        return f"http://127.0.0.1:{port}/system/files/tns_public_objects/tns_public_objects.csv.zip"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeAlerce:
    """ALeRCE's ZTF API cone search on 127.0.0.1 (use as a context manager; it yields the base URL).

    ``GET /objects?ra=&dec=&radius=`` (deg, deg, arcsec) answers the documented JSON page
    ``{"total", "page", "next", "has_next", "items": [{"oid", "meanra", "meandec", "ndet"}]}`` with the
    ``objects`` (oid, ra, dec) inside the cone; ``faults`` (status codes) are answered first, one per
    request; ``requests`` counts the requests.
    """

    def __init__(self, objects: list[tuple[str, float, float]]):
        self.objects = objects
        self.requests = 0
        self.faults: list[int] = []
        self.lock = threading.Lock()

    def __enter__(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                with fake.lock:
                    fake.requests += 1
                    fault = fake.faults.pop(0) if fake.faults else None
                if fault:
                    status, body = fault, b'{"detail": "busy"}'
                elif url.path.rstrip("/") != "/ztf/v1/objects" or not {"ra", "dec", "radius"} <= set(query):
                    status, body = 400, b'{"detail": "ra, dec and radius are required"}'
                else:
                    ra, dec, radius = float(query["ra"]), float(query["dec"]), float(query["radius"])
                    items = [
                        {"oid": oid, "meanra": r, "meandec": d, "ndet": 12}
                        for oid, r, d in fake.objects
                        if _sep_arcsec(np.array([r]), np.array([d]), ra, dec)[0] <= radius
                    ]
                    page = {
                        "total": len(items),
                        "page": 1,
                        "next": None,
                        "has_next": False,
                        "prev": None,
                        "has_prev": False,
                        "items": items,
                    }
                    status, body = 200, json.dumps(page).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_port}/ztf/v1"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeGraceDB:
    """GraceDB's REST API for superevent files on 127.0.0.1 (use as a context manager; yields the API URL).

    ``GET /api/superevents/<id>/files/`` answers the documented JSON (file name -> URL, versioned
    names ``<name>,<n>`` beside the latest) for the ``superevents`` (id -> {file name: bytes}), 404
    for others; ``GET /api/superevents/<id>/files/<name>`` the bytes. ``faults`` (status codes) are
    answered first, one per request; ``downloads`` counts file downloads.
    """

    def __init__(self, superevents: dict[str, dict[str, bytes]]):
        self.superevents = superevents
        self.downloads = 0
        self.faults: list[int] = []
        self.lock = threading.Lock()

    def __enter__(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                parts = urlsplit(self.path).path.split("/")  # '', api, superevents, <id>, files, [name]
                with fake.lock:
                    fault = fake.faults.pop(0) if fake.faults else None
                files = (
                    fake.superevents.get(parts[3])
                    if len(parts) >= 5 and parts[1:3] == ["api", "superevents"]
                    else None
                )
                ctype = "application/json"
                if fault:
                    status, body = fault, b'{"detail": "busy"}'
                elif files is None or parts[4] != "files":
                    status, body = 404, b'{"detail": "Not found."}'
                elif len(parts) == 5 or parts[5] == "":
                    base = f"http://127.0.0.1:{fake.server.server_port}/api/superevents/{parts[3]}/files/"
                    listing = {}
                    for name in files:
                        listing[f"{name},0"] = base + f"{name},0"
                        listing[name] = base + name
                    status, body = 200, json.dumps(listing).encode()
                elif parts[5].split(",")[0] in files:
                    with fake.lock:
                        fake.downloads += 1
                    status, body, ctype = 200, files[parts[5].split(",")[0]], "application/fits"
                else:
                    status, body = 404, b'{"detail": "Not found."}'
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_port}/api"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
