"""The static candidate page: escaping, structure, and the page rendered by headless Chromium."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from matplotlib.image import imread

from candidates_data import EVIL, build
from skysift.candidates.html import render_html, write_html
from skysift.candidates.lightcurves import plot_lightcurves
from skysift.candidates.plots import merge_lists, plot_score_distribution, plot_sky_map

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A candidate page with its plots in a directory, as the workflow writes it."""
    tmp = tmp_path_factory.mktemp("html")
    data = build(tmp)
    out = tmp / "site"
    plot_lightcurves(merge_lists(data["lists"]), data["clean"], out / "lightcurves", raw_paths=data["raw"])
    plot_score_distribution(data["scores"], data["lists"], out / "score_distribution.png")
    plot_sky_map(data["lists"], out / "sky_map.png")
    path = write_html(data["lists"], out / "index.html", title="test <page>", dr="dr24", source="demo")
    return path, data


def test_every_catalog_string_is_escaped(page):
    path, data = page
    text = path.read_text()
    assert EVIL not in text and "<script>alert" not in text
    assert html.escape(EVIL, quote=True) in text
    assert text.count("<script>") == 1  # only the page's own sorting script
    assert "<title>test &lt;page&gt;</title>" in text


def test_rows_links_and_thumbnails(page):
    path, data = page
    text = path.read_text()
    for name, table in data["lists"].items():
        section = text.split(f'id="table-{name}"')[1].split("</table>")[0]
        assert section.count("<tr data-objectid=") == len(table)
        for oid in table["objectid"]:
            assert f'src="lightcurves/lc_{oid}.png"' in section
            assert f'href="https://ztf.snad.space/dr24/view/{oid}"' in section
            assert (path.parent / "lightcurves" / f"lc_{oid}.png").is_file()
    assert "alerce.online" not in text  # no alert names known: no broker links


def test_missing_plots_say_so(tmp_path):
    data = build(tmp_path)
    text = render_html(data["lists"], plotted=set())
    assert "not plotted" in text and '<img src="lightcurves/' not in text


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    """Run headless Chromium with a fresh profile and no background networking."""
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed but CI=true: install it (apt-get install chromium)")
        pytest.skip(
            "chromium not installed (apt-get install --no-install-recommends chromium); required in CI"
        )
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_chromium_renders_the_table_and_sorting_works(page, tmp_path):
    path, data = page
    proc = _chromium(["--virtual-time-budget=3000", "--dump-dom", path.as_uri()], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    dom = proc.stdout
    for name, table in data["lists"].items():
        body = dom.split(f'id="table-{name}"')[1].split("</table>")[0]
        assert len(re.findall(r"<tr data-objectid=", body)) == len(table)
    assert "<script>alert" not in dom


def test_chromium_sorting_reorders_rows(page, tmp_path):
    """Click the anomaly-score header twice (descending) via a tiny wrapper page and read the order back."""
    path, data = page
    wrapper = path.parent / "sorted.html"
    script = (
        "<script>document.querySelectorAll('#table-anomalies th')[4].click();"
        "document.querySelectorAll('#table-anomalies th')[4].click();</script>"
    )
    wrapper.write_text(path.read_text().replace("</body>", script + "</body>"))
    proc = _chromium(["--virtual-time-budget=3000", "--dump-dom", wrapper.as_uri()], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    body = proc.stdout.split('id="table-anomalies"')[1].split("</table>")[0]
    shown = [int(x) for x in re.findall(r'<tr data-objectid="(\d+)"', body)]
    table = data["lists"]["anomalies"]
    expected = [
        int(o)
        for _, o in sorted(zip(table["anomaly_score"], table["objectid"], strict=True), key=lambda p: -p[0])
    ]
    assert shown == expected


def test_chromium_screenshot(page, tmp_path):
    path, _ = page
    shot = tmp_path / "page.png"
    proc = _chromium(
        ["--virtual-time-budget=3000", f"--screenshot={shot}", "--window-size=1400,1000", path.as_uri()],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(shot)
    assert image.shape[:2] == (1000, 1400)
    assert image[..., :3].std() > 0.05  # rendered content, not a blank page
    out = os.environ.get("SKYSIFT_SCREENSHOT")
    if out:
        shutil.copyfile(shot, out)


def test_a_note_says_why_a_list_is_empty(tmp_path):
    data = build(tmp_path)
    empty = data["lists"]["unknown_transients"][:0]
    empty.meta["note"] = "empty: the classifier was not trained (0 labelled objects <none>)"
    text = render_html({"unknown_transients": empty})
    assert "empty: the classifier was not trained (0 labelled objects &lt;none&gt;)." in text
    assert "No object passed this selection" not in text
