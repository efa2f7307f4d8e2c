"""Property-based tests (hypothesis) of the quality cuts and the feature extraction on hostile light curves.

Random DR tables with NaN/inf values, zero or negative errors, duplicate and unsorted epochs, flagged
epochs, empty light curves and single points: the cuts never crash, every epoch is accounted for
(epochs in = epochs out + counted drops), and what they keep is clean; the extraction never crashes and
gives one row per light curve, with NaN features for what it cannot use. Through the public APIs
(``skysift.lightcurves.clean_table``, ``skysift.features.extract_table``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skysift.features import extract_table
from skysift.layout import DR_SCHEMA
from skysift.lightcurves import CleanConfig, CleanStats, clean_table

SPECIAL = [np.nan, np.inf, -np.inf]
TIMES = st.one_of(
    st.floats(58000, 58000.02, allow_nan=False),  # many epochs within the duplicate tolerance
    st.sampled_from([58001.0, 58001.0 + 5e-7, 58002.5]),  # exact and near duplicates
    st.floats(58000, 60000, allow_nan=False),
    st.sampled_from(SPECIAL),
)
MAGS = st.one_of(st.floats(10, 23, allow_nan=False), st.sampled_from([*SPECIAL, 0.0, -1.0, 99.0]))
ERRORS = st.one_of(st.floats(0.001, 0.5, allow_nan=False), st.sampled_from([*SPECIAL, 0.0, -0.1, 5.0]))
FLAGS = st.sampled_from([0, 0, 0, 1, 32768, 32768 | 4, 65535])


@st.composite
def light_curve(draw, objectid: int) -> dict:
    """One light curve of 0..30 epochs, in any order."""
    n = draw(st.integers(0, 30))
    epochs = draw(st.lists(st.tuples(TIMES, MAGS, ERRORS, FLAGS), min_size=n, max_size=n))
    hmjd, mag, magerr, flags = (list(c) for c in zip(*epochs, strict=True)) if epochs else ([], [], [], [])
    return {"objectid": objectid, "filterid": draw(st.sampled_from([1, 2, 3])), "hmjd": hmjd, "mag": mag,
            "magerr": magerr, "catflags": flags}  # fmt: skip


@st.composite
def dr_table(draw) -> pa.Table:
    """A DR-schema table of 0..6 light curves."""
    n = draw(st.integers(0, 6))
    lcs = [draw(light_curve(objectid=1000 + i)) for i in range(n)]
    columns = {
        "objectid": [lc["objectid"] for lc in lcs],
        "filterid": [lc["filterid"] for lc in lcs],
        "fieldid": [633] * n,
        "rcid": [0] * n,
        "objra": [150.0] * n,
        "objdec": [30.0] * n,
        "nepochs": [len(lc["hmjd"]) for lc in lcs],
        "hmjd": [lc["hmjd"] for lc in lcs],
        "mag": [lc["mag"] for lc in lcs],
        "magerr": [lc["magerr"] for lc in lcs],
        "clrcoeff": [[0.0] * len(lc["hmjd"]) for lc in lcs],
        "catflags": [lc["catflags"] for lc in lcs],
    }
    return pa.table(columns, schema=DR_SCHEMA)


CUTS = st.builds(
    CleanConfig,
    bad_catflags_mask=st.sampled_from([0, 32768, 65535]),
    max_magerr=st.sampled_from([0.2, 1.0]),
    min_mag=st.sampled_from([-np.inf, 12.0]),
    max_mag=st.sampled_from([np.inf, 21.0]),
    min_epochs=st.sampled_from([1, 2, 5]),  # the schema: >= 1
)
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _epochs(table: pa.Table) -> int:
    return int(pa.compute.sum(pa.compute.list_value_length(table.column("hmjd"))).as_py() or 0)


@FUZZ
@given(table=dr_table(), cuts=CUTS)
def test_cuts_account_for_every_epoch_and_keep_only_clean_ones(table, cuts):
    stats = CleanStats()
    out = clean_table(table, cuts, stats)
    stats.check_balance()  # epochs in = epochs out + every counted drop (raises otherwise)
    assert stats.epochs_in == _epochs(table) and stats.epochs_out == _epochs(out)
    assert stats.lightcurves_in == table.num_rows and stats.lightcurves_out == out.num_rows
    assert out.schema.equals(DR_SCHEMA)
    assert set(out.column("objectid").to_pylist()) <= set(table.column("objectid").to_pylist())
    for row in out.to_pylist():
        t = np.asarray(row["hmjd"], dtype=np.float64)
        m, e = (np.asarray(row[k], dtype=np.float32) for k in ("mag", "magerr"))  # as stored: float32
        assert row["nepochs"] == len(t) >= cuts.min_epochs
        assert np.all(np.isfinite(t) & np.isfinite(m) & np.isfinite(e))
        assert np.all(np.diff(t) > cuts.duplicate_tolerance_days)  # sorted, no duplicate epochs
        assert np.all((e > 0) & (e <= cuts.max_magerr) & (m >= cuts.min_mag) & (m <= cuts.max_mag))
        assert not np.any(np.asarray(row["catflags"]) & cuts.bad_catflags_mask)
    again = CleanStats()
    assert clean_table(out, cuts, again).equals(out) and again.epochs_out == stats.epochs_out  # idempotent


@FUZZ
@given(table=dr_table(), min_points=st.sampled_from([1, 2, 5, 10]))
def test_extraction_never_crashes_and_keeps_one_row_per_light_curve(table, min_points):
    features = extract_table(table, "cheap", min_points=min_points)
    assert features.column("objectid").to_pylist() == table.column("objectid").to_pylist()
    lengths = [len(h) for h in table.column("hmjd").to_pylist()]
    assert features.column("n_points").to_pylist() == lengths
    names = [c for c in features.column_names if c not in ("objectid", "filterid", "fieldid", "rcid", "ra",
                                                            "dec", "n_points")]  # fmt: skip
    for i, row in enumerate(table.to_pylist()):
        t, m, e = (np.asarray(row[k], dtype=float) for k in ("hmjd", "mag", "magerr"))
        usable = len(t) >= min_points and np.all(np.isfinite(t) & np.isfinite(m) & np.isfinite(e))
        usable = usable and np.all(np.diff(t) > 0)
        values = np.array([features.column(n)[i].as_py() for n in names], dtype=float)
        if not usable:  # too short, non-finite or not time-ordered: NaN, never garbage
            assert np.all(np.isnan(values)), (row, dict(zip(names, values, strict=True)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=dr_table())
def test_clean_then_default_features_never_crash(table):
    """The stage order: cuts, then the default feature set with its periodogram."""
    cleaned = clean_table(table, CleanConfig.from_config({"min_epochs": 1}))
    features = extract_table(cleaned, "default", min_points=1)
    assert features.num_rows == cleaned.num_rows
    assert features.column("objectid").to_pylist() == cleaned.column("objectid").to_pylist()


@pytest.mark.parametrize("n", [0, 1])
def test_empty_and_one_point_tables(n):
    lc = {"objectid": 7, "filterid": 1, "hmjd": [58000.0] * n, "mag": [18.0] * n, "magerr": [0.1] * n,
          "catflags": [0] * n}  # fmt: skip
    table = pa.table({**{k: [lc.get(k, v)] for k, v in
                         {"fieldid": 633, "rcid": 0, "objra": 1.0, "objdec": 2.0, "nepochs": n,
                          "clrcoeff": [0.0] * n}.items()},
                      **{k: [lc[k]] for k in ("objectid", "filterid", "hmjd", "mag", "magerr", "catflags")}},
                     ).select(DR_SCHEMA.names).cast(DR_SCHEMA)  # fmt: skip
    stats = CleanStats()
    out = clean_table(table, CleanConfig.from_config({"min_epochs": 1}), stats)
    stats.check_balance()
    assert out.num_rows == n and stats.lightcurves_too_few_epochs == 1 - n
    assert extract_table(out, "default", min_points=1).num_rows == n
    assert clean_table(table.slice(0, 0), CleanConfig.from_config({}), CleanStats()).num_rows == 0
    assert extract_table(table.slice(0, 0), "default").num_rows == 0
