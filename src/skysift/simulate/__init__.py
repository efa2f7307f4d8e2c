"""The demo survey: a deterministic, vectorised ZTF-like simulator that writes the exact DR layout.

``simulate_release(root, ...)`` writes::

    <root>/<dr>/{field//1000}/field{FFFFFF}/ztf_{FFFFFF}_{zg|zr|zi}_c{CC}_q{Q}_<dr>.parquet
    <root>/<dr>/checksum.md5
    <root>/truth.parquet                      one row per objectid (see TRUTH_COLUMNS)
    <root>/catalogs/{simbad,vsx,tns}.parquet  catalogs labelling part of the sky sources

so that the offline default run exercises every stage on data shaped like a real release. The same
arguments give byte-identical parquet files and checksum.md5 (every random stream is seeded from
``seed`` plus the field/CCD/quadrant/band it belongs to, so results do not depend on loop order).

Object ids. Real ZTF DR object ids are per filter and encode where the object lives. A public helper
that decodes them (``OIDParts`` in the LINCC ``load_ztfdr_for_tape`` code) and real ids such as
633207400004730 and 695211200075348 agree on the layout, read right to left: an 8-digit running
counter, 1 digit CCD quadrant (qid), 2 digits CCD (ccdid), 1 digit filter (1 g, 2 r, 3 i), then the
field::

    objectid = field * 10**12 + filterid * 10**11 + ccdid * 10**9 + qid * 10**8 + counter

(633207400004730 = field 633, r, CCD 07, quadrant 4, source 4730; field 1721 gives 16 digits.) The
demo does exactly this; counters increase with declination inside a quadrant with random gaps, and
the g, r and i object ids of one sky source are unrelated numbers (as in real releases), linked only in
``truth.parquet`` through ``source_id``.

Sky geometry. Field centres come from a simple equal-area-ish grid (documented in ``field_centre``):
rows of constant declination 7.2 deg apart from -86.4 to +86.4, each row holding
ceil(360 cos(dec) / 7.5) fields numbered from RA 0; ids >= 1000 form the secondary grid, shifted by
half a field in both axes, like ZTF's. It is not ZTF's real field list, only plausible and stable.
The 16 CCDs sit on a 4x4 grid 1.78 deg apart; each CCD quadrant is a 0.86 x 0.86 deg sub-patch
(q1 NE, q2 NW, q3 SW, q4 SE of its CCD centre) and its sources are spread uniformly inside it.

Cadence. One Palomar-like site: nights start at ``start_mjd``; weather is one site-wide AR(1)
process over nights (correlated clear/cloudy spells, worse in winter), losing ``weather_loss`` of the
nights on average. A field is observable while its RA is within ~122-135 deg of the anti-solar RA
(a ~3-4 month seasonal gap, shorter for high declinations), with lower visit odds near the
season edges. On a clear night in season a field is visited with probability ``visit_prob`` (a
~2-3 night cadence): a g exposure and, ~30 min later, an r exposure (each sometimes missing). i-band
exposures happen only in one ~150-day window, on ~1 clear night in 4. Exposures are timed around the
field's transit (hmjd fractions ~0.15-0.5, the Palomar night in UTC). All quadrants of a field share
its exposures, except ~1.5 % of (exposure, quadrant) images that are missing.

Photometry. Each exposure has a 5-sigma limiting magnitude (dark-sky limit, brighter moon costs up to
0.7 mag in g, night-to-night and exposure scatter ``limmag_scatter``, ~1 % cloudy exposures 1-2.5 mag
shallower). Fluxes in units of the limit, f = 10**(-0.4 (m - lim)), get noise
sigma_f**2 = 0.2**2 + f / 300 + (0.0105 f)**2 (sky-limited at the faint end, ~0.012 mag floor at the
bright end, ~0.2 mag at the limit); an epoch is a detection when the noisy flux is >= 5 sigma_sky,
so DR light curves only hold detections (with the Eddington bias near the limit). ``magerr`` is the
same model evaluated at the measured flux. Sources brighter than ``saturation_mag`` saturate: the
epoch gets catflags bit 4 and a too-faint magnitude.

Flags (catflags, int32). 32768 (bit 15) is the image-quality bit that ZTF documentation and users
mask (``catflags < 32768`` keeps good epochs); it is set on every detection of a bad
(exposure, quadrant) image (``bad_image_fraction``), whose photometry is off by a random zero-point
error of ~0.3 mag. The low bits follow SExtractor-style source flags (1 neighbours, 2 blended,
4 saturated, 16 aperture data incomplete); ``flagged_epoch_fraction`` of detections get 1, 2, 3 or 16
with a matching bias (neighbour light brighter, truncated aperture fainter). About 3 % of detections
are flagged overall.

Duplicates. ``duplicate_fraction`` of light curves carry one duplicated epoch: the same hmjd twice,
adjacent in the lists (hmjd is therefore non-decreasing, strictly increasing elsewhere); half of the
duplicates repeat the measurement exactly, half re-measure the magnitude (noise of magerr), like
overlapping processing of one image.

Realism (``demo.realism``). ``easy`` (the default, everything above) is quick and flatters methods;
``hard`` (:mod:`skysift.simulate.variants`, docs/realistic_demo.md) simulates the same layout with
faint, sparse light curves down to the survey depth, an uneven cadence
(:func:`~skysift.simulate.cadence.uneven_field_cadence`), supernovae on hosts at random times, a
look-alike-rich nominal population (:mod:`skysift.simulate.realistic`), rare families that overlap it
(:mod:`skysift.simulate.rare`, two more classes: ``pec_sn`` and ``fbot``) and catalogs that know bright
sources best. The easy demo's files do not change with the variants (class indices, hence random
streams, are those of the easy classes).

Classes. See ``skysift.simulate.models`` for the physics of the 18 classes and the meaning
of the truth parameters. Transients are host-less (no detections outside the event) with their r-band
peaks placed on observed epochs inside seasons, so most have a sampled rise and decline; sources with
no detection in a band have no object id (and no truth row) in that band. (Real DR object ids come
from reference-image detections, so a host-less transient would not have one; the demo keeps them so
that transient classifiers have data.)

i band. i-band light curves exist only in CCD quadrants with an i-band reference image: a fraction
``i_band_fraction`` of the simulated quadrants (at least one when > 0), so about that fraction of
sources also has an i-band object id.

Catalogs (one row per sky source they know, positions scattered ~``catalog_scatter_arcsec`` per axis,
~5 % wrong types, plus unrelated rows inside and outside the footprint):
SIMBAD (main_id, ra, dec, otype with current SIMBAD short codes), VSX (name, ra, dec, vtype, period
with ~0.1 % scatter and some aliases) and TNS (name, name_prefix, ra, declination, type, redshift,
discoverydate). ``CATALOG_TYPES`` lists every type string each catalog can emit.
"""

from skysift.simulate.catalog_rules import CATALOG_TYPES
from skysift.simulate.geometry import field_centre, make_objectid, quadrant_centre
from skysift.simulate.models import CLASSES, DEFAULT_CLASS_FRACTIONS
from skysift.simulate.plots import plot_examples
from skysift.simulate.settings import DemoSettings
from skysift.simulate.survey import simulate_lightcurves, simulate_release
from skysift.simulate.truth import TRUTH_COLUMNS, load_truth
from skysift.simulate.variants import ALL_CLASSES, RARE_CLASSES, REALISTIC_CLASS_FRACTIONS, VARIANTS

__all__ = [
    "CLASSES",
    "DEFAULT_CLASS_FRACTIONS",
    "ALL_CLASSES",
    "RARE_CLASSES",
    "REALISTIC_CLASS_FRACTIONS",
    "VARIANTS",
    "CATALOG_TYPES",
    "DemoSettings",
    "TRUTH_COLUMNS",
    "simulate_release",
    "simulate_lightcurves",
    "load_truth",
    "plot_examples",
    "field_centre",
    "quadrant_centre",
    "make_objectid",
]
