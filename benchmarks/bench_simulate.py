"""Peak memory and wall time of the demo's simulator (rule simulate_survey) against the number of fields.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_simulate.py --fields 10 100 --objects-per-field 1500

:func:`skysift.simulate.simulate_release` of N fields (600, 601, ...; ``N x --objects-per-field`` sources, the
way ``bench_release.py`` sizes its runs) into a temporary directory, each N in a fresh process, so its peak RSS
(``ru_maxrss``) is that run's alone. Printed per N: DR files, light curves, peak RSS, wall; then the ratio of
the largest N's peak RSS to each smaller one (the release-scale target: at most 1.2 at 10x the fields).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time

FIRST_FIELD = 600


def one(fields: int, objects_per_field: int, realism: str) -> dict:
    """Simulate ``fields`` fields in this process; its figures."""
    from skysift.simulate import simulate_release

    with tempfile.TemporaryDirectory(prefix=f"sim{fields}-") as tmp:
        t0 = time.perf_counter()
        summary = simulate_release(
            tmp,
            fields=list(range(FIRST_FIELD, FIRST_FIELD + fields)),
            n_objects=objects_per_field * fields,
            realism=realism,
        )
        wall = time.perf_counter() - t0
    return {
        "fields": fields,
        "files": summary["n_files"],
        "lightcurves": summary["n_lightcurves"],
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "wall_s": wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--objects-per-field", type=int, default=1500)
    parser.add_argument("--realism", default="easy", help="demo.realism (easy or hard)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the child process: one N
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.objects_per_field, args.realism)))
        return 0
    rows = []
    print(f"demo.realism {args.realism}, {args.objects_per_field} sources a field")
    print(f"{'fields':>7} {'files':>7} {'light curves':>13} {'peak RSS MiB':>13} {'wall s':>8}")
    for n in args.fields:
        child = [sys.executable, __file__, "--one", str(n), "--objects-per-field", str(args.objects_per_field),
                 "--realism", args.realism]  # fmt: skip
        row = json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout)
        rows.append(row)
        print(
            f"{n:>7} {row['files']:>7} {row['lightcurves']:>13,} {row['rss_mib']:>13.0f} {row['wall_s']:>8.1f}"
        )
    largest = rows[-1]
    for row in rows[:-1]:
        print(
            f"peak RSS {largest['fields']} vs {row['fields']} fields: {largest['rss_mib'] / row['rss_mib']:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
