"""A two-level (ALeRCE-style) classifier: a top-level group, then the leaf class within the group.

The demo survey's classes are grouped as ALeRCE's light-curve classifier groups ZTF classes
(periodic / stochastic / transient), plus a fourth group ``other`` for what ALeRCE leaves out:

- ``periodic``: rrlyrae, cepheid, eclipsing_binary, delta_scuti, lpv
- ``stochastic``: agn, yso, cv, flare (ALeRCE puts CV/Nova and YSO with the stochastic variables;
  M-dwarf flares are aperiodic stellar variability too)
- ``transient``: snia, snii, snibc, slsn, tde, kilonova, microlensing (one-off events)
- ``other``: constant, artefact, and any label not listed here

The probability of a leaf is P(group) x P(leaf | group), so the leaf probabilities of an object
sum to one and the argmax over leaves is a valid single-level prediction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

__all__ = ["DEFAULT_GROUPS", "HierarchicalClassifier", "group_of"]

logger = logging.getLogger(__name__)

#: Top-level group -> leaf classes (the demo survey's classes; real taxonomy labels use the same names).
DEFAULT_GROUPS: dict[str, tuple[str, ...]] = {
    "periodic": ("rrlyrae", "cepheid", "eclipsing_binary", "delta_scuti", "lpv"),
    "stochastic": ("agn", "yso", "cv", "flare"),
    "transient": ("snia", "snii", "snibc", "slsn", "pec_sn", "tde", "fbot", "kilonova", "microlensing"),
    "other": ("constant", "artefact"),
}

#: The group of labels not listed in the grouping.
FALLBACK_GROUP = "other"


def group_of(labels: np.ndarray, groups: Mapping[str, tuple[str, ...]] = DEFAULT_GROUPS) -> np.ndarray:
    """The top-level group of every label (a group name is its own group; unlisted labels go to ``other``)."""
    lookup = {g: g for g in groups} | {leaf: g for g, leaves in groups.items() for leaf in leaves}
    return np.array([lookup.get(str(label), FALLBACK_GROUP) for label in labels], dtype=object)


class HierarchicalClassifier(ClassifierMixin, BaseEstimator):
    """Group classifier, then one leaf classifier per group with more than one class.

    ``estimator`` is an unfitted scikit-learn classifier cloned for every node; ``groups``
    maps a group name to its leaf classes (:data:`DEFAULT_GROUPS` when None).
    """

    def __init__(
        self, estimator: ClassifierMixin, groups: Mapping[str, tuple[str, ...]] | None = None
    ) -> None:
        self.estimator = estimator
        self.groups = groups

    def fit(self, X: np.ndarray, y: np.ndarray) -> HierarchicalClassifier:
        """Fit the group node on the groups of ``y`` and every multi-class group's leaf node."""
        y = np.asarray(y)
        grouping = dict(self.groups) if self.groups is not None else DEFAULT_GROUPS
        g = group_of(y, grouping).astype(str)
        self.classes_ = np.unique(y)
        self.group_classes_ = np.unique(g)
        self.group_model_ = clone(self.estimator).fit(X, g) if self.group_classes_.size > 1 else None
        self.leaf_models_: dict[str, ClassifierMixin | tuple] = {}
        for name in self.group_classes_:
            sel = g == name
            leaves = np.unique(y[sel])
            # a group with one class needs no model: the leaf is certain given the group
            self.leaf_models_[name] = (
                (leaves[0],) if leaves.size == 1 else clone(self.estimator).fit(_rows(X, sel), y[sel])
            )
        logger.info(
            "hierarchical classifier: groups %s",
            {n: int((g == n).sum()) for n in self.group_classes_},
        )
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Leaf probabilities P(group) x P(leaf | group), columns in ``classes_`` order."""
        n = X.shape[0]
        col = {c: j for j, c in enumerate(self.classes_)}
        out = np.zeros((n, self.classes_.size))
        p_group = np.ones((n, 1)) if self.group_model_ is None else self.group_model_.predict_proba(X)
        for gi, name in enumerate(self.group_classes_):
            node = self.leaf_models_[name]
            if isinstance(node, tuple):
                out[:, col[node[0]]] += p_group[:, gi]
                continue
            p_leaf = node.predict_proba(X)
            for lj, leaf in enumerate(node.classes_):
                out[:, col[leaf]] += p_group[:, gi] * p_leaf[:, lj]
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The leaf class of highest probability."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    @property
    def feature_importances_(self) -> np.ndarray | None:
        """Importances of the group node (None when it has none)."""
        return getattr(self.group_model_, "feature_importances_", None)


def _rows(X: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """Rows of an array or DataFrame."""
    return X[sel] if isinstance(X, np.ndarray) else X.loc[X.index[sel]]
