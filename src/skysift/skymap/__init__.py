"""GW sky-map counterpart search: candidates inside a HEALPix credible region and a time window.

:mod:`skysift.skymap.maps` reads flat (``PROB``, NESTED/RING) and multi-order (``UNIQ``,
``PROBDENSITY``) BAYESTAR maps and computes credible levels; :mod:`skysift.skymap.generate` makes
maps from a density; :mod:`skysift.skymap.counterparts` searches the candidate lists with light
curves from :mod:`skysift.lightcurves.epochs`; :mod:`skysift.skymap.plot` draws the region.
:func:`run_counterparts` is the workflow stage (rule ``select_skymap_counterparts``, configured by
:class:`CounterpartSettings`) and :func:`write_demo_skymap` the ``skysift skymap-demo`` command.
"""

from skysift.skymap.counterparts import search_counterparts
from skysift.skymap.demo import position_of, write_demo_skymap
from skysift.skymap.generate import gaussian_density, make_flat_map, make_multiorder_map, ring_density
from skysift.skymap.maps import SkyMap, read_skymap, write_skymap
from skysift.skymap.run import CounterpartOutputs, run_counterparts, select_skymap_counterparts
from skysift.skymap.settings import CounterpartSettings

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
