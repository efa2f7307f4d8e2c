"""Saved anomaly models: numpy arrays in ``.npz`` plus JSON metadata, never a pickle.

A method's model is two files, ``<method>.npz`` and ``<method>.json``. Per band ``b`` the npz holds
(``b<b>/`` prefixes):

``medians``, ``center``, ``scale``    the preprocessor (:class:`~skysift.anomaly.preprocess.AnomalyPreprocessor`)
``reference``                         the sample's sorted scores (band percentiles)
``sample_objectid``, ``sample_scores`` the sample rows' fit-time scores
``det_center``, ``det_spread``        median and scaled MAD of the sample (drivers of non-forests)
``tree_*``                            coniferest forests: every tree's ``left``, ``feature``,
                                      ``value`` and ``node_average_path_length`` arrays, concatenated
                                      (``tree_nodes``: nodes per tree, ``tree_subsamples``), as
                                      coniferest's own Tree constructor takes them
``weights``                           AAD leaf weights of the expert labels
``lof_*``, ``gmm_*``                  LOF (fitted rows, their k-distances and densities) and the
                                      Gaussian mixture's parameters (:mod:`skysift.anomaly.estimators`)
``skops``                             scikit-learn's IsolationForest (sklearn_isoforest) as skops
                                      bytes, loaded with an explicit list of trusted types
``probe_X``, ``probe_scores``         a few sample rows and their scores by the saved detector:
                                      loading checks that they come out again bit for bit (a
                                      coniferest or scikit-learn upgrade that changes the numbers is
                                      an error, not a silent shift)

The JSON holds the method, feature names, space and detector settings, the band list, what the model
was fitted from (batches, rows) and package versions. The fit sample's transformed rows (the training
data of PineForest refits and of the evaluation's seeds) are ``sample.npz`` + ``sample.json``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from coniferest._core import CoreForest, Tree

from skysift.anomaly.detectors import FOREST_METHODS, Detector
from skysift.anomaly.estimators import LofScorer, gmm_arrays, gmm_from_arrays
from skysift.anomaly.model import PROBE_ROWS, BandModel, FitSample, MethodModel
from skysift.anomaly.preprocess import AnomalyPreprocessor
from skysift.anomaly.settings import DetectorSettings, SpaceSettings
from skysift.anomaly.space import SearchSpace
from skysift.config import default_config
from skysift.io import InputError, atomic_path

__all__ = ["save_model", "load_model", "save_sample", "load_sample", "ModelError", "FORMAT"]

logger = logging.getLogger(__name__)

#: Version of the saved layout.
FORMAT = 1
#: scikit-learn types skops does not trust by default that our estimators contain.
TRUSTED_TYPES = ("sklearn.tree._tree.Tree",)


class ModelError(InputError):
    """A saved model that cannot be used (missing, another format, numbers that do not come out again)."""


def _versions() -> dict[str, str | None]:
    from skysift.provenance import package_versions

    return package_versions(["skysift", "coniferest", "scikit-learn", "numpy", "skops"])


def _write(npz: Path, arrays: dict[str, np.ndarray], js: Path, meta: dict) -> None:
    """Both files atomically (npz first: a json always has its arrays)."""
    with atomic_path(npz) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    with atomic_path(js) as tmp:
        tmp.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")


def _read(npz: str | Path, js: str | Path) -> tuple[Any, dict]:
    """The npz (lazily, no pickle) and the JSON of a saved file pair."""
    for path in (npz, js):
        if not Path(path).exists():
            raise ModelError(
                f"{path}: no saved anomaly model; run `snakemake results/anomaly/scores.parquet`"
            )
    meta = json.loads(Path(js).read_text())
    if meta.get("format") != FORMAT:
        raise ModelError(f"{js}: model format {meta.get('format')!r}, this skysift reads {FORMAT}: refit it "
                         "(snakemake --forcerun fit_anomaly_model)")  # fmt: skip
    return np.load(npz, allow_pickle=False), meta


# ------------------------------------------------------------------ detectors


def _forest_arrays(forest: Any) -> dict[str, np.ndarray]:
    trees = list(forest)
    parts = [
        t.__reduce__()[1] for t in trees
    ]  # (left, feature, value, node_average_path_length, n_subsamples)
    return {
        "tree_left": np.concatenate([p[0] for p in parts]),
        "tree_feature": np.concatenate([p[1] for p in parts]),
        "tree_value": np.concatenate([p[2] for p in parts]),
        "tree_napl": np.concatenate([p[3] for p in parts]),
        "tree_nodes": np.array([len(p[0]) for p in parts], dtype=np.int64),
        "tree_subsamples": np.array([p[4] for p in parts], dtype=np.int64),
    }


def _forest(arrays: Any, prefix: str, n_features: int, n_jobs: int) -> CoreForest:
    bounds = np.concatenate([[0], np.cumsum(arrays[f"{prefix}tree_nodes"])])
    cols = [arrays[f"{prefix}tree_{k}"] for k in ("left", "feature", "value", "napl")]
    sub = arrays[f"{prefix}tree_subsamples"]
    trees = [
        Tree(*(np.ascontiguousarray(c[a:b]) for c in cols), int(sub[i]))
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
    ]
    return CoreForest(trees, n_features=n_features, num_threads=n_jobs)


def _detector_arrays(det: Detector) -> dict[str, np.ndarray]:
    out = {"det_center": det.center, "det_spread": det.spread}
    if det.method in FOREST_METHODS:
        out.update(_forest_arrays(det.forest))
        if det.weights is not None:
            out["weights"] = det.weights
    elif det.method == "lof":
        out.update(det.model.arrays())
    elif det.method == "gmm":
        out.update(gmm_arrays(det.model))
    else:
        import skops.io

        out["skops"] = np.frombuffer(skops.io.dumps(det.model), dtype=np.uint8)
    return out


def _detector_settings(saved: dict) -> DetectorSettings:
    """The detector settings a model was saved with; a key added to skysift since then takes the schema's
    default, so a run's models load after an upgrade (the refit settings of the oracle and of ``skysift
    label`` are the run's config either way)."""
    fields = {f.name for f in dataclasses.fields(DetectorSettings)}
    missing = sorted(fields - set(saved))
    if missing:
        defaults = default_config()["anomaly"]
        logger.info("saved model without %s: the schema's defaults", ", ".join(missing))
        saved = {**{key: defaults[key] for key in missing}, **saved}
    return DetectorSettings(**{key: value for key, value in saved.items() if key in fields})


