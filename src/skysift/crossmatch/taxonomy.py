"""Catalog object types to skysift classes: the taxonomy file and the mapping rules.

The packaged ``taxonomy.yaml`` (beside this module) maps, per catalog section, each type as the
service writes it (SIMBAD otype, VSX VType, TNS type) to a classifier class or null. A user file of
the same shape may replace it (``crossmatch.taxonomy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from skysift.io import InputError

__all__ = ["load_taxonomy", "map_type", "map_types"]


def load_taxonomy(path: str | Path | None = None) -> dict[str, dict[str, str | None]]:
    """Read a taxonomy YAML ({catalog: {type: class or null}}); the packaged one by default."""
    if path is None:
        text = resources.files("skysift.crossmatch").joinpath("taxonomy.yaml").read_text()
        source = "skysift/crossmatch/taxonomy.yaml"
    else:
        text = Path(path).read_text()
        source = str(path)
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise InputError(f"{source}: a taxonomy is a mapping {{catalog: {{type: class}}}}")
    return {cat: {str(k): v for k, v in types.items()} for cat, types in data.items()}


def map_type(catalog_type: str | None, mapping: Mapping[str, str | None]) -> str:
    """Class for a catalog type: exact match, else the first component of a compound/uncertain type.

    VSX writes compound types ("EA/DM", "RRAB|RRC") and uncertain ones ("EW:"); SIMBAD
    sometimes appends "?" for candidates ("RR*?"), which we do not trust as labels.
    """
    if catalog_type is None:
        return ""
    text = str(catalog_type).strip()
    if not text or text.endswith("?"):
        return ""
    if text in mapping:
        return mapping[text] or ""
    head = text.rstrip(":").replace("|", "/").replace("+", "/").split("/")[0].strip().rstrip(":")
    return (mapping.get(head) or "") if head else ""


def map_types(types: np.ndarray, mapping: Mapping[str, str | None]) -> np.ndarray:
    """Vectorised :func:`map_type` (types repeat a lot: each distinct one is mapped once)."""
    codes, uniques = pd.factorize(pd.Series(types, dtype=object).fillna(""), sort=False)
    mapped = np.array([map_type(t, mapping) for t in uniques], dtype=object)
    return mapped[codes] if len(codes) else np.empty(0, dtype=object)
