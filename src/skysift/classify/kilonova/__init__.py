"""Kilonova classifier (after Fink's kilonova module, Biswas et al. 2023): PCA of simulated kilonovae + forest.

A *basis* of ``n_components`` principal components is built from noise-free kilonova light
curves of the demo simulator's kilonova model (:mod:`skysift.simulate.models`):
each band's flux, normalised to its peak, on a grid of days around the peak. An observed
light curve (one ZTF objectid = one band) is aligned on its brightest epoch, its fluxes
(zero point 27.5) within ``[-WINDOW_BEFORE, +WINDOW_AFTER]`` days are divided by that maximum
and projected on the basis by ridge-regularised least squares. Features per band (g, r):

    pc1..pcK   projection coefficients       residual   RMS of the projection residual (units of the max)
    max_flux   brightest flux (ZP 27.5)      npoints    epochs inside the window

A kilonova (fast rise, ~1 mag/day fade) projects with a small residual; a supernova or a
variable star stays bright over the window and leaves a large one. A random forest separates
kilonovae from every other class on light curves simulated at run time with the demo
survey's cadence and noise (:func:`skysift.simulate.simulate_lightcurves`, seeded);
precision and recall are measured on held-out simulations and, when the run has enough
labelled kilonovae, on the run's own labelled sources.
"""

from skysift.classify.kilonova.basis import (
    POSITIVE,
    WINDOW_AFTER,
    WINDOW_BEFORE,
    PCABasis,
    build_basis,
    feature_names,
    lightcurve_features,
    project,
)
from skysift.classify.kilonova.features import read_run_lightcurves, run_features
from skysift.classify.kilonova.train import predict_kilonova, simulated_training_set, train_kilonova

__all__ = [
    "POSITIVE",
    "WINDOW_BEFORE",
    "WINDOW_AFTER",
    "PCABasis",
    "build_basis",
    "project",
    "lightcurve_features",
    "feature_names",
    "simulated_training_set",
    "read_run_lightcurves",
    "run_features",
    "train_kilonova",
    "predict_kilonova",
]
