"""Catalogs (SIMBAD, VSX, TNS) as they would label the demo survey's sky sources."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from skysift.io import write_parquet
from skysift.simulate.catalog_rules import (
    CATALOG_TYPES,
    SIMBAD_EXTRA,
    SIMBAD_RULES,
    TNS_EXTRA,
    TNS_RULES,
    TNS_SN,
    VSX_PERIODIC,
    VSX_RULES,
    Options,
)
from skysift.simulate.geometry import QUAD_HALF, field_centre, quadrant_centre
from skysift.simulate.models import SampleContext
from skysift.simulate.names import gaia_ids, gaia_numbers, gcvs_names, iso_dates, jnames, tns_names

__all__ = ["write_catalogs"]

log = logging.getLogger(__name__)


def _choose(rng: np.random.Generator, options: Options, n: int) -> np.ndarray:
    """n draws from weighted (value, weight) options."""
    names = np.array([o[0] for o in options], dtype=object)
    w = np.array([o[1] for o in options], dtype=float)
    return names[rng.choice(len(names), n, p=w / w.sum())]


def _label(
    rng: np.random.Generator,
    table: dict[str, tuple[float, dict[str, Options]]],
    src: Mapping[str, np.ndarray],
    known_override: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Which sources a catalog knows and the type it gives them (vectorised per class and subclass)."""
    n = src["class"].size
    known = np.zeros(n, bool)
    types = np.full(n, "", dtype=object)
    u = rng.random(n)
    subs = src["subclass"]
    for cls, (p_known, opts) in table.items():
        rows = src["class"] == cls
        p = known_override[rows] if (known_override is not None and cls == "constant") else p_known
        known[rows] = u[rows] < p
        for sub, o in opts.items():
            sel = rows & ((subs == sub) if sub != "*" else np.ones(n, bool))
            if sub == "*":
                sel &= ~np.isin(subs, [s for s in opts if s != "*"])
            types[sel] = _choose(rng, o, int(sel.sum()))
    return known, types


def _mistype(
    rng: np.random.Generator, types: np.ndarray, vocab: list[str], fraction: float = 0.05
) -> np.ndarray:
    """Replace ~``fraction`` of the types by another type of the catalog's vocabulary."""
    types = types.copy()
    wrong = np.flatnonzero(rng.random(types.size) < fraction)
    for i, j in zip(wrong, rng.integers(0, len(vocab) - 1, wrong.size), strict=True):
        others = [v for v in vocab if v != types[i]]
        types[i] = others[j % len(others)]
    return types


def _scatter(
    rng: np.random.Generator, ra: np.ndarray, dec: np.ndarray, arcsec: float
) -> tuple[np.ndarray, np.ndarray]:
    """Positions with Gaussian errors of ``arcsec`` per axis."""
    d = dec + rng.normal(0, arcsec / 3600, dec.size)
    r = np.mod(ra + rng.normal(0, arcsec / 3600, ra.size) / np.cos(np.radians(dec)), 360.0)
    return r, d


def _random_positions(
    rng: np.random.Generator, n: int, quads: list[tuple[int, int, int]], inside: float
) -> tuple[np.ndarray, np.ndarray]:
    """Unrelated sky positions: a fraction ``inside`` within the simulated quadrants, the rest 4-10 deg away."""
    k = rng.integers(0, len(quads), n)
    centres = np.array([quadrant_centre(*q) for q in quads])
    fcent = np.array([field_centre(q[0]) for q in quads])
    ins = rng.random(n) < inside
    dec_in = centres[k, 1] + rng.uniform(-QUAD_HALF, QUAD_HALF, n)
    ra_in = centres[k, 0] + rng.uniform(-QUAD_HALF, QUAD_HALF, n) / np.cos(np.radians(dec_in))
    ang = rng.uniform(0, 2 * np.pi, n)
    rad = rng.uniform(4.0, 10.0, n)
    dec_out = np.clip(fcent[k, 1] + rad * np.sin(ang), -89.0, 89.0)
    ra_out = fcent[k, 0] + rad * np.cos(ang) / np.cos(np.radians(dec_out))
    return np.mod(np.where(ins, ra_in, ra_out), 360.0), np.where(ins, dec_in, dec_out)


