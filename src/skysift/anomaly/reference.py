"""Band percentiles against a reference: the scores of the rows a band's detector was fitted on.

A release is scored batch by batch, so a row's band percentile cannot be its rank among all rows of
its band (that needs every row at once). It is taken against the fitted sample's scores instead
(:mod:`skysift.anomaly.model`): ``p(s)`` = the fraction of the sample's scores ``<= s``. When the
sample is the whole release, that IS the rank percentile of an in-memory search
(``rankdata(scores, "max") / n``), bit for bit.

Between two sample scores ``p`` is interpolated linearly (the sample's empirical CDF made
continuous), so that the ~10^4 release rows that fall between two neighbouring sample scores near
the top are not all tied. Above the sample's highest score ``p`` is 1 and the row's ``excess``,
``(s - max) / (max - median)`` of the sample, orders those rows (the ranking uses it right after the
source score). Below the lowest score ``p`` is 0.
"""

from __future__ import annotations

import numpy as np

__all__ = ["band_percentiles"]


def band_percentiles(reference: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Percentiles in [0, 1] and tail excess (>= 0) of ``scores`` against the sorted ``reference``.

    Parameters
    ----------
    reference
        The sample's scores, sorted ascending, finite.
    scores
        Scores to place (NaN stays NaN).

    Returns
    -------
    tuple of numpy.ndarray
        ``(percentile, excess)``; see the module docstring.
    """
    reference = np.asarray(reference, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    n = len(reference)
    pct = np.full(scores.shape, np.nan)
    excess = np.zeros(scores.shape)
    ok = np.isfinite(scores)
    if not n:
        return pct, np.where(ok, 0.0, np.nan)
    s = scores[ok]
    below = np.searchsorted(reference, s, side="right")  # sample scores <= s
    p = below / n
    inside = (below > 0) & (below < n)
    lo = reference[np.clip(below - 1, 0, n - 1)]
    hi = reference[np.clip(below, 0, n - 1)]
    between = inside & (s > lo)  # not a sample score: interpolate towards the next one
    if between.any():
        upto_hi = np.searchsorted(reference, hi[between], side="right")
        frac = (s[between] - lo[between]) / (hi[between] - lo[between])
        p[between] = (below[between] + frac * (upto_hi - below[between])) / n
    pct[ok] = p
    top, median = (
        reference[-1],
        reference[n // 2] if n % 2 else 0.5 * (reference[n // 2 - 1] + reference[n // 2]),
    )
    spread = top - median if top > median else 1.0
    excess[ok] = np.where(s > top, (s - top) / spread, 0.0)
    excess[~ok] = np.nan
    return pct, excess
