"""Candidate plots: light-curve PNGs (every band, flagged epochs, folding), score distribution, sky map."""

from __future__ import annotations

import time

import numpy as np
import pytest
from matplotlib.image import imread

from candidates_data import PERIODIC, TRANSIENT, build, objectid
from skysift.candidates.lightcurves import _Epochs, lightcurve_png_name, plot_lightcurves
from skysift.candidates.plots import (
    SkyDensity,
    merge_lists,
    plot_order,
    plot_score_distribution,
    plot_sky_map,
    sky_density,
)
from skysift.io import InputError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The hand-built stage inputs."""
    return build(tmp_path_factory.mktemp("cand"))


def test_every_band_of_the_source_is_found_and_raw_flags_are_loaded(data):
    oid = objectid(PERIODIC, 2)
    epochs = _Epochs(data["clean"], data["raw"], [oid], match_arcsec=1.5)
    assert epochs.source[oid] == sorted([objectid(PERIODIC, 1), oid])  # g found by position, neighbours not
    assert sorted(epochs.meta.index) == epochs.source[oid]  # the other objects' rows are not held
    raw_flags = epochs.raw[oid]["catflags"]
    assert (raw_flags == 32768).sum() == 4  # dropped by cleaning, still marked from the raw file
    assert (epochs.clean[oid]["catflags"] == 32768).sum() == 0


def test_plot_order_interleaves_lists_without_duplicates(data):
    lists = data["lists"]
    order = plot_order(lists, max_plots=100)
    assert len(order) == len(set(order)) == len(merge_lists(lists))
    assert order[0] == int(lists["anomalies"]["objectid"][0])
    assert order[1] == int(lists["unknown_transients"]["objectid"][0])
    assert plot_order(lists, max_plots=3) == order[:3]


def test_lightcurve_pngs_are_written_fast_and_folded_only_when_significant(data, tmp_path):
    table = merge_lists(data["lists"])
    ids = [objectid(PERIODIC, 2), objectid(TRANSIENT, 1)]
    t0 = time.perf_counter()
    paths = plot_lightcurves(table, data["clean"], tmp_path / "lc", objectids=ids, raw_paths=data["raw"])
    elapsed = time.perf_counter() - t0
    assert [p.name for p in paths] == [lightcurve_png_name(i) for i in ids]
    assert sorted(p.name for p in (tmp_path / "lc").iterdir()) == sorted(
        p.name for p in paths
    )  # no temp files
    images = []
    for path in paths:
        assert path.read_bytes()[:8] == PNG_MAGIC
        image = imread(path)
        assert image.shape[0] == 240 and image.shape[1] == 720  # 9x3 in at 80 dpi
        images.append(image)
    # the folded panel (right 40 %) of the periodic object has coloured points; the transient's is blank-ish
    right = slice(int(0.62 * 720), 710)
    ink = [float((img[40:220, right, :3].std(axis=2) > 0.15).mean()) for img in images]
    assert ink[0] > 0.01 and ink[1] < 0.002, ink
    assert elapsed < 20  # generous: two PNGs plus loading


def test_parallel_plots_equal_serial_plots(data, tmp_path):
    table = merge_lists(data["lists"])
    serial = plot_lightcurves(table, data["clean"], tmp_path / "a", raw_paths=data["raw"], n_jobs=1)
    parallel = plot_lightcurves(table, data["clean"], tmp_path / "b", raw_paths=data["raw"], n_jobs=2)
    assert [p.name for p in serial] == [p.name for p in parallel]
    for a, b in zip(serial, parallel, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_unknown_objectid_is_an_error(data, tmp_path):
    with pytest.raises(InputError, match="not in the candidate table"):
        plot_lightcurves(merge_lists(data["lists"]), data["clean"], tmp_path, objectids=[1])


def test_score_distribution_and_sky_map(data, tmp_path):
    score_png = plot_score_distribution(data["scores"], data["lists"], tmp_path / "scores.png")
    positions = data["features"]
    background = SkyDensity.of(positions["ra"], positions["dec"])
    assert background.total == len(positions)
    sky_png = plot_sky_map(data["lists"], tmp_path / "sky.png", background=background)
    for path in (score_png, sky_png):
        assert path.read_bytes()[:8] == PNG_MAGIC
        image = imread(path)
        assert image.shape[0] > 200 and image.shape[1] > 500
        assert np.ptp(image[..., :3]) > 0.5  # not a blank canvas


def test_sky_density_reads_batches_one_at_a_time_and_adds_up(data, tmp_path):
    """The sky map's background is a per-pixel count summed over the batch files, so its memory is set by
    nside, not by the release; split into batches it counts what the whole table counts."""
    positions = data["features"][["ra", "dec"]].reset_index(drop=True)
    half = len(positions) // 2
    files = []
    for i, part in enumerate((positions.iloc[:half], positions.iloc[half:])):
        files.append(tmp_path / f"batch{i}.parquet")
        part.assign(objectid=np.arange(len(part))).to_parquet(files[-1])
    whole = SkyDensity.of(positions["ra"], positions["dec"], nside=64)
    summed = sky_density(files, nside=64)
    assert summed.total == len(positions) > 0
    np.testing.assert_array_equal(summed.counts, whole.counts)
    ra, dec, counts = summed.occupied()
    assert counts.sum() == len(positions) and (counts > 0).all()
    # every occupied pixel's centre lies within a pixel size (~0.9 deg at nside 64) of some object
    nearest = np.min(np.hypot(ra[:, None] - positions["ra"].to_numpy()[None, :],
                              dec[:, None] - positions["dec"].to_numpy()[None, :]), axis=1)  # fmt: skip
    assert (nearest < 2.0).all()
    with pytest.raises(ValueError, match="nside"):
        whole + SkyDensity.of(positions["ra"], positions["dec"], nside=32)