def _is_sn_type(types: np.ndarray) -> np.ndarray:
    """TNS types that earn the 'SN' name prefix (spectroscopically classified supernovae)."""
    t = np.asarray(types, dtype=str)
    return np.char.startswith(t, "SN") | np.char.startswith(t, "SLSN")


def _vsx_names(ra: np.ndarray, dec: np.ndarray, u: np.ndarray, gcvs_number: np.ndarray) -> np.ndarray:
    """VSX names by the uniform draw ``u``: ZTF J (45 %), ASASSN-V J (25 %), ATO J or, above 0.88, GCVS."""
    jn = jnames(ra, dec)
    names = np.array(
        [
            "ZTF J" + j if x < 0.45 else "ASASSN-V J" + j if x < 0.7 else f"ATO J{r:08.4f}{d:+08.4f}"
            for j, x, r, d in zip(jn, u, ra, dec, strict=True)
        ],
        dtype=object,
    )
    gc = u > 0.88
    names[gc] = gcvs_names(ra[gc], gcvs_number[gc])
    return names


def _completeness(mag: np.ndarray, m50: float, width: float = 0.4) -> np.ndarray:
    """Chance that a catalog knows (or classifies) a source of magnitude ``mag``: 1/2 at ``m50``."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.nan_to_num(1.0 / (1.0 + np.exp((mag - m50) / width)), nan=0.0)


def write_catalogs(
    out_dir: Path,
    src: Mapping[str, np.ndarray],
    rng: np.random.Generator,
    quads: list[tuple[int, int, int]],
    ctx: SampleContext,
    scatter: float,
    *,
    completeness: bool = False,
) -> dict[str, int]:
    """Write simbad/vsx/tns parquet catalogs for the sky sources ``src``; return rows per catalog.

    ``src`` holds one array per source: class, subclass, ra, dec, period, redshift, mean_r and
    first_detection. Names are formatted only for the sources a catalog lists (the random draws stay those
    of every source), so that memory stays a few numbers per source.

    ``completeness`` (the hard variant): catalogs know faint sources less often, as real ones do.
    SIMBAD and VSX entries fade out around mean r 19 and 18.5, TNS reports around peak r 20 and TNS
    classifications around peak r 19 (a spectrum is needed), so labels favour bright sources.
    """
    cls, ra, dec = src["class"], src["ra"], src["dec"]
    n = cls.size
    detected = np.isfinite(src["first_detection"])
    mean_r = src["mean_r"]

    # TNS first, so SIMBAD can reuse the TNS names of the supernovae it knows
    t_known, t_type = _label(rng, TNS_RULES, src)
    t_known &= detected
    if completeness:
        t_known &= rng.random(n) < _completeness(mean_r, 20.0)
        t_type = np.where(rng.random(n) < _completeness(mean_r, 19.0), t_type, "")
    sn_like = np.isin(cls, list(TNS_SN))
    unclassified = sn_like & (rng.random(n) < 0.3)
    t_type = np.where(unclassified, "", t_type)
    kn = np.flatnonzero(t_known & (cls == "kilonova"))
    if kn.size >= 2:
        t_type[kn[0]] = "Kilonova"
    t_type = np.where(
        t_known & (rng.random(n) < 0.05) & sn_like & (t_type != ""),
        _mistype(rng, t_type, ["SN Ia", "SN II", "SN Ic", "SN Ib"], 1.0),
        t_type,
    )
    disc = src["first_detection"] + rng.uniform(-2.0, 3.0, n)
    idx = np.flatnonzero(t_known)
    names_t, _ = tns_names(rng, disc[idx]) if idx.size else ([], None)
    tns_name = np.full(n, "", dtype=object)
    tns_name[idx] = names_t
    z = src["redshift"]
    has_z = (t_type != "") & sn_like & (rng.random(n) < np.where(cls == "tde", 0.9, 0.7))
    t_ra, t_dec = _scatter(rng, ra, dec, scatter * 1.3)
    tns = pd.DataFrame(
        {
            "name": tns_name[idx],
            "name_prefix": np.where(_is_sn_type(t_type[idx]), "SN", "AT")
            if idx.size
            else np.array([], dtype=str),
            "ra": t_ra[idx],
            "declination": t_dec[idx],
            "type": t_type[idx],
            "redshift": np.where(has_z, z + rng.normal(0, 0.001, n), np.nan)[idx],
            "discoverydate": iso_dates(disc[idx]),
        }
    )
    n_x = int(round(0.3 * len(tns))) + 5
    x_ra, x_dec = _random_positions(rng, n_x, quads, inside=0.7)
    x_disc = rng.uniform(ctx.start, ctx.end, n_x)
    x_type = _choose(rng, TNS_EXTRA, n_x)
    x_names, _ = tns_names(np.random.default_rng(rng.integers(2**32)), x_disc)
    x_names = [nm if nm not in set(names_t) else nm + "a" for nm in x_names]
    tns_x = pd.DataFrame(
        {
            "name": x_names,
            "name_prefix": np.where(_is_sn_type(x_type), "SN", "AT"),
            "ra": x_ra,
            "declination": x_dec,
            "type": x_type,
            "redshift": np.where(
                (x_type != "") & (rng.random(n_x) < 0.6), rng.uniform(0.01, 0.15, n_x), np.nan
            ),
            "discoverydate": iso_dates(x_disc),
        }
    )
    tns = pd.concat([tns, tns_x], ignore_index=True)

    # SIMBAD
    p_star = np.where(mean_r < 17, 0.45, np.where(mean_r < 19, 0.15, 0.05))
    s_known, s_type = _label(rng, SIMBAD_RULES, src, known_override=p_star)
    if completeness:
        s_known &= (cls == "constant") | (rng.random(n) < _completeness(mean_r, 19.0))
    s_type = _mistype(rng, s_type, CATALOG_TYPES["simbad"], 0.05)
    gaia = gaia_numbers(rng, n)
    ids = np.empty(n, dtype=object)  # None: the source's Gaia designation
    var_like = np.isin(
        s_type, ["V*", "RR*", "cC*", "Ce*", "WV*", "EB*", "dS*", "Mi*", "LP*", "CV*", "Pu*", "AB*"]
    )
    gcvs = var_like & (rng.random(n) < 0.5)
    ids[gcvs] = ["V* " + s for s in gcvs_names(ra[gcvs], 400 + np.arange(np.count_nonzero(gcvs)))]
    extragal = np.isin(s_type, ["QSO", "AGN", "Bla", "Sy1", "G"])
    ids[extragal] = ["SDSS J" + s for s in jnames(ra[extragal], dec[extragal])]
    young = np.isin(s_type, ["Y*O", "TT*", "Or*"])
    ids[young] = ["2MASS J" + s for s in jnames(ra[young], dec[young], 2, 1, dots=False)]
    sn = np.isin(s_type, ["SN*", "ev"])
    sn_names = np.where(tns_name != "", tns_name, "")
    fallback = np.flatnonzero(sn & (sn_names == ""))
    if fallback.size:
        fb, _ = tns_names(
            np.random.default_rng(rng.integers(2**32)),
            np.nan_to_num(src["first_detection"][fallback], posinf=ctx.start),
        )
        sn_names[fallback] = [f"{nm}x" for nm in fb]
    ids[sn] = [("SN " if t == "SN*" else "AT ") + nm for t, nm in zip(s_type[sn], sn_names[sn], strict=True)]
    lens = s_type == "Lev"
    ids[lens] = [
        f"Gaia{19 + i % 3}{chr(97 + i % 26)}{chr(97 + (i // 26) % 26)}{chr(97 + (i // 676) % 26)}"
        for i in range(int(lens.sum()))
    ]
    s_ra, s_dec = _scatter(rng, ra, dec, scatter)
    idx = np.flatnonzero(s_known)
    main_id = np.array(
        [f"Gaia DR3 {g}" if i is None else i for i, g in zip(ids[idx], gaia[idx], strict=True)], dtype=object
    )
    simbad = pd.DataFrame({"main_id": main_id, "ra": s_ra[idx], "dec": s_dec[idx], "otype": s_type[idx]})
    n_x = int(round(0.15 * len(simbad))) + 10
    x_ra, x_dec = _random_positions(rng, n_x, quads, inside=0.6)
    x_type = _choose(rng, SIMBAD_EXTRA, n_x)
    x_ids = np.array(gaia_ids(rng, n_x), dtype=object)
    gal = x_type == "G"
    x_ids[gal] = [f"LEDA {v}" for v in rng.integers(10**5, 5 * 10**6, int(gal.sum()))]
    simbad = pd.concat(
        [simbad, pd.DataFrame({"main_id": x_ids, "ra": x_ra, "dec": x_dec, "otype": x_type})],
        ignore_index=True,
    )

    # VSX
    v_known, v_type = _label(rng, VSX_RULES, src)
    if completeness:
        v_known &= rng.random(n) < _completeness(mean_r, 18.5)
    v_type = _mistype(rng, v_type, CATALOG_TYPES["vsx"], 0.05)
    period = src["period"]
    sub = src["subclass"]
    v_period = np.where(np.isin(cls, list(VSX_PERIODIC)), period * (1 + rng.normal(0, 0.001, n)), np.nan)
    v_period = np.where((sub == "EW") & (rng.random(n) < 0.08), v_period / 2, v_period)
    v_period = np.where((sub == "SR") & (rng.random(n) < 0.3), np.nan, v_period)
    v_period = np.where(sub == "mira", period * (1 + rng.normal(0, 0.01, n)), v_period)
    uncertain = (rng.random(n) < 0.05) & (v_type != "")
    v_type[uncertain] = [t + ":" for t in v_type[uncertain]]
    u = rng.random(n)
    v_ra, v_dec = _scatter(rng, ra, dec, scatter)
    idx = np.flatnonzero(v_known)
    vsx = pd.DataFrame(
        {
            "name": _vsx_names(ra[idx], dec[idx], u[idx], 3000 + np.cumsum(u > 0.88)[idx] - 1),
            "ra": v_ra[idx],
            "dec": v_dec[idx],
            "vtype": v_type[idx],
            "period": v_period[idx],
        }
    )
    n_x = int(round(0.1 * len(vsx))) + 5
    x_ra, x_dec = _random_positions(rng, n_x, quads, inside=0.5)
    x_type = _choose(
        rng, [("EW", 0.3), ("RRAB", 0.2), ("SR", 0.2), ("EA", 0.15), ("DSCT", 0.1), ("M", 0.05)], n_x
    )
    x_per = np.where(
        x_type == "SR",
        rng.uniform(30, 200, n_x),
        np.where(x_type == "M", rng.uniform(150, 500, n_x), rng.uniform(0.05, 3, n_x)),
    )
    x_name = ["ZTF J" + s for s in jnames(x_ra, x_dec)]
    vsx = pd.concat(
        [vsx, pd.DataFrame({"name": x_name, "ra": x_ra, "dec": x_dec, "vtype": x_type, "period": x_per})],
        ignore_index=True,
    )

    rows = {}
    for name, df in (("simbad", simbad), ("vsx", vsx), ("tns", tns)):
        df = df.sort_values(["ra", df.columns[0]], kind="stable").reset_index(drop=True)
        for col in df.columns:
            if df[col].dtype == object:
                df[col] = df[col].astype(str)
        write_parquet(pa.Table.from_pandas(df, preserve_index=False), out_dir / f"{name}.parquet")
        rows[name] = len(df)
    return rows
