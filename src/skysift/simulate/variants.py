"""The demo survey's two variants (``demo.realism``): which classes, in which mix, with which models and cadence.

``easy`` is the original demo: bright, well-sampled light curves and rare classes that are easy to tell
apart (for speed and for exercising every stage). ``hard`` is the realistic variant documented in
docs/realistic_demo.md: faint, sparse light curves down to the survey depth, an uneven ZTF-like cadence,
a nominal population rich in look-alikes and rare families (<= 0.5 % of the sources) whose parameters
overlap the common classes. A variant is one :class:`Variant` in :data:`VARIANTS`.

Class indices are positions in :data:`ALL_CLASSES` (the easy demo's :data:`~skysift.simulate.models.CLASSES`
followed by the classes only the hard variant draws), so the random streams of the easy demo, which are
seeded by class index, are those it always had.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from skysift.simulate.models import CLASSES, DEFAULT_CLASS_FRACTIONS, MODELS
from skysift.simulate.rare import RARE_MODELS
from skysift.simulate.realistic import REALISTIC_MODELS

__all__ = [
    "ALL_CLASSES",
    "EXTRA_CLASSES",
    "REALISTIC_CLASS_FRACTIONS",
    "RARE_CLASSES",
    "REALISM",
    "Variant",
    "VARIANTS",
    "variant",
]

#: Classes only the hard variant draws: peculiar supernovae (SN Iax, Ca-rich, Ia-CSM) and fast blue
#: optical transients (AT2018cow-like).
EXTRA_CLASSES: tuple[str, ...] = ("pec_sn", "fbot")

#: Every class the simulator knows, in index order (easy classes first).
ALL_CLASSES: tuple[str, ...] = CLASSES + EXTRA_CLASSES

#: The hard variant's rare families: the anomalies of its oracle evaluation (``anomaly.anomaly_classes``
#: in config/examples/realistic_demo.yaml).
RARE_CLASSES: tuple[str, ...] = ("kilonova", "tde", "slsn", "microlensing", "pec_sn", "fbot")

#: The hard variant's mix of drawn sources. Rare families 0.39 % together. Supernovae: volumetric rates
#: at z ~ 0 (Ia : II : Ibc = 24 : 57 : 19, Li et al. 2011) times the volume each class is drawn in
#: (z <= 0.16, 0.08, 0.07), hence Ia : II : Ibc = 1 : 0.30 : 0.066: a magnitude-limited, SN Ia-dominated
#: mix like ZTF's Bright Transient Survey (docs/realistic_demo.md has the measured mix).
REALISTIC_CLASS_FRACTIONS: dict[str, float] = {
    "constant": 0.87644,
    "rrlyrae": 0.008,
    "cepheid": 0.002,
    "eclipsing_binary": 0.030,
    "delta_scuti": 0.006,
    "lpv": 0.012,
    "agn": 0.022,
    "yso": 0.006,
    "snia": 0.010,
    "snii": 0.0030,
    "snibc": 0.00066,
    "slsn": 0.0007,
    "tde": 0.0008,
    "kilonova": 0.0003,
    "microlensing": 0.0007,
    "flare": 0.014,
    "cv": 0.003,
    "artefact": 0.003,
    "pec_sn": 0.0010,
    "fbot": 0.0004,
}

#: Allowed values of ``demo.realism``.
REALISM: tuple[str, ...] = ("easy", "hard")


@dataclass(frozen=True)
class Variant:
    """One demo variant: its classes (in :data:`ALL_CLASSES` order), default mix, models and cadence kind."""

    name: str
    classes: tuple[str, ...]
    fractions: dict[str, float]
    models: dict[str, tuple[Callable, Callable]]
    uneven_cadence: bool
    catalog_completeness: bool

    def fraction_table(self) -> dict[str, float]:
        """The default mix over every known class (0 for those the variant does not draw), in index order."""
        return {c: self.fractions.get(c, 0.0) for c in ALL_CLASSES}


VARIANTS: dict[str, Variant] = {
    "easy": Variant("easy", CLASSES, DEFAULT_CLASS_FRACTIONS, MODELS, False, False),
    "hard": Variant(
        "hard",
        ALL_CLASSES,
        REALISTIC_CLASS_FRACTIONS,
        {**REALISTIC_MODELS, **RARE_MODELS},
        True,
        True,
    ),
}


def variant(realism: str) -> Variant:
    """The variant named by ``demo.realism``; an unknown name is an error naming the key."""
    from skysift.io import InputError

    if realism not in VARIANTS:
        raise InputError(f"demo.realism {realism!r}: expected one of {list(VARIANTS)}")
    return VARIANTS[realism]
