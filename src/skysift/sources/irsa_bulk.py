"""Fetch ZTF DR light-curve parquet files from IRSA's bulk tree into a local mirror, resumably.

IRSA publishes every release as files plus an MD5 listing::

    https://irsa.ipac.caltech.edu/data/ZTF/lc/lc_drNN/checksum.md5
    https://irsa.ipac.caltech.edu/data/ZTF/lc/lc_drNN/{0|1}/fieldFFFFFF/ztf_FFFFFF_{zg|zr|zi}_cCC_qQ_drNN.parquet

The mirror keeps exactly that layout under ``<cache_dir>/<drNN>/`` so the local reader serves it.
:func:`fetch_checksums` caches ``checksum.md5`` once (it lists every file of the release, ~250k
lines for a full DR); :func:`fetch_bulk_batch` downloads one field's files that are missing or fail
their MD5 (a bounded thread pool, rate-limited, retried, resumed from ``.part`` files) and writes
the batch manifest with the source URL, size and MD5 of every file. A rerun after completion only
re-hashes the local files and sends no request.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from skysift.io import InputError
from skysift.layout import parse_dr_path, read_checksums
from skysift.lightcurves import write_manifest
from skysift.sources.base import LightCurveSource, Preparation, cache_parent, requested_fields
from skysift.sources.http import FetchError, HttpClient, HttpConfig
from skysift.sources.local import select_files
from skysift.sources.settings import SourceSettings

__all__ = ["release_url", "fetch_checksums", "fetch_bulk_batch", "SOURCE"]

log = logging.getLogger(__name__)


def release_url(base_url: str, dr: str) -> str:
    """The release root URL: ``base_url`` with ``{dr}`` filled in, without a trailing slash."""
    return base_url.format(dr=dr).rstrip("/")


def fetch_checksums(
    base_url: str, dr: str, release_root: str | Path, http: HttpClient | HttpConfig | dict | None = None
) -> Path:
    """Download the release's ``checksum.md5`` into ``release_root`` (atomically); return its path."""
    client = http if isinstance(http, HttpClient) else HttpClient(http)
    url = f"{release_url(base_url, dr)}/checksum.md5"
    dest = Path(release_root) / "checksum.md5"
    client.download(url, dest)
    try:
        sums = read_checksums(dest)
    except ValueError as exc:
        dest.unlink(missing_ok=True)
        raise FetchError(f"{url}: not an md5sum listing ({exc}); check fetch.bulk_url") from exc
    log.info("%s: %d files listed", url, len(sums))
    return dest


def fetch_bulk_batch(
    base_url: str,
    dr: str,
    release_root: str | Path,
    fieldid: int,
    manifest: str | Path,
    *,
    filters: list[str | int] | None = None,
    ccds: list[int] | None = None,
    http: HttpClient | HttpConfig | dict | None = None,
) -> list[Path]:
    """Download (or verify) one field's files into the mirror and write the batch manifest.

    ``release_root`` is the mirror's ``<cache_dir>/<dr>`` directory holding ``checksum.md5``
    (from :func:`fetch_checksums`). Files already present with the right MD5 are not downloaded.
    Every file is attempted even when some fail; then a FetchError lists the failures.
    """
    client = http if isinstance(http, HttpClient) else HttpClient(http)
    root = Path(release_root)
    checksum = root / "checksum.md5"
    if not checksum.exists():
        raise InputError(f"{checksum}: missing; run fetch_checksums first (the workflow rule does)")
    listing = read_checksums(checksum)
    chosen = select_files([r for r in listing if r.endswith(".parquet")], fieldid, filters, ccds)
    if not chosen:
        raise InputError(
            f"{checksum}: no light-curve files for field {fieldid} in {dr}"
            f"{' with filters ' + str(filters) if filters else ''}{' on CCDs ' + str(ccds) if ccds else ''}; "
            "check fetch.fields / fetch.filters / fetch.ccds"
        )
    base = release_url(base_url, dr)
    results: dict[str, dict] = {}
    errors: list[str] = []
    fetched = received = 0
    with ThreadPoolExecutor(max_workers=max(1, client.config.concurrency)) as pool:
        futures = {
            pool.submit(client.download, f"{base}/{rel}", root / rel, listing[rel]): rel for rel in chosen
        }
        for future in as_completed(futures):
            rel = futures[future]
            try:
                result = future.result()
            except FetchError as exc:
                errors.append(str(exc))
                continue
            fetched += not result.skipped
            received += result.received
            info = parse_dr_path(rel)
            results[rel] = {
                "path": str(result.path.resolve()),
                "md5": result.md5,
                "bytes": result.bytes,
                "fieldid": info.fieldid,
                "filterid": info.filterid,
                "ccdid": info.ccdid,
                "qid": info.qid,
                "url": f"{base}/{rel}",
            }
    if errors:
        raise FetchError(
            f"field {fieldid}: {len(errors)} of {len(chosen)} files failed (the others are in {root}; "
            "a rerun resumes):\n  " + "\n  ".join(sorted(errors))
        )
    rows = [results[rel] for rel in chosen]
    write_manifest(rows, manifest)
    log.info(
        "field %d: %d files verified in %s; %d downloaded (%d bytes received), %d already complete",
        fieldid,
        len(rows),
        root,
        fetched,
        received,
        len(rows) - fetched,
    )
    return [Path(r["path"]) for r in rows]


# --------------------------------------------------------------------------------------------------
# the source protocol (skysift.sources.base)


def bulk_fields(settings: SourceSettings) -> list[int]:
    """fetch.fields: required (a whole DR is ~250k files)."""
    return requested_fields(
        settings, "list the ZTF fields to download (e.g. fetch: {fields: [633]}); a whole DR is ~250k files"
    )


def prepare_index(settings: SourceSettings, release_root: Path) -> Path:
    """Cache the release's checksum.md5 from fetch.bulk_url."""
    return fetch_checksums(settings.fetch.bulk_url, settings.dr, release_root, settings.fetch.http)


def bulk_batch(settings: SourceSettings, release_root: Path, fieldid: int, manifest: Path) -> list[Path]:
    """Download (or verify) one field's files of fetch.filters and fetch.ccds into the mirror."""
    fetch = settings.fetch
    return fetch_bulk_batch(
        fetch.bulk_url,
        settings.dr,
        release_root,
        fieldid,
        manifest,
        filters=fetch.filters,
        ccds=fetch.ccds,
        http=fetch.http,
    )


SOURCE = LightCurveSource(
    name="irsa_bulk",
    preparation=Preparation.INDEX,
    online=True,
    release_keys=("fetch.bulk_url",),
    batch_keys=("fetch.bulk_url", "fetch.filters", "fetch.ccds"),
    fields=bulk_fields,
    release_parent=cache_parent,
    fetch_batch=bulk_batch,
    prepare=prepare_index,
    prepare_rule="fetch_checksums",
)
