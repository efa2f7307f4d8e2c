"""Cross-match survey objects with catalogs: ``local`` files, CDS ``xmatch``, the ``tns`` bulk CSV and ``hats``.

- :mod:`~skysift.crossmatch.spec`: a catalog's configuration (:class:`CatalogSpec`).
- :mod:`~skysift.crossmatch.registry`: the backends by name, one module each:
  :mod:`~skysift.crossmatch.local` (a catalog file, KD-tree on unit vectors, :mod:`~skysift.crossmatch.match`),
  :mod:`~skysift.crossmatch.xmatch` (CDS XMatch through astroquery),
  :mod:`~skysift.crossmatch.tns` (the TNS public-objects CSV, downloaded once, then matched like a file),
  :mod:`~skysift.crossmatch.hats` (a HATS catalog through lsdb, optional extra ``skysift[hats]``).
- :mod:`~skysift.crossmatch.catalogs`: catalog files read into one shape.
- :mod:`~skysift.crossmatch.taxonomy`: catalog types to classifier classes (``taxonomy.yaml``).
- :mod:`~skysift.crossmatch.run`: the stage (per sky source, nearest and all matches, labels).
- :mod:`~skysift.crossmatch.tables`: the output tables' columns.
"""

import lazy_loader

# The names of __init__.pyi, imported from their modules when first used: a workflow's rule files import
# only the settings they need, and parsing the workflow does not load scikit-learn, coniferest or astropy.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
