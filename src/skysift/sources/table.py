"""Source ``table``: a long-format CSV or parquet file (one row per epoch) converted to the DR layout.

The file's columns are named through a mapping (``fetch.table.columns``) from skysift's keys to
the file's names::

    objectid  int, one light curve per (objectid, filter)         required
    filter    1/2/3, g/r/i or zg/zr/zi (any case)                   required
    time      heliocentric MJD (the DR's hmjd); fetch.table.time_offset is subtracted
    mag, magerr                                                    required
    ra, dec   degrees, per epoch or repeated per object (median)    required
    catflags  int (null = 0), clrcoeff float (null = NaN)           optional
    fieldid, rcid                                                   optional

Missing ``fieldid``/``rcid`` columns: each row's values are decoded from its objectid when the id
follows ZTF's DR format ``field·10¹² + filter·10¹¹ + ccd·10⁹ + qid·10⁸ + n`` (field 1..2000, the
filter digit equal to the row's filter, ccd 1..16, qid 1..4; rcid = 4·(ccd−1) + qid−1); other
rows take ``fetch.table.fieldid`` / ``fetch.table.rcid``; without those the conversion stops and
names the offending ids. The DR layout keeps one filter per objectid, so an objectid seen in two
filters is an error too (give each band its own id).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from skysift.io import InputError
from skysift.layout import FILTER_IDS
from skysift.sources.base import LightCurveSource, Preparation, converted_parent
from skysift.sources.convert import write_release
from skysift.sources.local import select_batch
from skysift.sources.settings import SourceSettings

__all__ = [
    "TABLE_COLUMN_KEYS",
    "REQUIRED_KEYS",
    "read_long_table",
    "long_to_epochs",
    "table_fields",
    "convert_table",
    "decode_objectids",
    "SOURCE",
]

log = logging.getLogger(__name__)

#: skysift's keys of the column mapping (fetch.table.columns), in reading order.
TABLE_COLUMN_KEYS: tuple[str, ...] = (
    "objectid",
    "filter",
    "time",
    "mag",
    "magerr",
    "ra",
    "dec",
    "catflags",
    "clrcoeff",
    "fieldid",
    "rcid",
)
#: Keys that must name a column of the file.
REQUIRED_KEYS: tuple[str, ...] = ("objectid", "filter", "time", "mag", "magerr", "ra", "dec")
_KEY = "fetch.table.columns"


def _is_parquet(path: Path) -> bool:
    """Parquet by suffix (.parquet, .pq), anything else is read as CSV (also .csv.gz)."""
    return path.suffix.lower() in (".parquet", ".pq")


def _file_columns(path: Path) -> list[str]:
    """Column names of the table file without reading its rows."""
    if _is_parquet(path):
        return list(pq.read_schema(path).names)
    return list(pd.read_csv(path, nrows=0, comment="#").columns)


def _check_mapping(path: Path, columns: Mapping[str, str | None], keys: tuple[str, ...]) -> dict[str, str]:
    """{key: file column} of the mapped keys among ``keys``; errors name the config key and the file."""
    unknown = sorted(set(columns) - set(TABLE_COLUMN_KEYS))
    if unknown:
        raise InputError(f"{_KEY}: unknown key(s) {unknown}; known: {list(TABLE_COLUMN_KEYS)}")
    absent = [k for k in REQUIRED_KEYS if k in keys and not columns.get(k)]
    if absent:
        raise InputError(f"{_KEY}.{absent[0]}: required, name the column of {path} that holds it")
    mapping = {k: columns[k] for k in keys if columns.get(k)}
    present = set(_file_columns(path))
    missing = {k: c for k, c in mapping.items() if c not in present}
    if missing:
        keys_text = ", ".join(f"{_KEY}.{k}={c!r}" for k, c in missing.items())
        raise InputError(f"{path}: column(s) not found ({keys_text}); the file has {sorted(present)}")
    return mapping


def read_long_table(
    path: str | Path, columns: Mapping[str, str | None], keys=TABLE_COLUMN_KEYS
) -> pd.DataFrame:
    """Read the mapped columns of a long-format table, renamed to skysift's keys."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: long-format light-curve table not found (fetch.table.path)")
    mapping = _check_mapping(path, columns, tuple(keys))
    wanted = sorted(set(mapping.values()))
    if _is_parquet(path):
        df = pq.read_table(path, columns=wanted).to_pandas()
    else:
        df = pd.read_csv(path, usecols=wanted, comment="#")
    return pd.DataFrame({key: df[col].to_numpy() for key, col in mapping.items()})