def _detector(arrays: Any, prefix: str, meta: dict, method: str, n_features: int, n_jobs: int) -> Detector:
    settings = _detector_settings(meta["settings"])
    det = Detector(method, settings, int(meta["seed"]), int(meta["n_subsamples"]), n_jobs,
                   center=arrays[f"{prefix}det_center"], spread=arrays[f"{prefix}det_spread"])  # fmt: skip
    if method in FOREST_METHODS:
        det.forest = _forest(arrays, prefix, n_features, n_jobs)
        if f"{prefix}weights" in arrays:
            det.weights = arrays[f"{prefix}weights"]
    elif method == "lof":
        det.model = LofScorer.from_arrays(arrays, prefix, n_jobs)
    elif method == "gmm":
        det.model = gmm_from_arrays(arrays, prefix)
    else:
        import skops.io

        data = arrays[f"{prefix}skops"].tobytes()
        untrusted = skops.io.get_untrusted_types(data=data)
        unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
        if unexpected:
            raise ModelError(f"saved {method} model holds types skysift does not trust: {unexpected}")
        det.model = skops.io.loads(data, trusted=untrusted)
    return det


# ------------------------------------------------------------------ method models


def save_model(model: MethodModel, npz: str | Path, js: str | Path) -> None:
    """Save a method's model as ``npz`` + ``js`` (module docstring), atomically."""
    arrays: dict[str, np.ndarray] = {}
    bands = {}
    for band, m in model.bands.items():
        p = f"b{band}/"
        pre = m.preprocessor
        arrays.update({p + "medians": pre.medians_, p + "center": pre.center_, p + "scale": pre.scale_,
                       p + "reference": m.reference, p + "sample_objectid": m.sample_objectid,
                       p + "sample_scores": m.sample_scores})  # fmt: skip
        arrays.update({p + k: v for k, v in _detector_arrays(m.detector).items()})
        probe = _probe_rows(m)
        arrays[p + "probe_X"] = probe
        arrays[p + "probe_scores"] = m.detector.score_samples(probe)
        bands[str(band)] = {"n_subsamples": m.detector.n_subsamples, "seed": m.detector.seed,
                            "settings": dataclasses.asdict(m.detector.settings), "sample_rows": len(m.sample_objectid),
                            "transform": pre.transform, "column_transforms": {str(k): v for k, v in pre.column_transforms.items()}}  # fmt: skip
    meta = {"format": FORMAT, "method": model.method, "feature_names": model.feature_names,
            "space": dataclasses.asdict(model.space), "bands": bands, "fit": model.meta, "versions": _versions()}  # fmt: skip
    _write(Path(npz), arrays, Path(js), meta)


