"""Benchmark (c) for the clean stage: peak RSS of ``clean_files`` at 1x and 10x data, streaming vs in memory.

Demo data (``simulate_release``, g/r/i files per CCD quadrant) kept in ``--workdir``: 1x = one
field, 2 CCDs x 4 quadrants, N sources; 10x as a DR grows (10x the files of the same size: 2 fields
x 10 CCDs) and 10x as bigger files (the same 2 CCDs with 10 N sources: memory then follows the
largest file, whose demo row group is the whole file). Each measurement runs ``clean_files`` on all files
in a fresh process and reports its VmHWM (peak RSS), once streaming and once on the in-memory
path (the previous implementation, which the streaming one falls back to when files overlap); the
script checks that both write identical rows, row groups and bytes.

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


def child(root: Path, output: Path, in_memory: bool) -> None:
    """Run clean_files once in this process and print JSON with time, counts and peak RSS."""
    import skysift.clean as clean

    if in_memory:
        clean._stream_order = lambda paths: None  # the fallback path = the previous implementation
    files = _files(root)
    t0 = time.perf_counter()
    stats = clean.clean_files(files, output)
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
    ap.add_argument("--child", nargs=3, metavar=("ROOT", "OUTPUT", "IN_MEMORY"), help=argparse.SUPPRESS)
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
        for in_memory in (False, True):
            out = args.workdir / f"clean_{name}_{'memory' if in_memory else 'stream'}.parquet"
            res = subprocess.run(
                [sys.executable, __file__, "--workdir", str(args.workdir), "--child", str(root), str(out),
                 "1" if in_memory else "0"],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            info = json.loads(res.stdout.strip().splitlines()[-1])
            rows.append({"scale": scale, "path": "in memory" if in_memory else "streaming", **info})
            print(json.dumps(rows[-1]), flush=True)
            outputs[in_memory] = out
        a, b = pq.ParquetFile(outputs[False]), pq.ParquetFile(outputs[True])
        same_groups = [a.metadata.row_group(i).num_rows for i in range(a.num_row_groups)] == [
            b.metadata.row_group(i).num_rows for i in range(b.num_row_groups)
        ]
        same_rows = a.read().equals(b.read())
        same_bytes = outputs[False].read_bytes() == outputs[True].read_bytes()
        print(
            f"{scale}: identical rows {same_rows}, row groups {same_groups}, bytes {same_bytes}", flush=True
        )
    print("| data | path | files | light curves | epochs | input MB | time s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['scale']} | {r['path']} | {r['files']} | {r['lightcurves_in']:,} | {r['epochs_in']:,} | {r['input_mb']} "
            f"| {r['seconds']} | {r['peak_rss_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
