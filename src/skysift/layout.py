"""The ZTF data-release bulk parquet layout: paths, schema and checksums.

Every source (demo survey, local mirror, IRSA downloads) produces exactly this layout so
that one reader serves them all::

    <root>/<drNN>/{0,1}/field{FFFFFF}/ztf_{FFFFFF}_{zg|zr|zi}_c{CC}_q{Q}_<drNN>.parquet
    <root>/<drNN>/checksum.md5

One parquet row per light curve (per objectid, i.e. per filter), with list columns.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from skysift.io import InputError, atomic_path

__all__ = [
    "DR_SCHEMA",
    "FILTER_CODES",
    "FILTER_IDS",
    "LIST_COLUMNS",
    "DRFile",
    "parse_dr_path",
    "dr_file_path",
    "md5sum",
    "write_checksums",
    "read_checksums",
    "batch_name",
    "check_dr_file",
    "read_dr_files",
]

#: filterid -> ZTF filter code used in file names.
FILTER_CODES: dict[int, str] = {1: "zg", 2: "zr", 3: "zi"}
#: ZTF filter code / band letter -> filterid.
FILTER_IDS: dict[str, int] = {"zg": 1, "zr": 2, "zi": 3, "g": 1, "r": 2, "i": 3}
#: filterid -> band letter.
BAND_NAMES: dict[int, str] = {1: "g", 2: "r", 3: "i"}

#: The per-epoch list columns of a DR light curve.
LIST_COLUMNS: tuple[str, ...] = ("hmjd", "mag", "magerr", "clrcoeff", "catflags")

#: Arrow schema of a ZTF DR light-curve parquet file (IRSA lc_drNN), exactly.
DR_SCHEMA = pa.schema(
    [
        pa.field("objectid", pa.int64()),
        pa.field("filterid", pa.int8()),
        pa.field("fieldid", pa.int16()),
        pa.field("rcid", pa.int8()),
        pa.field("objra", pa.float32()),
        pa.field("objdec", pa.float32()),
        pa.field("nepochs", pa.int64()),
        pa.field("hmjd", pa.list_(pa.float64())),
        pa.field("mag", pa.list_(pa.float32())),
        pa.field("magerr", pa.list_(pa.float32())),
        pa.field("clrcoeff", pa.list_(pa.float32())),
        pa.field("catflags", pa.list_(pa.int32())),
    ]
)

_DR_NAME = re.compile(
    r"^ztf_(?P<field>\d{6})_(?P<filter>z[gri])_c(?P<ccd>\d{2})_q(?P<quad>[1-4])_(?P<dr>dr\d+)\.parquet$"
)


@dataclass(frozen=True)
class DRFile:
    """One DR parquet file: a field, filter and CCD quadrant of a release."""

    dr: str
    fieldid: int
    filterid: int
    ccdid: int
    qid: int

    @property
    def rcid(self) -> int:
        """Readout-channel id 0..63 as ZTF defines it: 4*(ccdid-1) + (qid-1)."""
        return 4 * (self.ccdid - 1) + (self.qid - 1)

    @property
    def relpath(self) -> str:
        """Path relative to the release root (the ``<drNN>`` directory)."""
        return dr_file_path(self.dr, self.fieldid, self.filterid, self.ccdid, self.qid)


def batch_name(fieldid: int) -> str:
    """Snakemake batch name of a field (one batch = one ZTF field)."""
    return f"field{fieldid:06d}"


def dr_file_path(dr: str, fieldid: int, filterid: int, ccdid: int, qid: int) -> str:
    """Relative path of a DR file inside the release root, e.g. ``0/field000633/ztf_000633_zr_c01_q1_dr24.parquet``."""
    code = FILTER_CODES[filterid]
    return f"{fieldid // 1000}/field{fieldid:06d}/ztf_{fieldid:06d}_{code}_c{ccdid:02d}_q{qid}_{dr}.parquet"


def parse_dr_path(path: str | Path) -> DRFile:
    """Parse a DR file name; raise ValueError naming the file if it does not follow the layout."""
    name = Path(path).name
    m = _DR_NAME.match(name)
    if m is None:
        raise ValueError(
            f"{path}: not a ZTF DR light-curve file name (expected ztf_FFFFFF_zX_cCC_qQ_drNN.parquet)"
        )
    return DRFile(
        dr=m["dr"],
        fieldid=int(m["field"]),
        filterid=FILTER_IDS[m["filter"]],
        ccdid=int(m["ccd"]),
        qid=int(m["quad"]),
    )


def md5sum(path: str | Path) -> str:
    """Hex MD5 of a file (streamed by hashlib.file_digest)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "md5").hexdigest()


