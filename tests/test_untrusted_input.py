"""Untrusted input into paths and pages: names with ``../``, absolute paths or control characters are refused
where they enter (config, `skysift label --expert`, labels files); catalog strings that a spreadsheet would run
as formulas are neutralised in the published CSV (and kept as they are in ECSV/VOTable)."""

from __future__ import annotations

import csv

import astropy.units as u
import pytest
import yaml
from astropy.table import Table

from skysift.cli import main as cli_main
from skysift.config import SCHEMA_PATH, ConfigError, validate_config
from skysift.io import InputError, safe_name, spreadsheet_safe
from workflow_runner import run_snakemake

BAD_NAMES = [
    "../escape",
    "/etc/passwd",
    "a/b",
    "..",
    "line\nbreak",
    "tab\there",
    "esc\x1b[2J",
    "nul\x00",
    " pad",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_safe_name_refuses_paths_and_control_characters(name):
    with pytest.raises(InputError) as err:
        safe_name(name, "candidates.lists")
    assert "candidates.lists" in str(err.value) and repr(name) in str(err.value)


@pytest.mark.parametrize(
    "name", ["anomalies", "gw_S250101a", "Alice Smith", "o'Neil", "list-2.v1", "Ünïcode"]
)
def test_safe_name_accepts_ordinary_names(name):
    assert safe_name(name, "x") == name


@pytest.mark.parametrize(
    ("key", "config"),
    [
        ("candidates.lists", {"candidates": {"lists": {"../x": {"select": "anomalies"}}}}),
        ("candidates.lists", {"candidates": {"lists": {"/tmp/x": {"select": "anomalies"}}}}),
        ("skymap.maps", {"skymap": {"maps": {"../../etc": "gw.fits"}}}),
        ("skymap.maps", {"skymap": {"maps": {"gw\n1": "gw.fits"}}}),
        ("skymap.lists[0]", {"skymap": {"lists": ["anomalies\r"]}}),
        ("tns_report.list", {"tns_report": {"list": "../candidates"}}),
        ("tns_report.skymap", {"tns_report": {"skymap": "/abs"}}),
    ],
)
def test_config_names_that_become_paths_are_refused(key, config):
    with pytest.raises(ConfigError) as err:
        validate_config(config, SCHEMA_PATH)
    assert f"{key}:" in str(err.value)


def test_a_run_with_a_list_name_out_of_results_is_refused_before_any_job(tmp_path):
    config = {"demo": {"n_objects": 200, "fields": [633]}, "candidates": {"lists": {"../../outside": {}}}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", check=False)
    assert (
        proc.returncode != 0
        and "candidates.lists: '../../outside' does not match" in proc.stdout + proc.stderr
    )
    assert not (tmp_path / "results").exists() and not (tmp_path.parent / "outside.ecsv").exists()


@pytest.mark.parametrize(
    "expert", ["../alice", "bob\n1,anomaly,mallory,2026-01-01T00:00:00Z,", "eve\x1b]0;x\x07"]
)
def test_label_refuses_an_expert_name_with_a_path_or_control_characters(expert, tmp_path, capsys):
    labels = tmp_path / "labels.csv"
    code = cli_main(
        ["label", "--labels", str(labels), "--expert", expert, "--session", str(tmp_path / "session.json")]
    )
    assert code == 2 and "skysift label --expert" in capsys.readouterr().err
    assert not labels.exists()  # nothing written: a newline in a name would have forged a row


def test_a_labels_file_with_control_characters_in_the_expert_is_a_bad_row(tmp_path):
    from skysift.anomaly.labels import read_labels

    path = tmp_path / "labels.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["objectid", "label", "expert", "time", "note"])
        writer.writerow([1, "anomaly", "alice", "2026-01-01T00:00:00Z", "fine"])
        writer.writerow([2, "regular", "bob\x1b[31m", "2026-01-01T00:00:00Z", ""])
    with pytest.raises(InputError, match=r"labels.csv, line 3, column expert: 'bob\\x1b\[31m' is refused"):
        read_labels(path)


FORMULAS = ['=HYPERLINK("http://evil","x")', "+SUM(1,2)", "-2+3", "@cmd", "\t=1", "\r=1"]


def test_published_csv_neutralises_formulas_and_ecsv_keeps_the_strings(tmp_path):
    from skysift.candidates import write_candidates

    n = len(FORMULAS) + 2
    table = Table(
        {
            "rank": list(range(1, n + 1)),
            "objectid": list(range(100, 100 + n)),
            "ra": [10.0 + i for i in range(n)],
            "dec": [-5.0] * n,
            "xmatch_name": [*FORMULAS, "V* RR Lyr", "-"],
            "xmatch_type": ["RRLyr"] * n,
        }
    )
    table["ra"].unit = table["dec"].unit = u.deg
    table["xmatch_name"].description = "Name of the best catalog counterpart"
    paths = write_candidates(table, tmp_path / "c.ecsv", tmp_path / "c.csv", tmp_path / "c.vot")
    assert [p.name for p in paths] == ["c.ecsv", "c.csv", "c.vot"]
    with open(tmp_path / "c.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    names = [r["xmatch_name"] for r in rows]
    assert len(rows) == n  # no row split by a line break inside a cell
    assert names[: len(FORMULAS)] == [
        '\'=HYPERLINK("http://evil","x")',
        "'+SUM(1,2)",
        "'-2+3",
        "'@cmd",
        "' =1",
        "' =1",
    ]
    assert names[-2:] == ["V* RR Lyr", "'-"]
    assert all(not name.startswith(("=", "+", "-", "@", "\t", "\r")) for name in names)
    assert [r["dec"] for r in rows] == ["-5.0"] * n  # numbers are numbers, untouched
    ecsv = Table.read(tmp_path / "c.ecsv", format="ascii.ecsv")
    assert list(ecsv["xmatch_name"])[:4] == FORMULAS[:4]  # the data itself is kept (ECSV trims blanks)
    assert list(Table.read(tmp_path / "c.vot", format="votable")["xmatch_name"])[:1] == FORMULAS[:1]
    safe = spreadsheet_safe(table)
    assert safe["xmatch_name"].description == table["xmatch_name"].description and safe["ra"].unit == u.deg
    assert list(table["xmatch_name"])[:1] == FORMULAS[:1]  # a copy: the table itself is unchanged
