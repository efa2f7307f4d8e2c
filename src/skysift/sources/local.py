"""Source ``local``: an existing mirror of a ZTF DR release, verified in place (also how every prepared release
is read: the demo's and the converted API/HATS/table answers).

A batch (one ZTF field) is "fetched" when its files are present and verified against the
release's ``checksum.md5``; the result is a manifest (TSV) listing the verified files, which
is what downstream rules read. Nothing is copied: the mirror stays where it is.
"""

from __future__ import annotations

import logging
from pathlib import Path

from skysift.io import InputError
from skysift.layout import FILTER_IDS, md5sum, parse_dr_path, read_checksums
from skysift.lightcurves.manifest import MANIFEST_COLUMNS, read_manifest, write_manifest
from skysift.sources.base import LightCurveSource, Preparation, chosen_fields
from skysift.sources.settings import SourceSettings

__all__ = [
    "release_fields",
    "fetch_local_batch",
    "read_manifest",
    "write_manifest",
    "select_files",
    "MANIFEST_COLUMNS",
    "verify_batch",
    "select_batch",
    "SOURCE",
]

log = logging.getLogger(__name__)

#: The fetch.verify modes.
VERIFY_MODES = ("md5", "exists", "none")


def _release_files(release_root: Path) -> dict[str, str | None]:
    """{relative path: md5 or None} from checksum.md5, or a directory scan when it is absent."""
    checksum = release_root / "checksum.md5"
    if checksum.exists():
        return {rel: md5 for rel, md5 in read_checksums(checksum).items() if rel.endswith(".parquet")}
    if not release_root.is_dir():
        raise InputError(
            f"{release_root}: release directory not found; set fetch.local_path to the directory "
            "that holds the <drNN> release (e.g. /data/ztf/lc, containing dr24/0/field000633/...)"
        )
    return {
        p.relative_to(release_root).as_posix(): None
        for p in sorted(release_root.glob("*/field*/ztf_*.parquet"))
    }


def release_fields(release_root: str | Path) -> list[int]:
    """Sorted ZTF field ids present in a release (from checksum.md5, else from the directory tree)."""
    root = Path(release_root)
    return sorted({parse_dr_path(rel).fieldid for rel in _release_files(root)})


def select_files(
    relpaths: list[str] | dict[str, str | None],
    fieldid: int,
    filters: list[str | int] | None = None,
    ccds: list[int] | None = None,
) -> list[str]:
    """The release-relative paths of one field, optionally only some filters (g/r/i or zg/zr/zi) and CCDs."""
    filterids = {FILTER_IDS[f] if isinstance(f, str) else int(f) for f in filters or []}
    chosen = []
    for rel in sorted(relpaths):
        info = parse_dr_path(rel)
        if info.fieldid != fieldid:
            continue
        if filterids and info.filterid not in filterids:
            continue
        if ccds and info.ccdid not in set(ccds):
            continue
        chosen.append(rel)
    return chosen


def fetch_local_batch(
    release_root: str | Path,
    fieldid: int,
    manifest: str | Path,
    verify: str = "md5",
    filters: list[str | int] | None = None,
    ccds: list[int] | None = None,
) -> list[Path]:
    """Verify one field's files in a local release and write the batch manifest; return the file paths.

    ``verify``: ``md5`` checks every file against checksum.md5 (required to exist),
    ``exists`` only checks presence, ``none`` trusts the listing. ``filters``/``ccds`` restrict
    the batch to some filters and CCDs (empty = all).
    """
    if verify not in VERIFY_MODES:
        raise ValueError(f"fetch.verify: {verify!r} is not one of {VERIFY_MODES}")
    root = Path(release_root)
    listing = _release_files(root)
    if verify == "md5" and not (root / "checksum.md5").exists():
        raise InputError(
            f"{root / 'checksum.md5'}: missing, so the files cannot be verified; "
            "restore it or set fetch.verify: exists"
        )
    rows = []
    for rel in select_files(listing, fieldid, filters, ccds):
        info = parse_dr_path(rel)
        path = (root / rel).resolve()
        if verify != "none" and not path.exists():
            raise InputError(f"{path}: listed in {root / 'checksum.md5'} but missing from the mirror")
        expected = listing[rel]
        if verify == "md5":
            actual = md5sum(path)
            if actual != expected:
                raise InputError(
                    f"{path}: md5 {actual} does not match checksum.md5 ({expected}); "
                    "the file is corrupt or partial: re-download it"
                )
        rows.append(
            {
                "path": str(path),
                "md5": expected or "",
                "bytes": path.stat().st_size if path.exists() else -1,
                "fieldid": info.fieldid,
                "filterid": info.filterid,
                "ccdid": info.ccdid,
                "qid": info.qid,
            }
        )
    if not rows:
        raise InputError(
            f"{root}: no light-curve files for field {fieldid}; check fetch.fields (and fetch.filters/ccds)"
        )
    write_manifest(rows, manifest)
    log.info("field %d: %d files verified (%s) in %s", fieldid, len(rows), verify, root)
    return [Path(r["path"]) for r in rows]


# --------------------------------------------------------------------------------------------------
# the source protocol (skysift.sources.base)


def mirror_fields(settings: SourceSettings) -> list[int]:
    """fetch.fields, checked against the mirror, or every field of the mirror."""
    parent = settings.fetch.local_path
    if not parent:
        raise InputError("source is 'local' but fetch.local_path is not set: point it at your DR mirror")
    root = Path(parent) / settings.dr
    available = release_fields(root)
    if not available:
        raise InputError(f"{root}: no ZTF DR light-curve files found")
    return chosen_fields(settings, available, f"are not in the mirror {root}")


def mirror_parent(settings: SourceSettings, default_parent: str) -> str:
    """fetch.local_path: the directory holding the mirror's ``<dr>/``."""
    return settings.fetch.local_path or ""


def verify_batch(settings: SourceSettings, release_root: Path, fieldid: int, manifest: Path) -> list[Path]:
    """Verify every file of one field of a release skysift prepared (fetch.verify) and write the manifest."""
    return fetch_local_batch(release_root, fieldid, manifest, verify=settings.fetch.verify)


def select_batch(settings: SourceSettings, release_root: Path, fieldid: int, manifest: Path) -> list[Path]:
    """Verify one field's files of the fetch.filters and fetch.ccds (empty = all) and write the manifest."""
    return fetch_local_batch(
        release_root,
        fieldid,
        manifest,
        verify=settings.fetch.verify,
        filters=settings.fetch.filters,
        ccds=settings.fetch.ccds,
    )


SOURCE = LightCurveSource(
    name="local",
    preparation=Preparation.NONE,
    online=False,
    release_keys=(),
    batch_keys=("fetch.filters", "fetch.ccds"),
    fields=mirror_fields,
    release_parent=mirror_parent,
    fetch_batch=select_batch,
)
