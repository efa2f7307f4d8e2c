"""Precision/recall of cross-match labels against the demo truth classes.

    .venv/bin/python benchmarks/crossmatch_demo_quality.py [--n-objects 20000] [--seed 42] [--no-associate]

Simulates a demo release (the default config's size), cross-matches all its objects with the demo's
SIMBAD/VSX/TNS catalogs exactly as the workflow does (association, per-catalog radius, taxonomy, best
label per object by priority tns > vsx > simbad) and compares each object's label with its truth class.

precision = labelled objects whose label equals the truth class / labelled objects;
recall    = correctly labelled objects / objects whose truth class the taxonomy can express
(constant stars included: SIMBAD's "*" labels them). Reported overall and per class.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from skysift.classify.labels import labels_from_crossmatch
from skysift.crossmatch import CatalogSpec, crossmatch_objects, load_taxonomy, read_objects
from skysift.simulate import simulate_release
from skysift.sources import demo_catalog_specs


def main() -> None:
    """Simulate, cross-match, score."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-objects", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-associate", action="store_true", help="match every objectid on its own")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        simulate_release(root, seed=args.seed, n_objects=args.n_objects, fields=[633, 634, 1721])
        files = sorted((root / "dr24").rglob("ztf_*.parquet"))
        cols = ["objectid", "objra", "objdec", "fieldid", "filterid"]
        pq.write_table(
            pa.concat_tables([pq.read_table(f, columns=cols) for f in files]), root / "objects.parquet"
        )
        objects = read_objects(root / "objects.parquet")
        specs = [CatalogSpec.from_config(n, s) for n, s in demo_catalog_specs(root).items()]
        t0 = time.perf_counter()
        xmatch = crossmatch_objects(
            objects, specs, associate_radius_arcsec=None if args.no_associate else 1.0
        )
        elapsed = time.perf_counter() - t0
        truth = pd.read_parquet(root / "truth.parquet")[["objectid", "class"]].set_index("objectid")["class"]
    labels = labels_from_crossmatch(xmatch)
    expressible = {c for section in load_taxonomy().values() for c in section.values() if c}
    truth_lab = truth[truth.isin(expressible)]
    correct = labels.eq(truth.reindex(labels.index))
    print(f"{len(objects)} objects, {len(xmatch)} nearest matches, {len(labels)} labelled ({elapsed:.1f} s)")
    print(f"overall: precision {correct.mean():.4f}, recall {correct.sum() / len(truth_lab):.4f}")
    var = labels.index[truth.reindex(labels.index) != "constant"]
    n_var = int((truth_lab != "constant").sum())
    print(
        f"non-constant classes: precision {correct[labels != 'constant'].mean():.4f}, "
        f"recall {correct[var].sum() / n_var:.4f} ({n_var} objects)"
    )
    rows = []
    for cls in sorted(expressible):
        lab = labels[labels == cls]
        rows.append(
            {
                "class": cls,
                "n_true": int((truth_lab == cls).sum()),
                "n_labelled": len(lab),
                "precision": correct[lab.index].mean() if len(lab) else float("nan"),
                "recall": (correct & (truth.reindex(labels.index) == cls)).sum()
                / max(1, (truth_lab == cls).sum()),
            }
        )
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
