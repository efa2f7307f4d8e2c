"""Shared test helpers: small DR tables built in the tests (no downloaded data)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from skysift.layout import DR_SCHEMA


def make_dr_table(lightcurves: list[dict], fieldid: int = 633, rcid: int = 0) -> pa.Table:
    """A DR-schema table from dicts with objectid, filterid and per-epoch arrays (hmjd, mag, magerr, catflags)."""
    rows = {name: [] for name in DR_SCHEMA.names}
    for lc in lightcurves:
        n = len(lc["hmjd"])
        rows["objectid"].append(lc["objectid"])
        rows["filterid"].append(lc.get("filterid", 2))
        rows["fieldid"].append(fieldid)
        rows["rcid"].append(rcid)
        rows["objra"].append(lc.get("ra", 150.0))
        rows["objdec"].append(lc.get("dec", 30.0))
        rows["nepochs"].append(n)
        rows["hmjd"].append(list(map(float, lc["hmjd"])))
        rows["mag"].append(list(map(float, lc["mag"])))
        rows["magerr"].append(list(map(float, lc["magerr"])))
        rows["clrcoeff"].append(list(map(float, lc.get("clrcoeff", np.zeros(n)))))
        rows["catflags"].append(list(map(int, lc.get("catflags", np.zeros(n, dtype=int)))))
    return pa.table(rows, schema=DR_SCHEMA)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator so every test is reproducible."""
    return np.random.default_rng(12345)
