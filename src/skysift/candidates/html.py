"""A static, self-contained HTML page of the candidate lists: sortable tables, thumbnails, links.

The page has inline CSS and a few lines of inline JavaScript (click a column header to sort);
images are relative links (``lightcurves/lc_<objectid>.png``, the sky map and the score
distribution) so the page works from the results directory and from the published bundle.
Every string that comes from a table (catalog names and types, classes, list descriptions)
is escaped with :func:`html.escape`; no table value is ever placed inside the script.
"""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from astropy.table import Table

from skysift.candidates.lightcurves import lightcurve_png_name
from skysift.io import atomic_path

__all__ = ["render_html", "write_html"]

logger = logging.getLogger(__name__)

_CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.2em 2em;color:#222}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
.meta{color:#555}.figs img{max-width:48%;margin-right:1%;border:1px solid #ddd}
table.cands{border-collapse:collapse;width:100%;margin-top:.5em}
table.cands th,table.cands td{border-bottom:1px solid #e3e3e3;padding:3px 6px;vertical-align:top;text-align:left}
table.cands th{background:#f3f3f3;cursor:pointer;position:sticky;top:0;white-space:nowrap}
table.cands th[aria-sort=ascending]::after{content:" \\25B2"}table.cands th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}td img{width:330px;display:block}
.small{font-size:.85em;color:#555}.none{color:#999}nav a{margin-right:1em}
details{margin:.6em 0}code{background:#f5f5f5;padding:0 .2em}
.note{background:#fff4e5;border-left:4px solid #f0a030;padding:.3em .6em}
"""

_JS = """
document.querySelectorAll('table.cands').forEach(function(table){
  table.querySelectorAll('th').forEach(function(th, col){
    th.addEventListener('click', function(){
      var asc = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var key = function(r){var v = r.cells[col].getAttribute('data-v'); var n = parseFloat(v);
        return (v !== null && v !== '' && isFinite(n)) ? [0, n] : [v === null || v === '' ? 2 : 1, v || ''];};
      rows.sort(function(a, b){var x = key(a), y = key(b);
        if (x[0] !== y[0]) return x[0] - y[0];
        var c = x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0; return asc ? c : -c;});
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
});
"""

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


def _e(value: object) -> str:
    """HTML-escape any value (quotes too, so it is safe in attributes)."""
    return html.escape(str(value), quote=True)


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


def _td(content: str, sort_value: object = None, cls: str = "") -> str:
    """One table cell with its sort key (escaped) in data-v."""
    key = "" if sort_value is None else f' data-v="{_e(sort_value)}"'
    klass = f' class="{cls}"' if cls else ""
    return f"<td{klass}{key}>{content}</td>"


def _link(url: str | None, text: str) -> str:
    """An external link (http/https only), escaped; empty when there is no URL."""
    if not url or not str(url).startswith(("https://", "http://")):
        return ""
    return f'<a href="{_e(url)}" rel="noopener noreferrer" target="_blank">{_e(text)}</a>'


def _row_html(row, lightcurve_dir: str, plotted: set[int] | None) -> str:
    """One candidate as a table row."""
    oid = int(row["objectid"])
    cells = [_td(str(_cell(row, "list_rank")), _cell(row, "list_rank"), "num")]
    png = f"{lightcurve_dir}/{lightcurve_png_name(oid)}"
    if plotted is None or oid in plotted:
        thumb = f'<a href="{_e(png)}"><img src="{_e(png)}" loading="lazy" alt="light curve of {oid}"></a>'
    else:
        thumb = '<span class="none">not plotted (candidates.max_plots)</span>'
    cells.append(_td(thumb))
    band = _cell(row, "band") or "?"
    snad = _cell(row, "snad_url")
    oid_html = (_link(snad, str(oid)) or _e(oid)) + f' <span class="small">{_e(band)}</span>'
    field = _cell(row, "fieldid")
    if field is not None:
        oid_html += f'<br><span class="small">field {_e(field)} rcid {_e(_cell(row, "rcid"))}</span>'
    cells.append(_td(oid_html, oid))
    ra, dec = _cell(row, "ra"), _cell(row, "dec")
    pos = f"{ra:.5f}<br>{dec:+.5f}" if ra is not None and dec is not None else '<span class="none">?</span>'
    cells.append(_td(pos, ra, "num"))
    score, rank = _cell(row, "anomaly_score"), _cell(row, "rank")
    cells.append(
        _td(
            (f"{score:.4f}" if score is not None else "") + f'<br><span class="small">rank {_e(rank)}</span>',
            score,
            "num",
        )
    )
    cls, prob = _cell(row, "predicted_class"), _cell(row, "max_probability")
    cls_html = (
        f'{_e(cls)} <span class="small">{prob:.2f}</span>'
        if cls is not None
        else '<span class="none">–</span>'
    )
    cells.append(_td(cls_html, cls))
    period, snr = _cell(row, "period"), _cell(row, "period_snr")
    period_html = (
        f'{period:.4g}<br><span class="small">S/N {snr:.1f}</span>'
        if period is not None and snr is not None
        else '<span class="none">–</span>'
    )
    cells.append(_td(period_html, period, "num"))
    name = _cell(row, "xmatch_name")
    if name is not None:
        sep = _cell(row, "xmatch_sep")
        xm = (
            f"{_e(name)}<br><span class='small'>{_e(_cell(row, 'xmatch_type') or '')} · "
            f"{_e(_cell(row, 'xmatch_catalog') or '')}"
            + (f" · {sep:.2f}″" if sep is not None else "")
            + "</span>"
        )
    else:
        xm = '<span class="none">no counterpart</span>'
    cells.append(_td(xm, name))
    links = [
        _link(_cell(row, "snad_url"), "SNAD"),
        _link(_cell(row, "alerce_url"), "ALeRCE"),
        _link(_cell(row, "fink_url"), "Fink"),
    ]
    ztf_name = _cell(row, "ztf_name")
    links_html = " ".join(x for x in links if x)
    if ztf_name is not None:
        links_html += f'<br><span class="small">{_e(ztf_name)}</span>'
    cells.append(_td(links_html))
    label = _cell(row, "expert_label")
    cells.append(_td(_e(label) if label is not None else "", label))
    return f'<tr data-objectid="{oid}">' + "".join(cells) + "</tr>"


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
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
    ]
    facts = []
    if dr:
        facts.append(f"ZTF data release <b>{_e(dr.upper())}</b>")
    if source:
        facts.append(f"light curves from <code>{_e(source)}</code>")
    facts.append(" · ".join(f"{_e(name)}: {len(table)} objects" for name, table in lists.items()))
    parts.append(f'<p class="meta">{" — ".join(facts)}</p>')
    parts.append(
        "<p>Each row is one ZTF DR object (one light curve in one filter). The light-curve plot shows every "
        "band of its sky source (g green, r red, i brown; <b>x</b> = flagged epochs) and, when the periodogram "
        "peak is significant, the light curve folded on that period. Click a column header to sort; click a "
        "thumbnail for the full-size plot.</p>"
    )
    parts.append("<nav>" + "".join(f'<a href="#list-{_e(n)}">{_e(n)}</a>' for n in lists) + "</nav>")
    if figures:
        parts.append(
            '<div class="figs">'
            + "".join(
                f'<a href="{_e(src)}"><img src="{_e(src)}" alt="{_e(alt)}"></a>'
                for alt, src in figures.items()
            )
            + "</div>"
        )
    for name, table in lists.items():
        parts.append(f'<section id="list-{_e(name)}"><h2>{_e(name)} ({len(table)})</h2>')
        description = table.meta.get("description")
        if description:
            parts.append(f"<p>{_e(description)}.</p>")
        note = table.meta.get("note")
        if note:
            parts.append(f'<p class="note">{_e(note)}.</p>')
        downloads = " ".join(f'<a href="{_e(name)}.{fmt}">{fmt.upper()}</a>' for fmt in table_formats)
        parts.append(
            f'<p class="small">Download the full table (all columns, units, descriptions): {downloads}</p>'
        )
        head = "".join(f'<th title="{_e(tip)}">{_e(h)}</th>' for h, tip in _HEADERS)
        body = "\n".join(_row_html(row, lightcurve_dir, plotted) for row in table)
        if not len(table):
            body = ""
            if not note:
                parts.append('<p class="none">No object passed this selection.</p>')
        parts.append(
            f'<table class="cands" id="table-{_e(name)}"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>'
        )
        cols = "".join(
            f"<li><code>{_e(col)}</code>"
            + (f" [{_e(table[col].unit)}]" if table[col].unit is not None else "")
            + f": {_e(table[col].description or '')}</li>"
            for col in table.colnames
        )
        parts.append(
            f"<details><summary>Columns of the {_e(name)} table</summary><ul>{cols}</ul></details></section>"
        )
    parts.append(
        '<p class="small">ALeRCE and Fink links need a ZTF alert name (ZTF18abcdefg); data-release objectids '
        "do not carry one, so these links appear only where an alert name is known. "
        "Generated by skysift.</p>"
    )
    parts.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(parts) + "\n"


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
