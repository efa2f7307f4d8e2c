"""Benchmark for the clean stage: peak RSS at 1x and 10x data of the clean stage and of the cleaned copy.

Demo data (``simulate_release``, g/r/i files per CCD quadrant) kept in ``--workdir``: 1x = one
field, 2 CCDs x 4 quadrants, N sources; 10x as a DR grows (10x the files of the same size: 2 fields
x 10 CCDs) and 10x as bigger files (the same 2 CCDs with 10 N sources: memory then follows the
largest file, whose demo row group is the whole file). Each measurement runs on all files in a fresh
process and reports its VmHWM (peak RSS): ``objects`` is the clean stage (``clean_objects``: the cuts as
the files are read, the objects table), ``copy`` the cleaned copy of ``clean.keep`` (``clean_files``,
streamed); the script checks that the copy's objects are the objects table.

Run:  python benchmarks/bench_clean.py --workdir /tmp/skysift-bench-clean [--sources 5000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def _vmhwm_mb() -> float:
    """Peak RSS (VmHWM) of this process in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _files(root: Path) -> list[Path]:
    """DR parquet files of the simulated field."""
    return sorted(root.glob("dr24/*/field*/*.parquet"))


def child(root: Path, output: Path, copy: bool) -> None:
    """Run the clean stage (or write the cleaned copy) once in this process; print JSON with time, counts, peak RSS."""
    from skysift.clean import clean_files, clean_objects

    files = _files(root)
    t0 = time.perf_counter()
    stats = (clean_files if copy else clean_objects)(files, output, {})
    print(
        json.dumps(
            {
                "files": len(files),
                "input_mb": round(sum(f.stat().st_size for f in files) / 1e6, 1),
                "lightcurves_in": stats.lightcurves_in,
                "epochs_in": stats.epochs_in,
                "seconds": round(time.perf_counter() - t0, 1),
                "peak_rss_mb": round(_vmhwm_mb(), 0),
            }
        )
    )


def main() -> None:
    """Simulate 1x and 10x, clean each streaming and in memory in fresh processes, print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--sources", type=int, default=5000, help="sources of the 1x data")
    ap.add_argument("--child", nargs=3, metavar=("ROOT", "OUTPUT", "COPY"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]), args.child[2] == "1")
        return
    import pyarrow.parquet as pq

    from skysift.simulate import simulate_release

    n = args.sources
    datasets = {  # name -> (directory, simulate_release arguments)
        "1x": ("x1", {"n_objects": n, "fields": [633], "ccds": (1, 2)}),
        "10x, 10x the files": ("x10files", {"n_objects": 10 * n, "fields": [633, 634], "ccds": range(1, 11)}),
        "10x, 10x bigger files": ("x10", {"n_objects": 10 * n, "fields": [633], "ccds": (1, 2)}),
    }
    rows = []
    for scale, (name, kwargs) in datasets.items():
        root = args.workdir / name
        if not _files(root):
            simulate_release(root, seed=7, **kwargs)
        outputs = {}
        for copy in (False, True):
            out = args.workdir / f"{name}.{'copy' if copy else 'objects'}.parquet"
            res = subprocess.run(
                [sys.executable, __file__, "--workdir", str(args.workdir), "--child", str(root), str(out),
                 "1" if copy else "0"],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            info = json.loads(res.stdout.strip().splitlines()[-1])
            rows.append({"scale": scale, "path": "copy" if copy else "objects", **info})
            print(json.dumps(rows[-1]), flush=True)
            outputs[copy] = out
        objects = pq.read_table(outputs[False])
        same = pq.read_table(outputs[True]).select(objects.column_names).equals(objects)
        print(f"{scale}: the copy's objects are the objects table: {same}", flush=True)
    print("| data | path | files | light curves | epochs | input MB | time s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['scale']} | {r['path']} | {r['files']} | {r['lightcurves_in']:,} | {r['epochs_in']:,} | {r['input_mb']} "
            f"| {r['seconds']} | {r['peak_rss_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
