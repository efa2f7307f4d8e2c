"""Designations of the demo survey's catalog entries: TNS dates and names, IAU J-names, GCVS and Gaia ids."""

from __future__ import annotations

import datetime as _dt

import numpy as np

__all__ = ["iso_dates", "jnames", "gcvs_names", "gaia_numbers", "gaia_ids", "tns_names"]

_CONSTELLATIONS = ("And", "Psc", "Ari", "Tau", "Ori", "Gem", "Cnc", "Leo", "Sex", "Vir", "Com", "Boo",
                   "CrB", "Her", "Oph", "Sct", "Aql", "Sge", "Vul", "Cyg", "Lac", "Peg", "Cas", "Per")  # fmt: skip


def iso_dates(mjd: np.ndarray) -> list[str]:
    """MJD -> 'YYYY-MM-DD HH:MM:SS.sss' (the TNS discoverydate format)."""
    base = _dt.datetime(1858, 11, 17)
    return [(base + _dt.timedelta(days=float(x))).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] for x in mjd]


def jnames(ra: np.ndarray, dec: np.ndarray, ra_dp: int = 2, dec_dp: int = 1, dots: bool = True) -> list[str]:
    """IAU-style truncated sexagesimal names 'hhmmss.ss+ddmmss.s' (without dots for 2MASS style)."""
    out = []
    for r, d in zip(ra, dec, strict=True):
        h = r / 15.0
        hh, rem = int(h), (h - int(h)) * 60
        mm, ss = int(rem), (rem - int(rem)) * 60
        ss = np.floor(ss * 10**ra_dp) / 10**ra_dp
        sign = "+" if d >= 0 else "-"
        a = abs(d)
        dd, rem = int(a), (a - int(a)) * 60
        dm, ds = int(rem), (rem - int(rem)) * 60
        ds = np.floor(ds * 10**dec_dp) / 10**dec_dp
        txt = f"{hh:02d}{mm:02d}{ss:0{3 + ra_dp}.{ra_dp}f}{sign}{dd:02d}{dm:02d}{ds:0{3 + dec_dp}.{dec_dp}f}"
        out.append(txt if dots else txt.replace(".", ""))
    return out


def gcvs_names(ra: np.ndarray, numbers: np.ndarray) -> list[str]:
    """GCVS-like variable-star designations 'V1234 Her' (the number given, the constellation from an RA bin)."""
    return [
        f"V{k} {_CONSTELLATIONS[int(r // 15) % len(_CONSTELLATIONS)]}"
        for k, r in zip(numbers, ra, strict=True)
    ]


def gaia_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Gaia DR3-like source ids (19-digit numbers): the draws of :func:`gaia_ids`, to format only those needed."""
    return rng.integers(10**18, 7 * 10**18, n, dtype=np.int64)


def gaia_ids(rng: np.random.Generator, n: int) -> list[str]:
    """Gaia DR3-like source designations 'Gaia DR3 <19 digits>'."""
    return [f"Gaia DR3 {x}" for x in gaia_numbers(rng, n)]


def tns_names(rng: np.random.Generator, mjd: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Unique TNS-style names 'YYYYabc' for discovery dates; returns names and years."""
    years = np.array([int(s[:4]) for s in iso_dates(mjd)], dtype=int)
    names = np.empty(mjd.size, dtype=object)
    for y in np.unique(years):
        rows = np.flatnonzero(years == y)
        codes = rng.choice(26**3, rows.size, replace=False)
        letters = ["".join(chr(97 + (c // 26**p) % 26) for p in (2, 1, 0)) for c in codes]
        names[rows] = [f"{y}{s}" for s in letters]
    return list(names), years
