"""The demo release: simulate every field, CCD quadrant and band and write the DR layout."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from skysift.config import default_config
from skysift.io import InputError, write_parquet
from skysift.layout import DR_SCHEMA, dr_file_path, write_checksums
from skysift.simulate.cadence import (
    BANDS,
    add_duplicates,
    class_counts,
    downtime,
    field_cadence,
    list_array,
    observe,
    resolve_fractions,
    uneven_field_cadence,
    weather,
)
from skysift.simulate.catalogs import write_catalogs
from skysift.simulate.geometry import QUAD_HALF, make_objectid, quadrant_centre
from skysift.simulate.models import Params, SampleContext
from skysift.simulate.settings import DemoSettings, resolve_settings
from skysift.simulate.truth import TruthRows, check_args, per_source
from skysift.simulate.variants import ALL_CLASSES, variant

__all__ = ["simulate_release", "simulate_lightcurves"]

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------
# the release


def simulate_release(
    root: str | Path, settings: DemoSettings | None = None, *, dr: str | None = None, **overrides: Any
) -> dict:
    """Simulate a ZTF-like data release into ``root`` (DR files, checksum.md5, truth, catalogs).

    Parameters
    ----------
    root
        Directory that receives ``<dr>/``, ``truth.parquet`` and ``catalogs/``.
    settings
        What to simulate (the ``demo`` config section, see config/README.md); None = the schema's defaults.
    dr
        Release name: the directory under ``root`` and the file-name suffix; None = the schema's ``dr``.
    **overrides
        ``DemoSettings`` fields replacing those of ``settings``, e.g. ``n_objects=300, seed=3``.

    Returns
    -------
    dict
        A summary: sources per class (drawn and detected), light curves, detections, files written
        (relative to the release directory), i-band quadrants and rows per catalog. The same settings
        give byte-identical files.

    Notes
    -----
    Each DR file is written as soon as it is simulated; what is kept for the end is a few numbers per source
    (position, class, model parameters, first detection) and per light curve (the object id, source and
    file of its truth row). truth.parquet, one row group of up to 1,048,576 rows as it has always been
    written, is built from those at the end, a row group at a time.
    """
    demo = resolve_settings(settings, overrides, "simulate_release")
    dr = default_config()["dr"] if dr is None else dr
    seed, n_objects, fields, ccds, quadrants = (
        demo.seed,
        demo.n_objects,
        demo.fields,
        demo.ccds,
        demo.quadrants,
    )
    root = Path(root)
    fields = [int(f) for f in fields]
    ccds, quadrants = [int(c) for c in ccds], [int(q) for q in quadrants]
    check_args(dr, seed, n_objects, fields, ccds, quadrants, demo.n_years, demo.i_band_fraction)
    for key, value in {
        "weather_loss": demo.weather_loss,
        "visit_prob": demo.visit_prob,
        "bad_image_fraction": demo.bad_image_fraction,
        "missing_image_fraction": demo.missing_image_fraction,
        "flagged_epoch_fraction": demo.flagged_epoch_fraction,
        "duplicate_fraction": demo.duplicate_fraction,
    }.items():
        if not 0 <= value <= 1:
            raise InputError(f"demo.{key} = {value}: must be within [0, 1]")
    kind = variant(demo.realism)
    fractions = resolve_fractions(demo.class_fractions, kind)
    counts = class_counts(n_objects, fractions)
    ss = np.random.SeedSequence(seed)
    rng_src = np.random.default_rng(ss.spawn(1)[0])

    # cadence: one site-wide weather history, one exposure list per field
    n_nights = int(round(demo.n_years * 365.25))
    nights = np.floor(demo.start_mjd) + np.arange(n_nights)
    rng_site = np.random.default_rng([seed, 1])
    clear = weather(rng_site, nights, demo.weather_loss)
    i_start = nights[0] + rng_site.uniform(0.25, 0.75) * max(n_nights - 150, 0)
    if kind.uneven_cadence:
        clear = clear & ~downtime(rng_site, nights)
    cadence_of = uneven_field_cadence if kind.uneven_cadence else field_cadence
    cadences = {
        f: cadence_of(
            np.random.default_rng([seed, 2, f]),
            f,
            nights,
            clear,
            (i_start, i_start + 150),
            demo.visit_prob,
            demo.limiting_mag,
            demo.limmag_scatter,
        )
        for f in fields
    }
    ctx = SampleContext(
        start=float(nights[0]),
        end=float(nights[-1] + 1),
        epochs={f: c.t[c.band == 1] for f, c in cadences.items()},
    )

    # sources: quadrant, position, class, parameters; the sources of quadrant k are rows first[k]:first[k + 1]
    quads = [(f, c, q) for f in fields for c in ccds for q in quadrants]
    n_per_quad, cls_of, ra, dec = _place_sources(rng_src, quads, n_objects, counts)
    first = np.concatenate([[0], np.cumsum(n_per_quad)])
    params: dict[int, Params] = {}
    pos_in_class = np.zeros(n_objects, dtype=np.int64)
    field_of = np.repeat(np.array([qd[0] for qd in quads], dtype=np.int64), n_per_quad)
    for k, name in enumerate(ALL_CLASSES):
        if name not in kind.models:  # a class the variant never draws (its count is 0)
            continue
        members = np.flatnonzero(cls_of == k)
        pos_in_class[members] = np.arange(members.size)
        sampler = kind.models[name][0]
        params[k] = sampler(np.random.default_rng([seed, 3, k]), field_of[members], ctx)
    del field_of

    n_quads = len(quads)
    n_i = 0 if demo.i_band_fraction <= 0 else max(1, int(round(demo.i_band_fraction * n_quads)))
    i_quads = (
        set(np.random.default_rng([seed, 4]).choice(n_quads, n_i, replace=False).tolist()) if n_i else set()
    )

    release = root / dr
    truth = TruthRows()
    first_det = np.full(n_objects, np.inf)
    files: list[str] = []
    n_lc = n_det = 0
    for qk, (f, ccd, qid) in enumerate(quads):
        cad = cadences[f]
        rows = np.arange(first[qk], first[qk + 1])
        rows = rows[np.argsort(dec[rows], kind="stable")]
        rng_q = np.random.default_rng([seed, 5, f, ccd, qid])
        n_u = cad.t.size
        present = rng_q.random(n_u) >= demo.missing_image_fraction
        bad = (rng_q.random(n_u) < demo.bad_image_fraction) | (cad.cloudy & (rng_q.random(n_u) < 0.5))
        lim = cad.lim + rng_q.normal(0, 0.05)
        zp = rng_q.normal(0, 0.3, n_u)
        clr = cad.clr + rng_q.normal(0, 0.005, n_u)
        sat = demo.saturation_mag + rng_q.normal(0, 0.1, n_u)
        true_mag = np.empty((rows.size, n_u))
        for k in np.unique(cls_of[rows]):
            sel = cls_of[rows] == k
            p = params[int(k)].take(pos_in_class[rows[sel]])
            true_mag[sel] = kind.models[ALL_CLASSES[int(k)]][1](
                p, cad.t, cad.band, np.random.default_rng([seed, 6, f, ccd, qid, int(k)])
            )
        rcid = 4 * (ccd - 1) + (qid - 1)
        for b in (0, 1, 2):
            if b == 2 and qk not in i_quads:
                continue
            filterid = BANDS[b]
            cols = np.flatnonzero((cad.band == b) & present)
            rng_b = np.random.default_rng([seed, 7, f, ccd, qid, filterid])
            counter = np.cumsum(rng_b.integers(1, 25, rows.size))
            oid_all = make_objectid(f, filterid, ccd, qid, counter)
            det, mag, magerr, flags = observe(
                true_mag[:, cols],
                lim[cols],
                bad[cols],
                zp[cols],
                sat[cols],
                rng_b,
                demo.flagged_epoch_fraction,
            )
            per_row = det.sum(axis=1)
            keep = per_row > 0
            shape = det.shape
            data = {
                "hmjd": np.broadcast_to(cad.t[cols], shape)[det],
                "mag": mag,
                "magerr": magerr,
                "clrcoeff": np.broadcast_to(clr[cols], shape)[det],
                "catflags": flags,
            }
            lc_counts = add_duplicates(rng_b, per_row[keep], data, demo.duplicate_fraction)
            offsets = np.concatenate([[0], np.cumsum(lc_counts)]).astype(np.int64)
            src = rows[keep]
            nk = src.size
            if nk == 0:
                continue
            jitter = rng_b.normal(0, 0.05 / 3600, (2, nk))
            table = pa.Table.from_arrays(
                [
                    pa.array(oid_all[keep], pa.int64()),
                    pa.array(np.full(nk, filterid), pa.int8()),
                    pa.array(np.full(nk, f), pa.int16()),
                    pa.array(np.full(nk, rcid), pa.int8()),
                    pa.array((ra[src] + jitter[0] / np.cos(np.radians(dec[src]))).astype(np.float32)),
                    pa.array((dec[src] + jitter[1]).astype(np.float32)),
                    pa.array(lc_counts.astype(np.int64)),
                    list_array(offsets, data["hmjd"], pa.float64()),
                    list_array(offsets, data["mag"].astype(np.float32), pa.float32()),
                    list_array(offsets, data["magerr"].astype(np.float32), pa.float32()),
                    list_array(offsets, data["clrcoeff"].astype(np.float32), pa.float32()),
                    list_array(offsets, data["catflags"].astype(np.int32), pa.int32()),
                ],
                schema=DR_SCHEMA,
            )
            rel = dr_file_path(dr, f, filterid, ccd, qid)
            write_parquet(table, release / rel, use_dictionary=False)  # dictionaries of floats: slow, larger
            files.append(rel)
            n_lc += nk
            n_det += int(offsets[-1])
            np.minimum.at(first_det, src, data["hmjd"][offsets[:-1]])
            truth.add(oid_all[keep], src, f, rcid, filterid, b)
    write_checksums(release)
    truth.write(root / "truth.parquet", ra, dec, cls_of, pos_in_class, params)

    sources = {
        "class": np.array(ALL_CLASSES, dtype=object)[cls_of],
        "subclass": per_source(cls_of, pos_in_class, params, "subclass"),
        "ra": ra,
        "dec": dec,
        "period": per_source(cls_of, pos_in_class, params, "period"),
        "redshift": per_source(cls_of, pos_in_class, params, "redshift"),
        "mean_r": per_source(cls_of, pos_in_class, params, "mean_r"),
        "first_detection": first_det,
    }
    cat_rows = write_catalogs(
        root / "catalogs",
        sources,
        np.random.default_rng([seed, 8]),
        quads,
        ctx,
        demo.catalog_scatter_arcsec,
        completeness=kind.catalog_completeness,
    )
    detected = np.isfinite(first_det)
    summary = {
        "root": str(root),
        "dr": dr,
        "seed": seed,
        "realism": kind.name,
        "n_sources": n_objects,
        "n_sources_detected": int(detected.sum()),
        "class_counts": {c: counts[c] for c in kind.classes},
        "class_counts_detected": {
            c: int(np.sum(detected & (cls_of == ALL_CLASSES.index(c)))) for c in kind.classes
        },
        "n_lightcurves": n_lc,
        "n_detections": n_det,
        "n_files": len(files),
        "files": files,
        "i_band_quadrants": sorted(f"{quads[k][0]}:c{quads[k][1]:02d}q{quads[k][2]}" for k in i_quads),
        "catalog_rows": cat_rows,
    }
    log.info("demo release %s: %d sources, %d light curves, %d files", release, n_objects, n_lc, len(files))
    return summary


def _place_sources(
    rng: np.random.Generator, quads: list[tuple[int, int, int]], n_objects: int, counts: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sources per quadrant, then each source's class index, ra and dec, quadrant by quadrant (in order)."""
    weights = rng.dirichlet(np.full(len(quads), 20.0))
    n_per_quad = rng.multinomial(n_objects, weights)
    cls_of = rng.permutation(np.repeat(np.arange(len(ALL_CLASSES)), [counts[c] for c in ALL_CLASSES]))
    centres = np.array([quadrant_centre(*qd) for qd in quads])
    dy = rng.uniform(-QUAD_HALF, QUAD_HALF, n_objects)
    dx = rng.uniform(-QUAD_HALF, QUAD_HALF, n_objects)
    dec = np.repeat(centres[:, 1], n_per_quad) + dy
    ra = np.mod(np.repeat(centres[:, 0], n_per_quad) + dx / np.cos(np.radians(dec)), 360.0)
    return n_per_quad, cls_of, ra, dec


