"""Backend ``xmatch``: CDS XMatch (SIMBAD, VizieR VSX, Gaia DR3, any VizieR table) via astroquery.

Positions are uploaded in chunks (``chunk_size`` rows), one request at a time: a process-wide
file lock in the cache directory serialises concurrent jobs on one host, because CDS bans
clients that run cross-match jobs in parallel (HTTP 403). astroquery's requests go through
skysift's HTTP client (:meth:`skysift.net.HttpClient.requests_session`): the ``crossmatch.xmatch``
timeout, retries with backoff (5xx, 429, timeouts, broken connections; a query only reads, so
its POST is retried), ``Retry-After`` and ``min_interval`` between requests of every job on the
host (a rate file beside the lock). A 403 stops at once with what to do.

Responses are cached by astroquery under ``cache_dir`` (keyed by the request, so a rerun of the
same chunk costs no request). astroquery caches every response it gets, errors included, so a
refused request's cache file is removed (otherwise the error would be replayed from the cache
forever); a request that failed for good never reaches the cache.

astroquery 0.4.11 asks for ``RESPONSEFORMAT=votable`` and parses the VOTable: column
``angDist`` (arcsec), then the uploaded columns, then the catalog's columns.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import astropy.units as u
import numpy as np
import pandas as pd
from astropy.table import Table

from skysift import net
from skysift.crossmatch.base import Backend
from skysift.io import InputError
from skysift.net import FetchError, HttpSettings

if TYPE_CHECKING:
    from skysift.crossmatch.spec import CatalogSpec

__all__ = [
    "BACKEND",
    "XMatchSettings",
    "XMatchError",
    "XMatchBanned",
    "KNOWN_TABLE_COLUMNS",
    "match_xmatch",
    "query_xmatch",
]

log = logging.getLogger(__name__)

_KEY = "crossmatch.xmatch"

#: id and type columns of well-known XMatch tables (as the service names them).
KNOWN_TABLE_COLUMNS: dict[str, tuple[str, str | None]] = {
    "simbad": ("main_id", "main_type"),
    "vizier:simbad": ("main_id", "main_type"),
    "vizier:B/vsx/vsx": ("Name", "Type"),
    "vizier:I/355/gaiadr3": ("Source", None),
}
_ID_FALLBACK = ("main_id", "Name", "Source", "source_id", "DR3Name", "ID", "name", "id")
_TYPE_FALLBACK = ("main_type", "otype", "Type", "VType", "vtype", "type")

# Upload column names that cannot collide with a catalog's own ra/dec columns.
_KEY_COL, _RA, _DEC = "skysift_key", "skysift_ra", "skysift_dec"


class XMatchError(RuntimeError):
    """The XMatch service failed for good (after retries) or refused the query."""


class XMatchBanned(XMatchError):
    """HTTP 403: CDS banned this IP for running cross-match jobs in parallel."""


@dataclass(frozen=True)
class XMatchSettings:
    """How to talk to CDS XMatch (the ``crossmatch.xmatch`` section) and where to cache its answers.

    ``cache_dir`` (not a config key: ``<crossmatch.cache_dir>/xmatch`` in the workflow) holds
    astroquery's cache and the lock and rate files; None = no cache, lock files in the temp dir.
    """

    url: str
    chunk_size: int
    http: HttpSettings
    cache_dir: str | None

    @classmethod
    def from_config(cls, section: Mapping, cache_dir: str | Path | None) -> XMatchSettings:
        """From the validated ``crossmatch.xmatch`` section and the cache directory."""
        own = {
            **{k: section[k] for k in ("url", "chunk_size")},
            "cache_dir": str(cache_dir) if cache_dir else None,
        }
        return net.settings_with_http(cls, {**section, **own}, _KEY)


def _lock_dir(settings: XMatchSettings) -> Path:
    """Where the one-at-a-time lock and the shared rate file live."""
    path = Path(settings.cache_dir or tempfile.gettempdir())
    path.mkdir(parents=True, exist_ok=True)
    return path


def _xmatch_client(settings: XMatchSettings):
    """An astroquery XMatch client on ``settings.url`` whose requests go through skysift's HTTP client."""
    from astroquery import __version__ as astroquery_version
    from astroquery.utils import url_helpers
    from astroquery.xmatch import XMatchClass

    class _Client(XMatchClass):
        """XMatchClass that raises on a failed table-list request instead of caching the error page."""

        _tables: list[str] | None = None

        def get_available_tables(self, *, cache: bool = True) -> list[str]:
            """Names of the tables the service offers (one uncached request per client)."""
            if self._tables is None:
                response = self._request(
                    "GET",
                    url_helpers.urljoin_keep_path(self.URL, "tables"),
                    {"action": "getVizieRTableNames", "RESPONSEFORMAT": "txt"},
                    cache=False,
                    timeout=self.TIMEOUT,
                )
                response.raise_for_status()
                self._tables = response.text.splitlines()
            return self._tables

    http = net.HttpClient(
        settings.http,
        config_key=_KEY,
        user_agent=f"{net.USER_AGENT} astroquery/{astroquery_version}",
        rate_file=_lock_dir(settings) / "skysift-xmatch.rate",
    )
    client = _Client()
    client._session = http.requests_session(idempotent=True)
    client.URL = settings.url
    client.TIMEOUT = settings.http.timeout
    if settings.cache_dir:
        client.cache_location = settings.cache_dir
    return client


