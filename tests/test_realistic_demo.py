"""The realistic demo variant (demo.realism: hard, docs/realistic_demo.md): class fractions, detection
limits, cadence, look-alikes and catalog completeness as documented, measured on a small simulated
release; and the easy demo unchanged by the variants."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from skysift.io import InputError
from skysift.simulate import (
    ALL_CLASSES,
    CLASSES,
    RARE_CLASSES,
    REALISTIC_CLASS_FRACTIONS,
    DemoSettings,
    load_truth,
    simulate_lightcurves,
    simulate_release,
)
from skysift.simulate.cadence import downtime, field_cadence, uneven_field_cadence, weather
from workflow_runner import ROOT, run_snakemake

N = 6000
LIMIT = 20.5  # demo.limiting_mag (r); g is 0.25 mag deeper at dark time


@pytest.fixture(scope="module")
def hard(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, pd.DataFrame]:
    """A 6000-source hard release (3 fields, 2 CCDs) with its light curves joined to the truth."""
    root = tmp_path_factory.mktemp("hard")
    summary = simulate_release(root, realism="hard", n_objects=N, seed=3)
    table = pa.concat_tables(
        [pq.read_table(p) for p in sorted((root / "dr24").glob("*/field*/ztf_*.parquet"))]
    )
    lcs = table.to_pandas().merge(load_truth(root), on="objectid", suffixes=("", "_truth"))
    good = [(np.asarray(f) & 32768) == 0 for f in lcs["catflags"]]
    lcs["n_good"] = [int(g.sum()) for g in good]
    lcs["median_mag"] = [
        np.median(np.asarray(m)[g]) if g.any() else np.nan for m, g in zip(lcs["mag"], good, strict=True)
    ]
    return root, summary, lcs


def test_class_fractions_and_rare_families(hard: tuple[Path, dict, pd.DataFrame]) -> None:
    """Rare families <= 0.5 % of the drawn and of the detected sources; the nominal mix as documented."""
    root, summary, lcs = hard
    assert sum(REALISTIC_CLASS_FRACTIONS.values()) == pytest.approx(1.0)
    assert sum(REALISTIC_CLASS_FRACTIONS[c] for c in RARE_CLASSES) <= 0.005
    sources = load_truth(root).drop_duplicates("source_id")
    detected = sources["class"].value_counts()
    assert summary["n_sources"] == N and set(summary["class_counts"]) == set(ALL_CLASSES)
    rare_drawn = sum(summary["class_counts"][c] for c in RARE_CLASSES)
    rare_detected = int(detected.reindex(list(RARE_CLASSES)).fillna(0).sum())
    assert rare_drawn / N <= 0.005 and 0.001 <= rare_detected / len(sources) <= 0.005
    assert (detected.reindex(list(RARE_CLASSES)).fillna(0) > 0).sum() >= 4, "several rare families"
    # faint sources go undetected: the truth holds fewer sources than were drawn, most losses constant stars
    assert 0.6 < len(sources) / N < 0.92
    assert detected["constant"] / summary["class_counts"]["constant"] < 0.9
    # the nominal population as documented (detected shares, %): look-alikes are common
    share = 100 * detected / len(sources)
    assert 80 < share["constant"] < 89
    for cls, lo in {
        "eclipsing_binary": 2.5,
        "agn": 1.5,
        "flare": 0.5,
        "snia": 0.6,
        "lpv": 1.0,
        "cv": 0.2,
    }.items():
        assert share[cls] > lo, cls
    # detected supernovae: a magnitude-limited, SN Ia-dominated mix like the Bright Transient Survey's
    sne = detected.reindex(["snia", "snii", "snibc"]).fillna(0)
    sne = sne / sne.sum()
    assert 0.6 < sne["snia"] < 0.85 and 0.12 < sne["snii"] < 0.35 and sne["snibc"] < 0.1, sne.to_dict()


def test_detection_limits_and_sparse_faint_light_curves(hard: tuple[Path, dict, pd.DataFrame]) -> None:
    """Detections only, down to the survey depth: most sources near the limit, many light curves sparse."""
    _, _, lcs = hard
    gr = lcs[lcs["filterid"].isin([1, 2])]
    mags = np.concatenate(gr["mag"].to_numpy())
    flags = np.concatenate(gr["catflags"].to_numpy())
    good = mags[flags == 0]
    assert np.percentile(good, 99.9) < LIMIT + 1.3, "nothing far below the 5-sigma limit"
    assert np.percentile(good, 99) > LIMIT - 0.2, "detections reach the limit"
    med = gr["median_mag"].dropna()
    assert np.mean(med > LIMIT - 1.0) > 0.6, "most light curves within 1 mag of the limit"
    assert np.mean(gr["n_good"] < 10) > 0.2, "many light curves below the default 10 epochs"
    assert np.mean(gr["n_good"] <= 3) > 0.1
    assert np.median(gr["n_good"]) < 80


def test_uneven_cadence() -> None:
    """Secondary-grid fields get fewer epochs, campaigns give several visits a night, single-band nights exist."""
    nights = 58288.0 + np.arange(int(2.5 * 365.25))
    rng = np.random.default_rng(1)
    clear = weather(rng, nights, 0.25) & ~downtime(rng, nights)
    lost = downtime(np.random.default_rng(2), nights)
    assert 5 <= lost.sum() <= 75, "1-3 blocks of 5-25 nights"
    r_nights, multi, single_band = {}, 0, []
    for field in (600, 601, 602, 633, 634, 700, 701, 702, 1633, 1721):
        cad = uneven_field_cadence(
            np.random.default_rng([9, field]), field, nights, clear, (0, 0), 0.45, 20.5, 0.3
        )
        night = np.floor(cad.t)
        r = night[cad.band == 1]
        g = night[cad.band == 0]
        r_nights[field] = np.unique(r).size
        multi += int(np.any(np.unique(r, return_counts=True)[1] >= 2))
        single_band.append(np.setxor1d(np.unique(r), np.unique(g)).size / np.union1d(r, g).size)
        gaps = np.diff(np.unique(r))
        assert 60 < gaps.max() < 200, "a season gap every year"
    assert 1 <= multi <= 9, "high-cadence campaigns in some fields only"
    assert np.median(single_band) > 0.2, "many nights in one band only"
    primary = np.median([r_nights[f] for f in (600, 601, 602, 633, 634, 700, 701, 702)])
    assert np.mean([r_nights[1633], r_nights[1721]]) < 0.7 * primary
    easy = field_cadence(np.random.default_rng([9, 633]), 633, nights, clear, (0, 0), 0.45, 20.5, 0.3)
    assert np.unique(np.floor(easy.t[easy.band == 1]), return_counts=True)[1].max() == 1


def test_fast_rare_transients_look_like_what_they_are() -> None:
    """FBOTs fade 0.05-0.45 mag/d in r after peak; most kilonovae are caught once or twice (sparse, like flares)."""
    settings = DemoSettings.from_config({**DemoSettings.default().__dict__, "realism": "hard"})
    lc = simulate_lightcurves({"fbot": 150, "kilonova": 150, "constant": 20}, settings, seed=4)
    rates = []
    for _, grp in lc[(lc["class"] == "fbot") & (lc["filterid"] == 2)].groupby("source_id"):
        t, m = grp["hmjd"].to_numpy(), grp["mag"].to_numpy()
        peak = np.argmin(m)
        after = (t > t[peak] + 0.5) & (t < t[peak] + 15)
        # events seen above their host: >= 2 epochs after the peak, the peak well above the baseline
        if after.sum() >= 2 and np.ptp(t[after]) > 1 and np.median(m) - m[peak] > 0.3:
            rates.append(np.polyfit(t[after], m[after], 1)[0])
    assert len(rates) >= 10
    assert 0.05 < np.median(rates) < 0.45
    kn = lc[(lc["class"] == "kilonova") & (lc["filterid"] == 2)].groupby("source_id").size()
    assert 20 < kn.size < 150, "many kilonovae are never detected"
    assert np.mean(kn <= 3) > 0.5


def test_catalogs_know_bright_sources_best(hard: tuple[Path, dict, pd.DataFrame]) -> None:
    """Hard variant: catalog labels fade out with magnitude, so labelled sources are brighter than the rest."""
    root, _, _ = hard
    src = load_truth(root).sort_values("filterid").drop_duplicates("source_id")
    from scipy.spatial import cKDTree

    def xyz(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        ra, dec = np.radians(ra), np.radians(dec)
        return np.column_stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])

    tree = cKDTree(xyz(src["ra"].to_numpy(), src["dec"].to_numpy()))
    known = np.zeros(len(src), bool)
    for name, dec_col in (("simbad", "dec"), ("vsx", "dec"), ("tns", "declination")):
        cat = pd.read_parquet(root / "catalogs" / f"{name}.parquet")
        chord, idx = tree.query(xyz(cat["ra"].to_numpy(), cat[dec_col].to_numpy()))
        known[idx[np.degrees(2 * np.arcsin(chord / 2)) * 3600 < 1.5]] = True
    var = src["class"].ne("constant").to_numpy()
    mag = src["mean_mag"].to_numpy()
    bright, faint = var & (mag < 17.5), var & (mag > 19.5)
    assert bright.sum() > 30 and faint.sum() > 30
    assert known[bright].mean() > 2.5 * known[faint].mean()


def test_realism_errors_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="demo.realism"):
        simulate_release(tmp_path / "a", n_objects=50, realism="medium")
    with pytest.raises(InputError, match=r"unknown class\(es\) \['fbot'\] for demo.realism 'easy'"):
        simulate_release(tmp_path / "b", n_objects=50, class_fractions={"fbot": 0.1})
    assert not any(tmp_path.iterdir())
    simulate_release(
        tmp_path / "c", n_objects=300, realism="hard", fields=[633], ccds=[1], class_fractions={"fbot": 0.1}
    )
    assert (load_truth(tmp_path / "c")["class"] == "fbot").any()


def _content_digest(root: Path) -> str:
    """A digest of every value of a release (DR files, truth, catalogs), independent of the parquet writer."""
    digest = hashlib.sha256()
    files = [
        *sorted(root.glob("dr24/*/field*/*.parquet")),
        root / "truth.parquet",
        *sorted(root.glob("catalogs/*.parquet")),
    ]
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        table = pq.read_table(path)
        for name in table.column_names:
            col = table[name].combine_chunks()
            if str(col.type).startswith("list"):
                digest.update(np.asarray(col.offsets).tobytes())
                col = col.flatten()
            values = col.to_numpy(zero_copy_only=False)
            digest.update(
                name.encode() + (values.astype(str) if values.dtype == object else values).tobytes()
            )
    return digest.hexdigest()


def test_easy_demo_unchanged_by_the_variants(tmp_path: Path) -> None:
    """The easy demo's values are those of the simulator before the realistic variant existed."""
    simulate_release(tmp_path, n_objects=400, seed=5, fields=[633, 1721], ccds=[1], quadrants=[1, 2])
    assert _content_digest(tmp_path) == "14666533aec902d4fcc588b16b026eb76837cccd7ddc0e02d94ce558a82fc569"
    assert set(load_truth(tmp_path)["class"]) <= set(CLASSES)


@pytest.mark.workflow
def test_workflow_simulates_the_hard_variant(tmp_path: Path) -> None:
    """demo.realism reaches simulate_survey through the workflow config (one real snakemake job)."""
    config = {"demo": {"realism": "hard", "seed": 2, "n_objects": 600, "fields": [633], "ccds": [1]}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    run_snakemake(tmp_path, "--cores", "1", "results/demo/truth.parquet")
    assert '"realism": "hard"' in (tmp_path / "logs" / "simulate_survey.log").read_text()
    truth = load_truth(tmp_path / "results" / "demo")
    assert truth.loc[truth["filterid"] == 2, "mean_mag"].median() > 19.8, "hard: most sources near the limit"
    assert (ROOT / "config" / "examples" / "realistic_demo.yaml").exists()
