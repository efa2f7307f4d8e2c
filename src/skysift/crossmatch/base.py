"""What every cross-match backend provides, and the table it returns.

A backend (:mod:`~skysift.crossmatch.local`, :mod:`~skysift.crossmatch.tns`,
:mod:`~skysift.crossmatch.xmatch`, :mod:`~skysift.crossmatch.hats`) is a module with one
:class:`Backend` named ``BACKEND``, listed in :mod:`skysift.crossmatch.registry`. Its ``match``
takes the batch's sky-source positions (columns key, ra, dec in degrees) and a
:class:`~skysift.crossmatch.spec.CatalogSpec` and returns every counterpart within the radius,
nearest first per key, with the :data:`MATCH_COLUMNS` (``match_ra``/``match_dec`` where the backend
knows them: separations are then recomputed per objectid).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from skysift.crossmatch.spec import CatalogSpec

__all__ = ["MATCH_COLUMNS", "NAMED_COLUMNS", "Backend", "empty_matches", "strip_strings"]

#: Columns a backend's ``match`` returns (match_ra/match_dec may be absent).
MATCH_COLUMNS: tuple[str, ...] = (
    "key",
    "match_name",
    "match_type",
    "sep_arcsec",
    "match_mag",
    "match_ra",
    "match_dec",
)

#: The column names of a catalog file in the conventional spelling (name, ra, dec, type): what a backend of
#: files (local, hats) takes for the columns a catalog leaves null.
NAMED_COLUMNS: Mapping[str, str] = {
    "id_column": "name",
    "ra_column": "ra",
    "dec_column": "dec",
    "type_column": "type",
}

#: ``match(positions, spec, *, workers, settings) -> DataFrame`` (settings: the backend's own, or None).
Matcher = Callable[..., pd.DataFrame]


@dataclass(frozen=True)
class Backend:
    """One way of cross-matching: its matcher, what a catalog of it needs, and its null-column meanings."""

    name: str
    match: Matcher
    #: Spec fields it cannot do without, with what to write there (checked by CatalogSpec).
    requires: Mapping[str, str]
    #: Values of the id/ra/dec/type columns a catalog leaves null ("" = the service's known columns).
    columns: Mapping[str, str]
    #: Largest match radius the backend allows (arcsec), None = no limit of its own.
    max_radius_arcsec: float | None = None

    def check(self, spec: CatalogSpec) -> list[str]:
        """Problems of ``spec`` for this backend (empty = fine), each naming its config key."""
        where = f"crossmatch.catalogs.{spec.name}"
        problems = [f"{where}.{key}: {hint}" for key, hint in self.requires.items() if not getattr(spec, key)]
        if self.max_radius_arcsec is not None and not 0 < spec.radius_arcsec <= self.max_radius_arcsec:
            problems.append(
                f"{where}.radius_arcsec: {self.name} allows at most {self.max_radius_arcsec:g} arcsec"
            )
        return problems


def empty_matches() -> pd.DataFrame:
    """A match table without rows, with the dtypes of :data:`MATCH_COLUMNS`."""
    dtypes: dict[str, Any] = {"key": np.int64, "match_name": object, "match_type": object}
    return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, np.float64)) for c in MATCH_COLUMNS})


def strip_strings(values: Any) -> np.ndarray:
    """Catalog strings as an object array of str without padding (a VSX file gives ``"RS        "``), nulls as ''."""
    return pd.Series(values, dtype="string").fillna("").str.strip().to_numpy(dtype=object)