@contextlib.contextmanager
def _one_at_a_time(settings: XMatchSettings) -> Iterator[None]:
    """Hold an exclusive lock so that jobs on this host never query CDS in parallel."""
    with open(_lock_dir(settings) / "skysift-xmatch.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _http_status(exc: BaseException) -> int | None:
    """HTTP status behind an exception (astroquery wraps requests' HTTPError), if any."""
    import requests

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, requests.HTTPError):
            if exc.response is not None:
                return int(exc.response.status_code)
            if "banned" in str(exc):  # astroquery's 403 error carries no response
                return 403
        exc = exc.__cause__ or exc.__context__
    return None


def _forget_failed_response(client) -> None:
    """Remove the cache file of the last request (astroquery caches error responses too)."""
    query = getattr(client, "_last_query", None)
    if query is not None:
        with contextlib.suppress(OSError):
            query.remove_cache_file(client.cache_location)
        client._last_query = None


def _query_chunk(
    client, chunk: pd.DataFrame, table: str, radius_arcsec: float, settings: XMatchSettings
) -> Table:
    """One chunk (retried by the HTTP client); a 403 or any other refusal stops with what to do."""
    upload = Table(
        {
            _KEY_COL: chunk["key"].to_numpy(np.int64),
            _RA: chunk["ra"].to_numpy(np.float64),
            _DEC: chunk["dec"].to_numpy(np.float64),
        }
    )
    client._last_query = None
    try:
        return client.query(
            cat1=upload,
            cat2=table,
            max_distance=radius_arcsec * u.arcsec,
            colRA1=_RA,
            colDec1=_DEC,
            cache=settings.cache_dir is not None,
        )
    except FetchError as exc:  # the HTTP client gave up: nothing was cached
        raise XMatchError(f"CDS XMatch query of {table!r}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - astroquery's refusals, classified here
        _forget_failed_response(client)
        status = _http_status(exc)
        if status == 403:
            raise XMatchBanned(
                f"CDS XMatch at {settings.url} answered HTTP 403: this IP is banned, usually for "
                "running cross-match jobs in parallel. Do not retry now: wait (hours), run one job "
                "at a time, and if it persists write to cds-question@unistra.fr."
            ) from exc
        raise XMatchError(
            f"CDS XMatch at {settings.url} refused the query of {table!r} (HTTP {status}): {exc}"
        ) from exc


def _as_str(column) -> np.ndarray:
    """A response column as an object array of strings, masked values as ''."""
    if hasattr(column, "filled"):
        column = column.filled("" if column.dtype.kind in "US" else 0)
    values = np.asarray(column)
    if values.dtype.kind == "S":
        values = np.char.decode(values, "utf-8")
    return np.array([str(v).strip() for v in values], dtype=object)


def _pick(columns: list[str], preferred: str | None, fallback: tuple[str, ...]) -> str | None:
    """The first of ``preferred`` and ``fallback`` present in the response columns."""
    for name in (preferred, *fallback):
        if name and name in columns:
            return name
    return None


def query_xmatch(
    positions: pd.DataFrame,
    table: str,
    radius_arcsec: float,
    settings: XMatchSettings,
    *,
    id_column: str | None = None,
    type_column: str | None = None,
) -> pd.DataFrame:
    """All counterparts within the radius of positions (key, ra, dec) in a CDS XMatch table.

    Returns key, match_name, match_type, sep_arcsec (every match; the caller keeps the nearest).
    """
    if not 0 < radius_arcsec <= 180:
        raise InputError(f"XMatch radius must be in (0, 180] arcsec, got {radius_arcsec}")
    missing = [c for c in ("key", "ra", "dec") if c not in positions.columns]
    if missing:
        raise InputError(f"query_xmatch: positions lack column(s) {missing}")
    known_id, known_type = KNOWN_TABLE_COLUMNS.get(table, (None, None))
    client = _xmatch_client(settings)
    parts = []
    n_chunks = max(1, -(-len(positions) // settings.chunk_size))
    with _one_at_a_time(settings):
        for i in range(n_chunks):
            chunk = positions.iloc[i * settings.chunk_size : (i + 1) * settings.chunk_size]
            if len(chunk) == 0:
                break
            t0 = time.monotonic()
            result = _query_chunk(client, chunk, table, radius_arcsec, settings)
            cols = list(result.colnames)
            id_col = _pick(cols, id_column or known_id, _ID_FALLBACK)
            type_col = _pick(cols, type_column or known_type, _TYPE_FALLBACK)
            if _KEY_COL not in cols or "angDist" not in cols or id_col is None:
                raise XMatchError(
                    f"{settings.url}: unexpected XMatch answer for {table!r}: columns {cols}; "
                    "expected angDist, the uploaded columns and an id column (set id_column)"
                )
            n = len(result)
            names = _as_str(result[id_col])
            types = _as_str(result[type_col]) if type_col else np.full(n, "", dtype=object)
            parts.append(
                pd.DataFrame(
                    {
                        "key": np.asarray(result[_KEY_COL], dtype=np.int64),
                        "match_name": names,
                        "match_type": types,
                        "sep_arcsec": np.asarray(result["angDist"], dtype=np.float64),
                    }
                )
            )
            log.info(
                "XMatch %s chunk %d/%d: %d positions, %d matches (%.1f s)",
                table,
                i + 1,
                n_chunks,
                len(chunk),
                n,
                time.monotonic() - t0,
            )
    if not parts:
        return pd.DataFrame(
            {"key": np.empty(0, np.int64), "match_name": [], "match_type": [], "sep_arcsec": []}
        )
    out = pd.concat(parts, ignore_index=True)
    out = out[out["sep_arcsec"] <= radius_arcsec]
    return out.sort_values(["key", "sep_arcsec"], kind="stable").reset_index(drop=True)


def match_xmatch(
    positions: pd.DataFrame, spec: CatalogSpec, *, workers: int = 1, settings: XMatchSettings | None = None
) -> pd.DataFrame:
    """Counterparts of positions (key, ra, dec) in the CDS table of ``spec`` (no magnitudes: match_mag NaN)."""
    if settings is None:
        raise InputError(
            f"crossmatch.catalogs.{spec.name}: an xmatch catalog needs the CDS XMatch settings "
            "(XMatchSettings.from_config(config['crossmatch']['xmatch'], cache_dir))"
        )
    matches = query_xmatch(
        positions,
        spec.table,
        spec.radius_arcsec,
        settings,
        id_column=spec.id_column or None,
        type_column=spec.type_column or None,
    )
    return matches.assign(match_mag=np.nan)


BACKEND = Backend(
    name="xmatch",
    match=match_xmatch,
    requires={"table": "an xmatch catalog needs a CDS table, e.g. simbad or vizier:B/vsx/vsx"},
    columns={"id_column": "", "ra_column": "", "dec_column": "", "type_column": ""},
    max_radius_arcsec=180.0,
)