def write_checksums(release_root: str | Path) -> Path:
    """Write ``checksum.md5`` (md5sum format, paths relative to the release root) for every DR file."""
    root = Path(release_root)
    files = sorted(p for p in root.glob("*/field*/ztf_*.parquet"))
    out = root / "checksum.md5"
    with atomic_path(out) as tmp, open(tmp, "w") as fh:
        for p in files:
            fh.write(f"{md5sum(p)}  {p.relative_to(root).as_posix()}\n")
    return out


def read_checksums(path: str | Path) -> dict[str, str]:
    """Read a ``checksum.md5`` file into {relative path: md5}; tolerate ``./`` prefixes and ``*`` binary marks."""
    sums: dict[str, str] = {}
    for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or len(parts[0]) != 32:
            raise ValueError(f"{path}:{lineno}: not an md5sum line: {line!r}")
        rel = parts[1].lstrip("*")
        if rel.startswith("./"):
            rel = rel[2:]
        sums[rel] = parts[0].lower()
    return sums


def _compatible(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Can a column of type ``actual`` be read as ``expected`` (same kind: integer, float, list of those)?"""
    if actual == expected:
        return True
    if pa.types.is_list(expected):
        return (pa.types.is_list(actual) or pa.types.is_large_list(actual)) and _compatible(
            actual.value_type, expected.value_type
        )
    if pa.types.is_integer(expected):
        return pa.types.is_integer(actual)
    if pa.types.is_floating(expected):
        return pa.types.is_floating(actual) or pa.types.is_integer(actual)
    return False


def check_dr_file(path: str | Path) -> int:
    """Read a DR file's footer and schema; return its row count, or raise InputError naming the file.

    Catches what a checksum cannot when the file was published that way: a 0-byte or truncated file,
    a file that is not parquet, missing DR columns or columns of the wrong type (text magnitudes).
    Extra columns are fine (ignored); a file of zero rows is fine (no light curves).
    """
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(
            f"{path}: not a readable parquet file ({' '.join(str(exc).split())}): it is empty, truncated or "
            "not parquet; re-download or re-create it (or remove it from the mirror)"
        ) from None
    schema = pf.schema_arrow
    missing = [name for name in DR_SCHEMA.names if name not in schema.names]
    wrong = [
        f"{f.name} is {schema.field(f.name).type}, expected {f.type}"
        for f in DR_SCHEMA
        if f.name in schema.names and not _compatible(schema.field(f.name).type, f.type)
    ]
    if missing or wrong:
        problems = ([f"missing column(s) {missing}"] if missing else []) + wrong
        raise InputError(
            f"{path}: not a ZTF DR light-curve file: {'; '.join(problems)} "
            "(see docs/architecture.md, 'Data contracts')"
        )
    return pf.metadata.num_rows


def read_dr_files(paths: Iterable[str | Path]) -> pa.Table:
    """Read DR light-curve parquet files into one table with the DR schema.

    Raises InputError naming the file when a required column is missing, so a user
    pointing skysift at the wrong directory learns which file is wrong.
    """
    tables = []
    for path in paths:
        table = pq.read_table(path)
        missing = [name for name in DR_SCHEMA.names if name not in table.column_names]
        if missing:
            raise InputError(
                f"{path}: missing DR light-curve column(s) {missing}; "
                "expected the ZTF DR bulk parquet schema (see docs/architecture.md, 'Data contracts')"
            )
        tables.append(table.select(DR_SCHEMA.names).cast(DR_SCHEMA))
    if not tables:
        return DR_SCHEMA.empty_table()
    return pa.concat_tables(tables)