def simulate_lightcurves(
    counts: dict[str, int],
    settings: DemoSettings | None = None,
    *,
    seed: int | None = None,
    fieldid: int = 633,
) -> pd.DataFrame:
    """g and r detections of ``counts[class]`` simulated sources in one field, in memory (no files).

    The same cadence, light-curve models and photometry as :func:`simulate_release` (without bad
    images, flags or duplicates), for training sets such as the kilonova classifier's. ``settings``
    gives the survey (start_mjd, n_years, limiting_mag, limmag_scatter, weather_loss, visit_prob,
    saturation_mag; None = the schema's defaults), ``seed`` (default ``settings.seed``) makes it
    deterministic; ``settings.realism`` chooses the models and cadence of that variant. Returns one row per
    detection: source_id, class, filterid (1 g, 2 r), hmjd, mag, magerr.
    """
    demo = DemoSettings.default() if settings is None else settings
    kind = variant(demo.realism)
    seed = demo.seed if seed is None else seed
    unknown = sorted(set(counts) - set(kind.classes))
    if unknown:
        raise InputError(f"simulate_lightcurves: unknown class(es) {unknown}; known: {list(kind.classes)}")
    n_nights = int(round(demo.n_years * 365.25))
    nights = np.floor(demo.start_mjd) + np.arange(n_nights)
    clear = weather(np.random.default_rng([seed, 1]), nights, demo.weather_loss)
    cad = (uneven_field_cadence if kind.uneven_cadence else field_cadence)(
        np.random.default_rng([seed, 2, fieldid]),
        fieldid,
        nights,
        clear,
        (nights[0], nights[0]),  # no i-band window
        demo.visit_prob,
        demo.limiting_mag,
        demo.limmag_scatter,
    )
    ctx = SampleContext(
        start=float(nights[0]), end=float(nights[-1] + 1), epochs={fieldid: cad.t[cad.band == 1]}
    )
    frames = []
    first_id = 0
    for k, name in enumerate(ALL_CLASSES):
        n = int(counts.get(name, 0))
        if n <= 0:
            continue
        sampler, evaluate = kind.models[name]
        params = sampler(np.random.default_rng([seed, 3, k]), np.full(n, fieldid, dtype=np.int64), ctx)
        true_mag = evaluate(params, cad.t, cad.band, np.random.default_rng([seed, 6, k]))
        for b in (0, 1):
            cols = np.flatnonzero(cad.band == b)
            rng_b = np.random.default_rng([seed, 7, k, b])
            sat = demo.saturation_mag + rng_b.normal(0, 0.1, cols.size)
            none = np.zeros(cols.size, dtype=bool)
            det, mag, magerr, _ = observe(
                true_mag[:, cols], cad.lim[cols], none, np.zeros(cols.size), sat, rng_b, 0.0
            )
            src, epoch = np.nonzero(det)
            frames.append(
                pd.DataFrame(
                    {
                        "source_id": (first_id + src).astype(np.int64),
                        "class": name,
                        "filterid": np.int8(BANDS[b]),
                        "hmjd": cad.t[cols][epoch],
                        "mag": mag,
                        "magerr": magerr,
                    }
                )
            )
        first_id += n
    if not frames:
        raise InputError("simulate_lightcurves: counts asks for no sources")
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["source_id", "filterid", "hmjd"], kind="stable").reset_index(drop=True)
