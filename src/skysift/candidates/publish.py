"""Publish candidate lists as a versioned bundle with provenance and checksums.

A bundle ``<name>-<version>/`` holds the lists (ECSV, VOTable, CSV), the light-curve PNGs,
the sky map and score distribution, the HTML page, a README.md (what, how selected, every
column with unit and description), ``provenance.json`` (data release and source, the full
config and its SHA-256 over canonical JSON, package versions, git revision, run time, the
SHA-256 of every input) and ``SHA256SUMS`` (``sha256sum -c`` format) over all other files.
The bundle is assembled in a temporary directory and renamed into place. Tables are copied
byte for byte, so republishing the same inputs gives identical tables; only
``provenance.json`` (run time) differs. The optional tarball is deterministic (sorted
entries, fixed mtime, uid/gid 0, no gzip timestamp).
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import platform
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from astropy.table import Table

from skysift.io import InputError, atomic_path
from skysift.provenance import config_sha256, git_revision, package_versions, sha256_file

__all__ = [
    "TABLE_FORMATS",
    "publish_bundle",
    "verify_sha256sums",
    "write_tarball",
]

logger = logging.getLogger(__name__)

#: Table formats of every list, in README order.
TABLE_FORMATS: tuple[str, ...] = ("ecsv", "vot", "csv")
#: mtime of every tarball entry (2000-01-01 UTC): fixed, so the archive depends only on the content.
TAR_MTIME = 946684800


def verify_sha256sums(bundle: str | Path) -> list[str]:
    """Check a bundle's SHA256SUMS like ``sha256sum -c``; return the failing paths (empty = all good).

    Files in the bundle that SHA256SUMS does not list count as failures too.
    """
    bundle = Path(bundle)
    listed: dict[str, str] = {}
    for line in (bundle / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            return [f"malformed line: {line!r}"]
        listed[name] = digest
    failures = [
        name
        for name, digest in listed.items()
        if not (bundle / name).is_file() or sha256_file(bundle / name) != digest
    ]
    present = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()} - {"SHA256SUMS"}
    failures += sorted(present - set(listed))
    return failures


def publish_bundle(
    out_dir: str | Path,
    lists: Mapping[str, str | Path],
    *,
    name: str,
    version: str,
    config: Mapping[str, Any],
    dr: str,
    source: str,
    lightcurve_dir: str | Path | None = None,
    figures: Sequence[str | Path] = (),
    html: str | Path | None = None,
    inputs: Sequence[str | Path] = (),
    workflow_dir: str | Path | None = None,
    tarball: str | Path | None = None,
    now: datetime | None = None,
) -> Path:
    """Assemble the bundle directory ``out_dir`` (replacing it) and optionally its tarball; return out_dir.

    ``lists`` maps a list name to its ECSV path; the VOTable and CSV beside it (same stem) are
    copied too. ``inputs`` are the files the bundle was made from (hashed into provenance.json).
    """
    out_dir = Path(out_dir)
    if not lists:
        raise InputError("publish: no candidate lists to publish (config candidates.lists is empty)")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        tables: dict[str, Table] = {}
        for list_name, ecsv in lists.items():
            ecsv = Path(ecsv)
            for fmt in TABLE_FORMATS:
                src = ecsv.with_suffix(f".{fmt}")
                if not src.is_file():
                    raise InputError(f"publish: list {list_name!r} has no {fmt} file {src}")
                shutil.copyfile(src, stage / f"{list_name}.{fmt}")
            tables[list_name] = Table.read(ecsv, format="ascii.ecsv")
        if lightcurve_dir is not None:
            lc_dir = Path(lightcurve_dir)
            (stage / lc_dir.name).mkdir()
            for png in sorted(lc_dir.glob("*.png")):
                shutil.copyfile(png, stage / lc_dir.name / png.name)
        for fig in figures:
            shutil.copyfile(fig, stage / Path(fig).name)
        if html is not None:
            shutil.copyfile(html, stage / "index.html")
        (stage / "README.md").write_text(
            _readme(name, version, dr, source, tables, has_html=html is not None), encoding="utf-8"
        )
        provenance = _provenance(name, version, config, dr, source, tables, inputs, workflow_dir, now)
        (stage / "provenance.json").write_text(json.dumps(provenance, indent=2, sort_keys=True) + "\n")
        files = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
        sums = "".join(f"{sha256_file(stage / f)}  {f}\n" for f in files)
        (stage / "SHA256SUMS").write_text(sums, encoding="utf-8")
        for path in [stage, *stage.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(stage, out_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    logger.info("published %s (%d files, lists %s)", out_dir, len(files) + 1, list(tables))
    if tarball is not None:
        write_tarball(out_dir, tarball)
    return out_dir


def write_tarball(directory: str | Path, path: str | Path) -> Path:
    """A deterministic .tar.gz of ``directory`` (top-level entry = its name): sorted, fixed mtime, root owner."""
    directory = Path(directory)
    entries = [directory, *sorted(directory.rglob("*"), key=lambda p: p.relative_to(directory).as_posix())]
    with (
        atomic_path(path) as tmp,
        open(tmp, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
    ):
        for entry in entries:
            arcname = (Path(directory.name) / entry.relative_to(directory)).as_posix()
            info = tarfile.TarInfo(arcname)
            info.mtime = TAR_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if entry.is_dir():
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                data = entry.read_bytes()
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would make the shared archive unreadable to others
    logger.info("wrote %s", path)
    return Path(path)


def _provenance(
    name: str,
    version: str,
    config: Mapping[str, Any],
    dr: str,
    source: str,
    tables: Mapping[str, Table],
    inputs: Sequence[str | Path],
    workflow_dir: str | Path | None,
    now: datetime | None,
) -> dict[str, Any]:
    """The provenance record of a bundle."""
    return {
        "bundle": {"name": name, "version": version},
        "data_release": dr,
        "source": source,
        "created_utc": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "config": json.loads(json.dumps(config, default=str)),
        "config_sha256": config_sha256(config),
        "packages": package_versions(),
        "platform": {"system": platform.system(), "machine": platform.machine()},
        "git": git_revision(workflow_dir) if workflow_dir is not None else None,
        "lists": {
            n: {
                "rows": len(t),
                "description": t.meta.get("description"),
                "select": t.meta.get("select"),
                **({"note": t.meta["note"]} if t.meta.get("note") else {}),
            }
            for n, t in tables.items()
        },
        "inputs": [
            {"path": Path(p).as_posix(), "bytes": Path(p).stat().st_size, "sha256": sha256_file(p)}
            for p in sorted(_files(inputs), key=lambda p: p.as_posix())
        ],
    }


def _files(paths: Iterable[str | Path]) -> list[Path]:
    """Files of the given paths, directories expanded to the files under them."""
    out = []
    for path in map(Path, paths):
        if path.is_dir():
            out += [p for p in path.rglob("*") if p.is_file()]
        elif path.is_file():
            out.append(path)
        else:
            raise InputError(f"publish: input {path} does not exist")
    return out


def _readme(
    name: str, version: str, dr: str, source: str, tables: Mapping[str, Table], *, has_html: bool
) -> str:
    """README.md of the bundle: what it is, how each list was selected, files, columns."""
    lines = [
        f"# {name} {version}",
        "",
        f"Candidate transients and anomalies from the ZTF data release {dr.upper()} (light curves from "
        f"`{source}`), found by the skysift workflow: light curves quality-cut, described "
        "by light-curve features, classified by a balanced random forest trained on catalog cross-match labels, "
        "and ranked by an isolation forest.",
        "",
        "## Lists",
        "",
    ]
    for list_name, table in tables.items():
        lines.append(f"- **{list_name}** ({len(table)} objects): {table.meta.get('description', '')}.")
        if table.meta.get("note"):
            lines.append(f"  *{table.meta['note']}.*")
    lines += [
        "",
        "## Files",
        "",
        "| file | content |",
        "|---|---|",
    ]
    for list_name in tables:
        lines.append(
            f"| `{list_name}.ecsv`, `{list_name}.vot`, `{list_name}.csv` | the `{list_name}` list as ECSV "
            "(units, descriptions, selection in the header), VOTable (TOPCAT, Aladin) and plain CSV |"
        )
    lines += [
        "| `lightcurves/lc_<objectid>.png` | light curve of each candidate: all bands of its sky source, "
        "error bars, flagged epochs as x, folded on the periodogram period when significant |",
        "| `sky_map.png`, `score_distribution.png` | candidates on the sky; anomaly-score histogram with the lists |",
    ]
    if has_html:
        lines.append(
            "| `index.html` | the lists as a sortable page with thumbnails and links (open in a browser) |"
        )
    lines += [
        "| `provenance.json` | data release, source, full config and its SHA-256, package versions, git "
        "revision, run time, SHA-256 of every input |",
        "| `SHA256SUMS` | checksums of every other file: `sha256sum -c SHA256SUMS` |",
        "",
        "## Columns",
        "",
        "One row per ZTF DR object (one light curve in one filter). Masked (empty) cells mean unknown.",
        "",
        "| column | unit | description |",
        "|---|---|---|",
    ]
    first = next(iter(tables.values()))
    for col in first.colnames:
        unit = str(first[col].unit) if first[col].unit is not None else ""
        description = (first[col].description or "").replace("|", "\\|")
        lines.append(f"| `{col}` | {unit} | {description} |")
    lines += [
        "",
        "ALeRCE and Fink pages are indexed by ZTF *alert* names (ZTF18abcdefg), which data-release objectids "
        "do not carry: `ztf_name`, `alerce_url` and `fink_url` are filled only where an alert name is known "
        "(config `candidates.alert_names`). `expert_label` is empty until the objects are inspected.",
        "",
    ]
    return "\n".join(lines)