def _probe_rows(m: BandModel) -> np.ndarray:
    """A few rows in the band's feature space to check a loaded detector with: the sample's medians
    moved by its spread (the sample's own rows are not kept in the model)."""
    det = m.detector
    steps = np.linspace(-3.0, 3.0, PROBE_ROWS)[:, None]
    return np.ascontiguousarray(det.center[None, :] + steps * det.spread[None, :])


def load_model(npz: str | Path, js: str | Path, *, n_jobs: int = 1, check: bool = True) -> MethodModel:
    """Load a method's model saved by :func:`save_model`; ``check`` its probe rows (module docstring)."""
    arrays, meta = _read(npz, js)
    method, names = meta["method"], list(meta["feature_names"])
    bands = {}
    for key, bmeta in meta["bands"].items():
        band, p = int(key), f"b{key}/"
        pre = AnomalyPreprocessor(bmeta["transform"], {int(k): v for k, v in bmeta["column_transforms"].items()},
                                  arrays[p + "medians"], arrays[p + "center"], arrays[p + "scale"])  # fmt: skip
        det = _detector(arrays, p, bmeta, method, len(names), n_jobs)
        if check:
            got = det.score_samples(arrays[p + "probe_X"])
            if not np.array_equal(got, arrays[p + "probe_scores"], equal_nan=True):
                raise ModelError(
                    f"{npz}: the saved {method} model (band {band}) does not reproduce its scores with the "
                    f"installed packages (saved with {meta.get('versions')}); refit it: "
                    "snakemake --forcerun fit_anomaly_model"
                )
        bands[band] = BandModel(det, pre, arrays[p + "reference"], arrays[p + "sample_objectid"],
                                arrays[p + "sample_scores"])  # fmt: skip
    space = SpaceSettings(**meta["space"])
    return MethodModel(method, names, space, bands, meta.get("fit", {}))


# ------------------------------------------------------------------ the fit sample


def save_sample(space: SearchSpace, meta: dict, npz: str | Path, js: str | Path) -> None:
    """Save the fit sample's transformed rows (objectid, filterid, source_id, X, band rows)."""
    arrays = {"objectid": space.objectid, "filterid": space.filterid, "source_id": space.source_id,
              "X": space.X, "valid": space.valid}  # fmt: skip
    arrays.update({f"band_rows/{b}": rows for b, rows in space.band_rows.items()})
    info = {"format": FORMAT, "feature_names": list(space.feature_names), "bands": sorted(space.band_rows),
            "fit": meta, "versions": _versions()}  # fmt: skip
    _write(Path(npz), arrays, Path(js), info)


def load_sample(npz: str | Path, js: str | Path, preprocessors: dict | None = None) -> FitSample:
    """Load the fit sample saved by :func:`save_sample` (``preprocessors`` from a method's model)."""
    arrays, meta = _read(npz, js)
    band_rows = {int(b): arrays[f"band_rows/{b}"] for b in meta["bands"]}
    space = SearchSpace(arrays["objectid"], arrays["filterid"], arrays["source_id"], arrays["X"], arrays["valid"],
                        list(meta["feature_names"]), band_rows, dict(preprocessors or {}))  # fmt: skip
    return FitSample(space, meta.get("fit", {}))
