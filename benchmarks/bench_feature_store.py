"""The release feature view at many batches: build time, size, and one object read through it.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_feature_store.py [--batches 10 100 1000] [--rows 1000]

For each N: N batch stores of ``--rows`` objects x 36 features (one store written with
``write_batch_store`` from a synthetic feature parquet, then copied N times: the view reads only shapes and
attributes, so equal contents cost the same as different ones), then

- ``build_feature_view`` over them: wall time, the view's bytes against the batch files' bytes;
- one object (the middle batch's first row) read through ``open_feature_store`` (which first checks that
  every batch file exists): wall time, after one open of a batch file has imported xarray's backends;
- the copy it replaces, ``combine_features`` over the same N parquet files (one HDF5 of every row), for
  the ratio in the same run (skipped above ``--copy-max`` batches).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from skysift.features.catalogue import ID_COLUMNS
from skysift.features.store import combine_features
from skysift.features.view import build_feature_view, open_feature_store, write_batch_store


def _batch_parquet(path: Path, rows: int, n_features: int = 36) -> None:
    """A synthetic feature table of the store's layout (ID columns, then float32 features)."""
    rng = np.random.default_rng(0)
    cols = {name: pa.array(np.arange(rows).astype(typ.to_pandas_dtype()), typ) for name, typ in ID_COLUMNS}
    for k in range(n_features):
        cols[f"f{k:02d}"] = pa.array(rng.normal(size=rows).astype(np.float32))
    pq.write_table(pa.table(cols), path)


def run(n: int, rows: int, root: Path, copy_max: int) -> dict[str, float]:
    """Measure the view (and the copy) at ``n`` batches."""
    work = root / f"n{n}"
    work.mkdir()
    parquet = work / "template.parquet"
    _batch_parquet(parquet, rows)
    template = work / "template.h5"
    write_batch_store(parquet, template, dr="dr24")
    stores, parquets = [], []
    for k in range(n):
        stores.append(work / f"field{k:06d}.h5")
        shutil.copyfile(template, stores[-1])
        parquets.append(work / f"field{k:06d}.parquet")
        shutil.copyfile(parquet, parquets[-1])
    t0 = time.perf_counter()
    build_feature_view(stores, work / "features.h5")
    build = time.perf_counter() - t0
    with open_feature_store(template) as ds:  # xarray's backends imported before the clock starts
        _ = ds.features.isel(object=0).values
    t0 = time.perf_counter()
    with open_feature_store(work / "features.h5") as ds:
        row = ds.features.isel(object=(n // 2) * rows).values
    read = time.perf_counter() - t0
    assert row.shape == (36,) and np.isfinite(row).all()
    out = {
        "batches": n,
        "build_s": build,
        "read_one_s": read,
        "view_kB": (work / "features.h5").stat().st_size / 1e3,
        "batch_files_MB": sum(p.stat().st_size for p in stores) / 1e6,
        "copy_s": float("nan"),
    }
    if n <= copy_max:
        t0 = time.perf_counter()
        combine_features(parquets, work / "copy.h5", dr="dr24")
        out["copy_s"] = time.perf_counter() - t0
    shutil.rmtree(work)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--rows", type=int, default=1000, help="objects per batch")
    parser.add_argument("--copy-max", type=int, default=1000, help="largest N at which the copy is timed too")
    args = parser.parse_args()
    print(f"{'batches':>8} {'build s':>9} {'read 1 s':>9} {'view kB':>9} {'batches MB':>11} {'copy s':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.batches:
            r = run(n, args.rows, Path(tmp), args.copy_max)
            print(
                f"{r['batches']:>8} {r['build_s']:>9.3f} {r['read_one_s']:>9.3f} {r['view_kB']:>9.1f} "
                f"{r['batch_files_MB']:>11.1f} {r['copy_s']:>8.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
