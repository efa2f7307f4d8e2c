"""Small, hand-built inputs of the candidate stage (clean/raw DR files, features, scores, predictions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from conftest import make_dr_table
from skysift.candidates import ListSpec, select_candidates

EVIL = '<script>alert("x")</script> & <b>SN</b>'
N_SOURCES = 12
PERIODIC = 0  # source index with a 37-day sinusoid (folded in its plot)
TRANSIENT = 1  # source index with a rise-and-fall, no catalog match


def spec(select: str, **cuts) -> ListSpec:
    """A candidate-list spec (a ``candidates.lists`` entry); cuts not given are None (no cut, every row)."""
    return ListSpec(
        select=select, **{"classes": None, "top_n": None, "min_score": None, "min_probability": None, **cuts}
    )


def objectid(source: int, filterid: int) -> int:
    """DR-like objectid of a source in one band (same field, different quadrant digit per band)."""
    return 633_000_000_000_000 + filterid * 100_000_000 + source


def build(tmp_path: Path, seed: int = 5) -> dict:
    """Write clean and raw DR parquet files under tmp_path and return every table of the stage."""
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(58300, 59000, 120))
    raw_lcs, clean_lcs, rows = [], [], []
    for s in range(N_SOURCES):
        ra, dec = 150.0 + 0.01 * s, 30.0 + 0.005 * s
        for filterid in (1, 2):
            mag = np.full(t.size, 17.0 + 0.2 * s + (0.3 if filterid == 1 else 0.0))
            if s == PERIODIC:
                mag += 0.8 * np.sin(2 * np.pi * t / 37.0)
            if s == TRANSIENT:
                mag -= 2.5 * np.exp(-0.5 * ((t - 58600) / 15.0) ** 2)
            err = np.full(t.size, 0.03)
            mag = mag + rng.normal(0, 0.03, t.size)
            flags = np.zeros(t.size, dtype=int)
            flags[rng.choice(t.size, 4, replace=False)] = 32768
            flags[rng.choice(t.size, 2, replace=False)] = 2
            oid = objectid(s, filterid)
            raw_lcs.append(
                {
                    "objectid": oid,
                    "filterid": filterid,
                    "hmjd": t,
                    "mag": mag,
                    "magerr": err,
                    "catflags": flags,
                    "ra": ra,
                    "dec": dec,
                }
            )
            keep = flags != 32768
            clean_lcs.append(
                {
                    "objectid": oid,
                    "filterid": filterid,
                    "hmjd": t[keep],
                    "mag": mag[keep],
                    "magerr": err[keep],
                    "catflags": flags[keep],
                    "ra": ra,
                    "dec": dec,
                }
            )
            rows.append((oid, filterid, ra, dec, int(keep.sum()), t.size, s))
    clean = tmp_path / "clean" / "field000633.parquet"
    raw = tmp_path / "raw" / "ztf_000633_zr_c01_q1_dr24.parquet"
    for path, lcs in ((clean, clean_lcs), (raw, raw_lcs)):
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(make_dr_table(lcs, fieldid=633, rcid=3), path)
    manifest = tmp_path / "fetch" / "field000633.tsv"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(f"path\tmd5\n{raw}\t0\n")

    ids = np.array([r[0] for r in rows], dtype=np.int64)
    features = pd.DataFrame(
        {
            "objectid": ids,
            "filterid": np.array([r[1] for r in rows], dtype=np.int8),
            "fieldid": np.int16(633),
            "rcid": np.int8(3),
            "ra": [r[2] for r in rows],
            "dec": [r[3] for r in rows],
            "n_points": [r[4] for r in rows],
            "periodogram_period_0": [37.2 if r[6] == PERIODIC else 120.0 for r in rows],
            "periodogram_period_s_to_n_0": [25.0 if r[6] == PERIODIC else 3.0 for r in rows],
        }
    )
    score = np.array([0.9 if r[6] in (PERIODIC, TRANSIENT) else 0.4 + 0.01 * r[6] for r in rows])
    score = score + 0.001 * np.array([r[1] for r in rows])
    order = np.argsort(-score, kind="stable")
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(1, len(ids) + 1)
    scores = pd.DataFrame({"objectid": ids, "anomaly_score": score, "anomaly_rank": rank})
    classes = ["constant", "rrlyrae", "snia"]
    cls = ["rrlyrae" if r[6] == PERIODIC else "snia" if r[6] == TRANSIENT else "constant" for r in rows]
    prob = np.zeros((len(ids), 3))
    for i, c in enumerate(cls):
        prob[i] = 0.1
        prob[i, classes.index(c)] = 0.8
    predictions = pd.DataFrame({"objectid": ids, "predicted_class": cls, "max_probability": prob.max(axis=1)})
    for j, c in enumerate(classes):
        predictions[f"prob_{c}"] = prob[:, j]
    periodic_ids = [objectid(PERIODIC, 1), objectid(PERIODIC, 2)]
    xmatch = pd.DataFrame(
        {
            "objectid": [periodic_ids[0], periodic_ids[1], objectid(3, 2)],
            "catalog": ["vsx", "vsx", "simbad"],
            "match_name": [EVIL, EVIL, "TYC 1-2-3"],
            "match_type": ["RRAB", "RRAB", "Star"],
            "sep_arcsec": [0.3, 0.3, 0.5],
            "label": ["rrlyrae", "rrlyrae", "constant"],
        }
    )
    nepochs = pd.DataFrame({"objectid": ids, "nepochs": [r[5] for r in rows]})
    specs = {
        "anomalies": spec("anomalies", top_n=6),
        "unknown_transients": spec("unknown_transients", top_n=None, min_probability=0.5),
    }
    lists = {
        name: select_candidates(features, scores, predictions, xmatch, spec, name=name, nepochs_df=nepochs)
        for name, spec in specs.items()
    }
    return {
        "clean": [clean],
        "raw": [raw],
        "manifest": manifest,
        "features": features,
        "scores": scores,
        "predictions": predictions,
        "xmatch": xmatch,
        "nepochs": nepochs,
        "specs": specs,
        "lists": lists,
    }
