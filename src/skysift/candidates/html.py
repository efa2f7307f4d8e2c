"""A static, self-contained HTML page of the candidate lists: sortable tables, thumbnails, links.

The page is rendered from the jinja2 template ``templates/candidates.html.j2`` with autoescape on,
so every string that comes from a table (catalog names and types, classes, list descriptions) is
escaped; no table value is ever placed inside the script. The page has inline CSS and a few lines
of inline JavaScript (click a column header to sort); images are relative links
(``lightcurves/lc_<objectid>.png``, the sky map and the score distribution) so the page works from
the results directory and from the published bundle.
"""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import jinja2
import markupsafe
import numpy as np
from astropy.table import Table

from skysift.candidates.lightcurves import lightcurve_png_name
from skysift.io import atomic_path

__all__ = ["render_html", "write_html"]

logger = logging.getLogger(__name__)

#: Table columns of the page: header, tooltip.
_HEADERS = [
    ("#", "Position in this list"),
    ("light curve", "All bands of the source; x = flagged epochs; folded when the period is significant"),
    ("objectid", "ZTF DR object ID and band; links to the SNAD ZTF viewer"),
    ("RA, Dec (deg)", "ICRS position"),
    (
        "anomaly score",
        "Band percentile of the primary anomaly method (higher = more anomalous) and rank over all objects",
    ),
    ("class", "Classifier's most probable class and its probability"),
    ("period (d)", "Best periodogram period and its S/N"),
    ("cross-match", "Best catalog counterpart: name, type, catalog, separation"),
    ("links", "SNAD viewer; ALeRCE and Fink where a ZTF alert name is known"),
    ("expert label", "Label given by an expert (empty: not inspected yet)"),
]


def _escape(value: object) -> object:
    """Escape a template value with :func:`html.escape` (quotes too: safe in attributes); markup passes."""
    return (
        value
        if isinstance(value, markupsafe.Markup)
        else markupsafe.Markup(html.escape(str(value), quote=True))
    )


@cache
def _template() -> jinja2.Template:
    """The page template (package data), autoescaped: table strings can never become markup."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("skysift.candidates", "templates"),
        autoescape=True,
        finalize=_escape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("candidates.html.j2")


def _cell(row, name: str):
    """A table cell as a Python value, None when masked or absent."""
    if name not in row.colnames:
        return None
    value = row[name]
    if np.ma.is_masked(value):
        return None
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str) and not value:
        return None
    return value


def _url(value: object) -> str | None:
    """An external link target (http/https only), None otherwise."""
    return str(value) if value and str(value).startswith(("https://", "http://")) else None


def _row(row, lightcurve_dir: str, plotted: set[int] | None) -> dict:
    """One candidate as the template's row: plain values (the template escapes and formats them)."""
    oid = int(row["objectid"])
    links = [
        (_url(_cell(row, c)), text)
        for c, text in (("snad_url", "SNAD"), ("alerce_url", "ALeRCE"), ("fink_url", "Fink"))
    ]
    return {
        "oid": oid,
        "list_rank": _cell(row, "list_rank"),
        "png": f"{lightcurve_dir}/{lightcurve_png_name(oid)}",
        "plotted": plotted is None or oid in plotted,
        "band": _cell(row, "band") or "?",
        "snad_url": _url(_cell(row, "snad_url")),
        "fieldid": _cell(row, "fieldid"),
        "rcid": _cell(row, "rcid"),
        "ra": _cell(row, "ra"),
        "dec": _cell(row, "dec"),
        "score": _cell(row, "anomaly_score"),
        "rank": _cell(row, "rank"),
        "cls": _cell(row, "predicted_class"),
        "prob": _cell(row, "max_probability"),
        "period": _cell(row, "period"),
        "snr": _cell(row, "period_snr"),
        "xmatch_name": _cell(row, "xmatch_name"),
        "xmatch_type": _cell(row, "xmatch_type") or "",
        "xmatch_catalog": _cell(row, "xmatch_catalog") or "",
        "xmatch_sep": _cell(row, "xmatch_sep"),
        "links": [(url, text) for url, text in links if url],
        "ztf_name": _cell(row, "ztf_name"),
        "label": _cell(row, "expert_label"),
    }


def render_html(
    lists: Mapping[str, Table],
    *,
    title: str = "skysift candidates",
    dr: str | None = None,
    source: str | None = None,
    lightcurve_dir: str = "lightcurves",
    figures: Mapping[str, str] | None = None,
    plotted: set[int] | None = None,
    table_formats: tuple[str, ...] = ("ecsv", "vot", "csv"),
) -> str:
    """The page as a string: one section and sortable table per list (links relative to the page)."""
    figures = (
        figures
        if figures is not None
        else {"Sky map": "sky_map.png", "Anomaly scores": "score_distribution.png"}
    )
    sections = [
        {
            "name": name,
            "n": len(table),
            "description": table.meta.get("description"),
            "note": table.meta.get("note"),
            "rows": [_row(row, lightcurve_dir, plotted) for row in table],
            "columns": [
                {
                    "name": col,
                    "unit": str(table[col].unit) if table[col].unit is not None else "",
                    "description": table[col].description or "",
                }
                for col in table.colnames
            ],
        }
        for name, table in lists.items()
    ]
    return _template().render(
        title=title,
        dr=dr,
        source=source,
        figures=figures,
        lists=sections,
        headers=_HEADERS,
        table_formats=table_formats,
    )


def write_html(lists: Mapping[str, Table], path: str | Path, **kwargs) -> Path:
    """Render the page and write it atomically; thumbnails of missing PNGs say so instead of breaking."""
    path = Path(path)
    lc_dir = path.parent / kwargs.get("lightcurve_dir", "lightcurves")
    if "plotted" not in kwargs and lc_dir.is_dir():
        kwargs["plotted"] = {int(p.stem.removeprefix("lc_")) for p in lc_dir.glob("lc_*.png")}
    text = render_html(lists, **kwargs)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    logger.info("wrote %s (%s)", path, ", ".join(f"{n}: {len(t)} rows" for n, t in lists.items()))
    return path
