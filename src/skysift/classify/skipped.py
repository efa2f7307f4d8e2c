"""Supervised stages without enough labels: the exception they raise and the "skipped" report they write.

A run without labels (no catalog counterparts, an empty label table) is legitimate: the anomaly
search and its lists do not need labels. A supervised stage that has too few then writes every
declared output anyway — metrics.json as::

    {"status": "skipped", "reason": "0 labelled objects, needs >= 32 (...)", "n_labels": 0, "needs": 32}

empty tables with their columns, figures that say "skipped: <reason>" — and logs the reason, so the
report, the HTML page and the candidate lists can say why a list selected by a classifier is empty.
A trained stage's metrics.json has ``"status": "trained"``.
"""

from __future__ import annotations

import logging
from typing import Any

from skysift.io import InputError

__all__ = ["SKIPPED", "TRAINED", "TooFewLabels", "skipped_report"]

logger = logging.getLogger(__name__)

#: ``status`` of a stage's metrics.json when it was trained / skipped.
TRAINED = "trained"
SKIPPED = "skipped"


class TooFewLabels(InputError):
    """A supervised stage has too few labels to train; ``n_labels`` and ``needs`` say how many."""

    def __init__(self, reason: str, *, n_labels: int, needs: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.n_labels = int(n_labels)
        self.needs = int(needs)


def skipped_report(exc: TooFewLabels, stage: str, **extra: Any) -> dict[str, Any]:
    """The metrics report of a skipped stage (and a warning in the log naming the stage and the reason)."""
    logger.warning("%s skipped: %s", stage, exc.reason)
    return {"status": SKIPPED, "reason": exc.reason, "n_labels": exc.n_labels, "needs": exc.needs, **extra}
