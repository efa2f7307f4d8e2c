"""Type stub of :mod:`skysift.skymap`: what the package exports, and from where (read lazily, see __init__.py)."""

from .counterparts import search_counterparts
from .demo import position_of, write_demo_skymap
from .generate import gaussian_density, make_flat_map, make_multiorder_map, ring_density
from .maps import SkyMap, read_skymap, write_skymap
from .run import CounterpartOutputs, run_counterparts, select_skymap_counterparts
from .settings import CounterpartSettings

__all__ = [
    "CounterpartOutputs",
    "CounterpartSettings",
    "SkyMap",
    "gaussian_density",
    "make_flat_map",
    "make_multiorder_map",
    "position_of",
    "read_skymap",
    "ring_density",
    "run_counterparts",
    "search_counterparts",
    "select_skymap_counterparts",
    "write_demo_skymap",
    "write_skymap",
]
