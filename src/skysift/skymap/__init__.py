"""GW sky-map counterpart search: candidates inside a HEALPix credible region and a time window.

:mod:`skysift.skymap.maps` reads flat (``PROB``, NESTED/RING) and multi-order (``UNIQ``,
``PROBDENSITY``) BAYESTAR maps and computes credible levels; :mod:`skysift.skymap.generate` makes
maps from a density; :mod:`skysift.skymap.counterparts` searches the candidate lists with light
curves from :mod:`skysift.lightcurves.epochs`; :mod:`skysift.skymap.plot` draws the region.
:func:`run_counterparts` is the workflow stage (rule ``select_skymap_counterparts``, configured by
:class:`CounterpartSettings`) and :func:`write_demo_skymap` the ``skysift skymap-demo`` command.
"""

import lazy_loader

# The names of __init__.pyi, imported from their modules when first used: a workflow's rule files import
# only the settings they need, and parsing the workflow does not load scikit-learn, coniferest or astropy.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
