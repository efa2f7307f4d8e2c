"""Stage 1, fetch: where light curves come from and which batches exist.

Sources: ``demo`` (simulated), ``local`` (a mirror), ``irsa_bulk`` (IRSA's DR parquet files),
``irsa_api`` (IRSA nph_light_curves), ``snad`` (SNAD ZTF DR API), ``hats`` (a HATS catalog read
with lsdb, the optional extra ``skysift[hats]``) and ``table`` (a long-format CSV/parquet file with a
column mapping). A batch is one ZTF field. Each source is one module implementing the protocol of
:mod:`skysift.sources.base`, named in :mod:`skysift.sources.registry`; :mod:`skysift.sources.run`
resolves the batches at workflow-parse time without network access, prepares the release and
fetches one batch.
"""

import lazy_loader

# The names of __init__.pyi, imported from their modules when first used: a workflow's rule files import
# only the settings they need, and parsing the workflow does not load scikit-learn, coniferest or astropy.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
