"""Tests of the demo survey simulator: layout, determinism, photometry, class physics, catalogs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from astropy.timeseries import LombScargle
from scipy.spatial import cKDTree

from skysift.config import ConfigError, default_config
from skysift.io import InputError
from skysift.layout import DR_SCHEMA, md5sum, parse_dr_path, read_checksums
from skysift.simulate import (
    CATALOG_TYPES,
    CLASSES,
    DEFAULT_CLASS_FRACTIONS,
    TRUTH_COLUMNS,
    DemoSettings,
    field_centre,
    load_truth,
    plot_examples,
    quadrant_centre,
    simulate_release,
)

N = 2000


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A default-mix 2k-source demo release."""
    root = tmp_path_factory.mktemp("demo")
    return root, simulate_release(root, n_objects=N, seed=42)


@pytest.fixture(scope="module")
def lcs(release: tuple[Path, dict]) -> pd.DataFrame:
    """All light curves of the release joined with their truth rows."""
    root, _ = release
    table = pa.concat_tables(
        [pq.read_table(p) for p in sorted((root / "dr24").glob("*/field*/ztf_*.parquet"))]
    )
    return table.to_pandas().merge(load_truth(root), on="objectid", suffixes=("", "_truth"))


def _arrays(row: pd.Series, good_only: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """hmjd, mag, magerr of one light curve (unflagged epochs only by default)."""
    t, m, e = (np.asarray(row[c], dtype=float) for c in ("hmjd", "mag", "magerr"))
    if good_only:
        ok = np.asarray(row["catflags"]) == 0
        t, m, e = t[ok], m[ok], e[ok]
    return t, m, e


def _sep_arcsec(ra1: np.ndarray, dec1: np.ndarray, ra2: np.ndarray, dec2: np.ndarray) -> np.ndarray:
    """Small-angle separation in arcsec."""
    dra = (np.mod(ra1 - ra2 + 180, 360) - 180) * np.cos(np.radians(dec2))
    return np.hypot(dra, dec1 - dec2) * 3600


def test_files_follow_layout_and_schema(release: tuple[Path, dict]) -> None:
    root, summary = release
    paths = sorted((root / "dr24").glob("*/field*/ztf_*.parquet"))
    assert len(paths) == summary["n_files"] > 0
    assert {p.relative_to(root / "dr24").as_posix() for p in paths} == set(summary["files"])
    bands = set()
    for p in paths:
        info = parse_dr_path(p)
        assert p.parent.name == f"field{info.fieldid:06d}" and p.parent.parent.name == str(
            info.fieldid // 1000
        )
        table = pq.read_table(p)
        assert table.schema.equals(DR_SCHEMA, check_metadata=False)
        assert set(table["fieldid"].to_numpy()) == {info.fieldid}
        assert set(table["filterid"].to_numpy()) == {info.filterid}
        assert set(table["rcid"].to_numpy()) == {info.rcid}
        oid = table["objectid"].to_numpy()
        assert np.all(np.diff(oid) > 0), f"{p.name}: rows not sorted by unique objectid"
        # ZTF DR objectid = field * 1e12 + filter * 1e11 + ccdid * 1e9 + qid * 1e8 + counter
        assert set(oid // 10**12) == {info.fieldid}
        assert set(oid // 10**11 % 10) == {info.filterid}
        assert set(oid // 10**9 % 100) == {info.ccdid}
        assert set(oid // 10**8 % 10) == {info.qid}
        bands.add(info.filterid)
    assert bands == {1, 2, 3}


def test_checksums_verify(release: tuple[Path, dict]) -> None:
    root, _ = release
    sums = read_checksums(root / "dr24" / "checksum.md5")
    on_disk = {
        p.relative_to(root / "dr24").as_posix() for p in (root / "dr24").glob("*/field*/ztf_*.parquet")
    }
    assert set(sums) == on_disk
    for rel, digest in sums.items():
        assert md5sum(root / "dr24" / rel) == digest, rel


def test_deterministic_and_seed_dependent(release: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = release
    simulate_release(tmp_path / "same", n_objects=N, seed=42)
    simulate_release(tmp_path / "other", n_objects=N, seed=43)
    first = (root / "dr24" / "checksum.md5").read_text()
    assert (tmp_path / "same" / "dr24" / "checksum.md5").read_text() == first
    assert (tmp_path / "same" / "truth.parquet").read_bytes() == (root / "truth.parquet").read_bytes()
    for name in ("simbad", "vsx", "tns"):
        assert (tmp_path / "same" / "catalogs" / f"{name}.parquet").read_bytes() == (
            root / "catalogs" / f"{name}.parquet"
        ).read_bytes()
    other = read_checksums(tmp_path / "other" / "dr24" / "checksum.md5")
    same_files = set(other) & set(read_checksums(root / "dr24" / "checksum.md5"))
    assert same_files, "a different seed should still simulate the same fields"
    assert all(other[f] != read_checksums(root / "dr24" / "checksum.md5")[f] for f in same_files)


def test_truth_table(release: tuple[Path, dict], lcs: pd.DataFrame) -> None:
    root, _ = release
    truth = load_truth(root)
    assert tuple(truth.columns) == TRUTH_COLUMNS
    assert truth["objectid"].is_unique
    assert set(truth["objectid"]) == set(lcs["objectid"])
    assert str(truth["objectid"].dtype) == "int64" and str(truth["source_id"].dtype) == "int64"
    assert str(truth["fieldid"].dtype) == "int16" and str(truth["rcid"].dtype) == "int8"
    assert str(truth["filterid"].dtype) == "int8"
    assert set(truth["class"]) <= set(CLASSES)
    # one objectid per filter per source; g and r objectids of a source are distinct ids sharing source_id
    per_src = truth.groupby("source_id")["filterid"]
    assert (per_src.agg(lambda s: s.is_unique)).all()
    both = per_src.agg(lambda s: {1, 2} <= set(s))
    assert both.mean() > 0.85
    # positions: objra/objdec (float32) close to the true position, inside the quadrant's patch
    sep = _sep_arcsec(
        lcs["objra"].to_numpy(float),
        lcs["objdec"].to_numpy(float),
        lcs["ra"].to_numpy(),
        lcs["dec"].to_numpy(),
    )
    assert np.percentile(sep, 99) < 0.5
    for (f, rcid), grp in truth.groupby(["fieldid", "rcid"]):
        ra_c, dec_c = quadrant_centre(int(f), rcid // 4 + 1, rcid % 4 + 1)
        assert np.all(np.abs(grp["dec"] - dec_c) < 0.45)
        assert np.all(
            _sep_arcsec(grp["ra"].to_numpy(), grp["dec"].to_numpy(), ra_c, grp["dec"].to_numpy())
            < 0.45 * 3600
        )


def test_lists_nepochs_and_time_order(lcs: pd.DataFrame) -> None:
    lengths = lcs[["hmjd", "mag", "magerr", "clrcoeff", "catflags"]].map(len)
    assert (lengths.nunique(axis=1) == 1).all()
    assert (lengths["hmjd"] == lcs["nepochs"]).all()
    n_dup = 0
    for t in lcs["hmjd"]:
        d = np.diff(np.asarray(t))
        assert np.all(d >= 0), "hmjd must be sorted within a light curve"
        n_dup += int(np.sum(d == 0))
    # injected duplicates (same hmjd twice): a few, but only a tiny fraction of light curves
    assert 1 <= n_dup <= 0.02 * len(lcs)
    frac = np.mod(np.concatenate(lcs["hmjd"].to_numpy()), 1.0)
    assert np.percentile(frac, 1) > 0.05 and np.percentile(frac, 99) < 0.65  # Palomar nights in UTC


def test_cadence_has_seasons_and_two_night_sampling(lcs: pd.DataFrame) -> None:
    for f in lcs["fieldid"].unique():
        r = lcs[(lcs["fieldid"] == f) & (lcs["filterid"] == 2)]
        epochs = np.unique(np.floor(np.concatenate(r["hmjd"].to_numpy())))
        gaps = np.diff(epochs)
        assert 1.5 <= np.median(gaps) <= 3.5
        assert 60 < gaps.max() < 170, "one season gap of ~3-4 months per year"
        assert epochs[-1] - epochs[0] > 2 * 365 - 200


def test_magerr_model_and_constant_scatter(lcs: pd.DataFrame) -> None:
    mag = np.concatenate(lcs["mag"].to_numpy())
    err = np.concatenate(lcs["magerr"].to_numpy())
    flags = np.concatenate(lcs["catflags"].to_numpy())
    ok = flags == 0
    bright = np.median(err[ok & (mag > 14) & (mag < 16)])
    faint = np.median(err[ok & (mag > 19.5)])
    assert 0.008 < bright < 0.03
    assert 0.08 < faint < 0.3
    assert faint > 4 * bright
    const = lcs[(lcs["class"] == "constant") & (lcs["mean_mag"] < 19)]
    chi2 = []
    for _, row in const.iterrows():
        _, m, e = _arrays(row)
        if m.size > 10:
            w = 1 / e**2
            mu = np.sum(w * m) / w.sum()
            chi2.append(np.sum(w * (m - mu) ** 2) / (m.size - 1))
    assert len(chi2) > 300
    assert 0.85 < np.median(chi2) < 1.2


def test_flagged_epochs_look_bad(lcs: pd.DataFrame) -> None:
    const = lcs[(lcs["class"] == "constant") & (lcs["mean_mag"] < 18)]
    dev_good, dev_bad = [], []
    for _, row in const.iterrows():
        m = np.asarray(row["mag"])
        fl = np.asarray(row["catflags"])
        med = np.median(m[fl == 0])
        dev_good.append(np.abs(m[fl == 0] - med))
        dev_bad.append(np.abs(m[fl != 0] - med))
    good, bad = np.concatenate(dev_good), np.concatenate(dev_bad)
    flags = np.concatenate(lcs["catflags"].to_numpy())
    assert 0.01 < np.mean(flags != 0) < 0.06
    assert np.mean((flags & 32768) != 0) > 0.005
    assert np.median(bad) > 3 * np.median(good)


def test_rrlyrae_periods_recoverable(lcs: pd.DataFrame) -> None:
    rr = lcs[(lcs["class"] == "rrlyrae") & (lcs["filterid"] == 2)]
    assert len(rr) >= 15
    ok = []
    for _, row in rr.iterrows():
        t, m, e = _arrays(row)
        freq, power = LombScargle(t, m, e).autopower(
            minimum_frequency=0.5, maximum_frequency=5, samples_per_peak=10, method="fast"
        )
        ok.append(abs(1 / freq[np.argmax(power)] - row["period"]) / row["period"] < 0.01)
    assert np.mean(ok) > 0.8


def test_snia_rise_and_decline(lcs: pd.DataFrame) -> None:
    sn = lcs[(lcs["class"] == "snia") & (lcs["filterid"] == 2)]
    checked, peak_ok, shape_ok = 0, 0, 0
    for _, row in sn.iterrows():
        t, m, _ = _arrays(row)
        t0 = row["t0"]
        if m.size < 6 or not (np.any(t < t0 - 5) and np.any(t > t0 + 15)):
            continue
        checked += 1
        peak_ok += abs(t[np.argmin(m)] - t0) < 10
        near = np.min(m[np.abs(t - t0) < 6]) if np.any(np.abs(t - t0) < 6) else np.inf
        shape_ok += np.mean(m[t < t0 - 5]) > near and np.mean(m[t > t0 + 15]) > near
        assert np.all(np.abs(t - t0) < 200), "host-less SN: no detections far from the event"
    assert checked >= 5
    assert peak_ok / checked > 0.8
    assert shape_ok / checked > 0.8
    g_minus_r = []
    for _, grp in lcs[lcs["class"] == "snia"].groupby("source_id"):
        if set(grp["filterid"]) >= {1, 2}:
            g, r = grp.set_index("filterid").loc[1], grp.set_index("filterid").loc[2]
            tg, mg, _ = _arrays(g)
            tr, mr, _ = _arrays(r)
            late_g, late_r = mg[tg > g["t0"] + 20], mr[tr > r["t0"] + 20]
            if late_g.size and late_r.size:
                g_minus_r.append(np.median(late_g) - np.median(late_r) - (g["mean_mag"] - r["mean_mag"]))
    assert len(g_minus_r) >= 3
    assert np.median(g_minus_r) > 0.2, "SNe Ia get redder after peak"


def test_kilonova_fades_fast(tmp_path: Path) -> None:
    simulate_release(
        tmp_path, n_objects=600, fields=(634,), ccds=(1,), class_fractions={"kilonova": 0.1}, seed=7
    )
    truth = load_truth(tmp_path)
    table = pa.concat_tables([pq.read_table(p) for p in (tmp_path / "dr24").glob("*/field*/*.parquet")])
    lc = table.to_pandas().merge(truth, on="objectid")
    rates = []
    for _, row in lc[lc["class"] == "kilonova"].iterrows():
        t, m, _ = _arrays(row)
        if t.size >= 2 and t[-1] - t[0] > 0.5:
            rates.append((m[-1] - m[0]) / (t[-1] - t[0]))
        assert t.size == 0 or t[-1] - t[0] < 8, "kilonovae are only detectable for days"
    assert len(rates) >= 5
    assert np.mean(np.array(rates) > 0.3) > 0.9


def test_class_fractions(release: tuple[Path, dict], tmp_path: Path) -> None:
    root, summary = release
    truth = load_truth(root)
    counts = truth.drop_duplicates("source_id")["class"].value_counts()
    for cls, frac in DEFAULT_CLASS_FRACTIONS.items():
        expected = frac * N
        assert abs(counts.get(cls, 0) - expected) <= max(2, 0.1 * expected), cls
    assert sum(summary["class_counts"].values()) == N
    assert summary["class_counts_detected"] == {c: int(counts.get(c, 0)) for c in CLASSES}
    simulate_release(
        tmp_path, n_objects=500, fields=(633,), ccds=(1,), class_fractions={"snia": 0.2, "agn": 0.1}
    )
    other = load_truth(tmp_path).drop_duplicates("source_id")["class"].value_counts()
    assert abs(other["snia"] - 100) <= 8 and abs(other["agn"] - 50) <= 5
    assert other["constant"] < 0.75 * 500
    with pytest.raises(InputError, match="unknown class"):
        simulate_release(tmp_path / "bad", n_objects=50, class_fractions={"unicorn": 0.1})


def _match(cat: pd.DataFrame, dec_col: str, truth_src: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Nearest truth source (index) and separation (arcsec) of each catalog row."""

    def xyz(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        """Unit vectors of positions in degrees."""
        ra, dec = np.radians(ra), np.radians(dec)
        return np.column_stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])

    tree = cKDTree(xyz(truth_src["ra"].to_numpy(), truth_src["dec"].to_numpy()))
    chord, idx = tree.query(xyz(cat["ra"].to_numpy(), cat[dec_col].to_numpy()))
    return idx, np.degrees(2 * np.arcsin(chord / 2)) * 3600


def test_catalogs_label_sources(release: tuple[Path, dict]) -> None:
    root, summary = release
    src = load_truth(root).drop_duplicates("source_id").reset_index(drop=True)
    columns = {
        "simbad": ["main_id", "ra", "dec", "otype"],
        "vsx": ["name", "ra", "dec", "vtype", "period"],
        "tns": ["name", "name_prefix", "ra", "declination", "type", "redshift", "discoverydate"],
    }
    families = {  # loose type -> truth-class consistency, for the 'mostly right' check
        "simbad": {"*": {"constant", "artefact", "microlensing", "flare"}, "RR*": {"rrlyrae"}, "EB*": {"eclipsing_binary"},
                   "QSO": {"agn"}, "SN*": {"snia", "snii", "snibc", "slsn", "tde"}, "dS*": {"delta_scuti"}},
        "vsx": {"RRAB": {"rrlyrae"}, "RRC": {"rrlyrae"}, "EA": {"eclipsing_binary"}, "EW": {"eclipsing_binary"},
                "DCEP": {"cepheid"}, "M": {"lpv"}},
        "tns": {"SN Ia": {"snia"}, "SN II": {"snii"}, "TDE": {"tde"}},
    }  # fmt: skip
    for name, cols in columns.items():
        cat = pd.read_parquet(root / "catalogs" / f"{name}.parquet")
        assert list(cat.columns) == cols
        assert len(cat) == summary["catalog_rows"][name] > 0
        dec_col = "declination" if name == "tns" else "dec"
        type_col = {"simbad": "otype", "vsx": "vtype", "tns": "type"}[name]
        assert set(cat[type_col].str.rstrip(":")) <= set(CATALOG_TYPES[name])
        idx, sep = _match(cat, dec_col, src)
        matched = sep < 1.5
        assert 0.6 < matched.mean() < 0.97, f"{name}: most rows label survey sources, some are unrelated"
        assert 0.15 < np.median(sep[matched]) < 0.6, f"{name}: ~0.3 arcsec scatter per axis"
        assert not pd.Series(idx[matched]).duplicated().any(), f"{name}: one row per sky source"
        fam = families[name]
        rows = [
            (t, c)
            for t, c in zip(cat[type_col][matched], src["class"].to_numpy()[idx[matched]], strict=True)
            if t in fam
        ]
        assert len(rows) >= 5
        assert np.mean([c in fam[t] for t, c in rows]) > 0.85, name
    vsx = pd.read_parquet(root / "catalogs" / "vsx.parquet")
    idx, sep = _match(vsx, "dec", src)
    rr = (
        (sep < 1.5)
        & vsx["vtype"].isin(["RRAB", "RRC"]).to_numpy()
        & (src["class"].to_numpy()[idx] == "rrlyrae")
    )
    rel = np.abs(vsx["period"].to_numpy()[rr] / src["period"].to_numpy()[idx[rr]] - 1)
    assert rr.sum() >= 5 and np.median(rel) < 0.003
    tns = pd.read_parquet(root / "catalogs" / "tns.parquet")
    assert set(tns["name_prefix"]) <= {"SN", "AT"}
    assert ((tns["type"] == "") == (tns["name_prefix"] == "AT")).mean() > 0.6
    assert tns["name"].is_unique and tns["name"].str.fullmatch(r"20\d\d[a-z]{3,4}").all()
    pd.to_datetime(tns["discoverydate"], format="%Y-%m-%d %H:%M:%S.%f")


def test_field_centres_are_stable_and_distinct() -> None:
    centres = {f: field_centre(f) for f in (1, 633, 634, 1721)}
    assert centres[633] == field_centre(633)
    assert len(set(centres.values())) == 4
    assert all(0 <= ra < 360 and -90 < dec < 90 for ra, dec in centres.values())
    with pytest.raises(InputError):
        field_centre(0)


def test_plot_examples_writes_png(release: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = release
    out = plot_examples(root, tmp_path / "examples.png", per_class=1, classes=["rrlyrae", "snia", "cv"])
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dr": "24"}, "dr"),
        ({"seed": -1}, "seed"),
        ({"fields": (0,)}, "fields"),
        ({"ccds": (17,)}, "ccds"),
        ({"quadrants": (1, 1)}, "quadrants"),
        ({"n_years": 0}, "n_years"),
        ({"weather_loss": 1.5}, "weather_loss"),
    ],
)
def test_rejects_bad_arguments(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        simulate_release(tmp_path, n_objects=20, **kwargs)
    assert not any(tmp_path.iterdir()), "nothing is written for invalid arguments"


def test_settings_come_from_the_schema_and_overrides_replace_fields(tmp_path: Path) -> None:
    default = DemoSettings.default()
    assert default == DemoSettings.from_config(default_config()["demo"])
    assert default.n_objects == 20000 and default.fields == [633, 634, 1721]
    small = {"n_objects": 40, "fields": [633], "ccds": [1], "quadrants": [1], "seed": 5}
    settings = DemoSettings.from_config({**default_config()["demo"], **small})
    simulate_release(tmp_path / "a", settings)
    simulate_release(tmp_path / "b", seed=5, **{k: v for k, v in small.items() if k != "seed"})
    assert (tmp_path / "a/dr24/checksum.md5").read_text() == (tmp_path / "b/dr24/checksum.md5").read_text()
    with pytest.raises(TypeError, match=r"unknown parameter\(s\) \['n_object'\]"):
        simulate_release(tmp_path / "c", n_object=5)
    section = default_config()["demo"]
    del section["seed"]
    with pytest.raises(ConfigError, match="missing key.*demo.seed"):
        DemoSettings.from_config(section)
