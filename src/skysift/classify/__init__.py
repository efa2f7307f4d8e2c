"""Classify light curves: labels from cross-matches, balanced forests, CV metrics, predictions.

Typical use::

    from skysift.classify import labels_from_crossmatch, train_classifier, predict_classes

    labels = labels_from_crossmatch(xmatch_df)
    model, report = train_classifier(features_df, labels, model="balanced_random_forest")
    predictions = predict_classes(model, features_df)

The workflow's stages are the ``run_*`` functions of :mod:`skysift.classify.run`, configured by
the settings of :mod:`skysift.classify.settings`; the early SN Ia and kilonova classifiers live in
:mod:`skysift.classify.early_snia` and :mod:`skysift.classify.kilonova`, their stages (per-batch
features and predictions, training on the labelled sources) in :mod:`skysift.classify.run_sources`.
"""

import lazy_loader

# The names of __init__.pyi, imported from their modules when first used: a workflow's rule files import
# only the settings they need, and parsing the workflow does not load scikit-learn, coniferest or astropy.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