def _filter_ids(values: pd.Series, path: Path, column: str) -> np.ndarray:
    """Filter ids (1 g, 2 r, 3 i) from 1/2/3, g/r/i or zg/zr/zi values; unknown ones are an error."""
    text = values.astype(str).str.strip().str.lower()
    text = text.str.replace(r"\.0$", "", regex=True)  # 1.0 from a float column
    lookup = {**FILTER_IDS, "1": 1, "2": 2, "3": 3}
    ids = text.map(lookup)
    bad = ids.isna()
    if bad.any():
        examples = sorted(set(values[bad].astype(str)))[:5]
        raise InputError(
            f"{path}: column {column!r} ({_KEY}.filter) has unknown filter value(s) {examples}; "
            "use 1/2/3, g/r/i or zg/zr/zi"
        )
    return ids.to_numpy(np.int8)


def decode_objectids(objectids: np.ndarray, filterids: np.ndarray | None = None) -> pd.DataFrame:
    """fieldid, rcid and a validity mask decoded from ZTF DR objectids (see the module docstring)."""
    oid = np.asarray(objectids, dtype=np.int64)
    field = oid // 10**12
    filt = (oid // 10**11) % 10
    ccd = (oid // 10**9) % 100
    qid = (oid // 10**8) % 10
    valid = (field >= 1) & (field <= 2000) & (ccd >= 1) & (ccd <= 16) & (qid >= 1) & (qid <= 4)
    valid &= (filt >= 1) & (filt <= 3) if filterids is None else filt == np.asarray(filterids)
    return pd.DataFrame({"fieldid": field, "rcid": 4 * (ccd - 1) + qid - 1, "ztf": valid})


def _ids_column(df: pd.DataFrame, key: str, path: Path, column: str) -> np.ndarray:
    """An integer column (objectid, fieldid, rcid) as int64; non-integers are an error naming it."""
    try:
        values = pd.to_numeric(df[key], errors="raise")
        if values.isna().any() or not np.all(np.mod(values, 1) == 0):
            raise ValueError("missing or fractional values")
    except (TypeError, ValueError) as exc:
        raise InputError(f"{path}: column {column!r} ({_KEY}.{key}) must hold integers: {exc}") from exc
    return values.to_numpy(np.int64)


def _placement(
    df: pd.DataFrame,
    filterid: np.ndarray,
    path: Path,
    columns: Mapping[str, str | None],
    fieldid: int | None,
    rcid: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row fieldid and rcid: the mapped columns, else decoded ZTF objectids, else the defaults."""
    oid = df["objectid"].to_numpy(np.int64)
    decoded = decode_objectids(oid, filterid)
    out = {}
    for key, default, top in (("fieldid", fieldid, 2000), ("rcid", rcid, 63)):
        if key in df:
            values = _ids_column(df, key, path, columns[key])
        else:
            values = np.where(decoded["ztf"], decoded[key], -1 if default is None else default)
            if (values < 0).any():
                examples = np.unique(oid[values < 0])[:3].tolist()
                raise InputError(
                    f"{path}: no {key} for objectid(s) {examples}: they are not ZTF DR ids "
                    f"(field*10**12 + filter*10**11 + ccd*10**9 + qid*10**8 + n); map a column "
                    f"({_KEY}.{key}) or set a default (fetch.table.{key})"
                )
            log.info(
                "%s: %s decoded from %d ZTF objectids, %d rows take fetch.table.%s = %s",
                path,
                key,
                int(np.unique(oid[decoded["ztf"]]).size),
                int((~decoded["ztf"]).sum()),
                key,
                default,
            )
        bad = (values < (1 if key == "fieldid" else 0)) | (values > top)
        if bad.any():
            raise InputError(
                f"{path}: {key} {np.unique(values[bad])[:3].tolist()} outside 0..{top} ({_KEY}.{key})"
            )
        out[key] = values
    return out["fieldid"], out["rcid"]


def long_to_epochs(
    df: pd.DataFrame,
    path: str | Path,
    columns: Mapping[str, str | None],
    *,
    fieldid: int | None = None,
    rcid: int | None = 0,
    time_offset: float = 0.0,
) -> pd.DataFrame:
    """Epoch rows in :data:`skysift.sources.convert.EPOCH_COLUMNS` (+ ra, dec) from a read long table."""
    path = Path(path)
    filterid = _filter_ids(df["filter"], path, columns["filter"])
    oid = _ids_column(df, "objectid", path, columns["objectid"])
    df = df.assign(objectid=oid)
    fields, rcids = _placement(df, filterid, path, columns, fieldid, rcid)
    per_id = pd.DataFrame({"objectid": oid, "filterid": filterid}).drop_duplicates()
    multi = per_id["objectid"][per_id["objectid"].duplicated()].unique()
    if len(multi):
        raise InputError(
            f"{path}: objectid(s) {multi[:3].tolist()} have epochs in more than one filter; the DR layout "
            "holds one filter per objectid (ZTF's ids encode it): give each band its own objectid"
        )

    def num(key: str, dtype, fill) -> np.ndarray:
        if key not in df:
            return np.full(len(df), fill, dtype=dtype)
        try:
            return pd.to_numeric(df[key], errors="raise").to_numpy(dtype)
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"{path}: column {columns[key]!r} ({_KEY}.{key}) must be numeric: {exc}"
            ) from exc

    return pd.DataFrame(
        {
            "objectid": oid,
            "filterid": filterid,
            "fieldid": fields.astype(np.int16),
            "rcid": rcids.astype(np.int8),
            "hmjd": num("time", np.float64, np.nan) - float(time_offset),
            "mag": num("mag", np.float32, np.nan),
            "magerr": num("magerr", np.float32, np.nan),
            "clrcoeff": num("clrcoeff", np.float32, np.nan),
            "catflags": num("catflags", np.int32, 0),
            "ra": num("ra", np.float64, np.nan),
            "dec": num("dec", np.float64, np.nan),
        }
    )


def table_fields(
    path: str | Path, columns: Mapping[str, str | None], *, fieldid: int | None = None
) -> list[int]:
    """The ZTF fields (batches) of a long table, reading only its objectid/filter/fieldid columns."""
    path = Path(path)
    keys = ("objectid", "filter", "fieldid")
    df = read_long_table(path, columns, keys)
    if "fieldid" in df:
        return sorted({int(f) for f in _ids_column(df, "fieldid", path, columns["fieldid"])})
    oid = _ids_column(df, "objectid", path, columns["objectid"])
    decoded = decode_objectids(oid, _filter_ids(df["filter"], path, columns["filter"]))
    fields = set(decoded.loc[decoded["ztf"], "fieldid"].astype(int))
    if not decoded["ztf"].all():
        if fieldid is None:
            examples = np.unique(oid[~decoded["ztf"].to_numpy()])[:3].tolist()
            raise InputError(
                f"{path}: objectid(s) {examples} are not ZTF DR ids, so their field is unknown: "
                f"map a fieldid column ({_KEY}.fieldid) or set fetch.table.fieldid"
            )
        fields.add(int(fieldid))
    return sorted(fields)


def convert_table(
    path: str | Path,
    columns: Mapping[str, str | None],
    release_root: str | Path,
    dr: str,
    *,
    fieldid: int | None = None,
    rcid: int | None = 0,
    time_offset: float = 0.0,
) -> list[Path]:
    """Convert a long-format table to DR files + checksum.md5 under ``release_root``; return the files."""
    df = read_long_table(path, columns)
    epochs = long_to_epochs(df, path, columns, fieldid=fieldid, rcid=rcid, time_offset=time_offset)
    log.info("%s: %d epochs of %d light curves read", path, len(epochs), epochs["objectid"].nunique())
    return write_release(epochs, release_root, dr)


# --------------------------------------------------------------------------------------------------
# the source protocol (skysift.sources.base)


def _table_path(settings: SourceSettings) -> str:
    """fetch.table.path, which the source cannot do without."""
    if not settings.fetch.table.path:
        raise InputError(
            "source is 'table' but fetch.table.path is not set: point it at your CSV/parquet file"
        )
    return settings.fetch.table.path


def long_table_fields(settings: SourceSettings) -> list[int]:
    """fetch.fields, else the fields of the table (its fieldid column or its ZTF objectids)."""
    table = settings.fetch.table
    path = _table_path(settings)
    if settings.fetch.fields:
        return sorted({int(f) for f in settings.fetch.fields})
    return table_fields(path, table.columns, fieldid=table.fieldid)


def long_table_inputs(settings: SourceSettings) -> list[str]:
    """The table file itself."""
    return [_table_path(settings)]


def prepare_conversion(settings: SourceSettings, release_root: Path) -> list[Path]:
    """Convert fetch.table.path with its column mapping into a DR tree."""
    table = settings.fetch.table
    return convert_table(
        _table_path(settings),
        table.columns,
        release_root,
        settings.dr,
        fieldid=table.fieldid,
        rcid=table.rcid,
        time_offset=table.time_offset,
    )


SOURCE = LightCurveSource(
    name="table",
    preparation=Preparation.CONVERT,
    online=False,
    release_keys=("fetch.table",),
    batch_keys=("fetch.filters", "fetch.ccds"),
    fields=long_table_fields,
    release_parent=converted_parent,
    fetch_batch=select_batch,
    prepare=prepare_conversion,
    prepare_rule="convert_table",
    release_inputs=long_table_inputs,
)
