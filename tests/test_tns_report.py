"""TNS bulk AT reports: built from DR light curves, validated, and exchanged with a fake TNS on 127.0.0.1."""

from __future__ import annotations

import copy
import json
import logging

import astropy.units as u
import pytest
from astropy.table import Table

from conftest import make_dr_table
from servers import FakeTNSBulk
from skysift.cli import main as cli_main
from skysift.config import default_config
from skysift.io import InputError, write_parquet
from skysift.net import TNSError
from skysift.tnsreport import (
    ReportSettings,
    SendSettings,
    TNSReportRejected,
    build_at_report,
    read_epochs,
    report_candidates,
    send_report,
    validate_at_report,
)

KEY = "tns-bulk-s3cr3t-0123456789abcdef"
EVENT = 60000.0


@pytest.fixture
def data(tmp_path):
    """Three candidates (one across RA = 0) with g/r/i DR epochs, as a candidate ECSV and a clean parquet."""
    lcs = []
    for oid, filterid, start in ((101, 1, -20), (101, 2, 1), (202, 2, 2), (202, 3, 3), (303, 1, 0.5)):
        hmjd = [EVENT + start + k for k in range(5)]
        mags = [19.0 - 0.2 * k if k < 3 else 18.8 + 0.3 * k for k in range(5)]
        lcs.append({"objectid": oid, "filterid": filterid, "hmjd": hmjd, "mag": mags, "magerr": [0.08] * 5})
    clean = write_parquet(make_dr_table(lcs), tmp_path / "field000633.parquet")
    table = Table(
        {"objectid": [101, 202, 303], "ra": [150.1, 359.99, 10.0], "dec": [20.0, -5.0, 89.5]},
        meta={"event_mjd": EVENT},
    )
    table["ra"].unit = table["dec"].unit = u.deg
    table.write(tmp_path / "counterparts.ecsv", format="ascii.ecsv")
    return tmp_path / "counterparts.ecsv", clean


def _report(**kw) -> ReportSettings:
    """The schema's tns_report defaults with ``kw``."""
    return ReportSettings.from_config({**default_config()["tns_report"], **kw})


SETTINGS = _report(reporting_group_id=42, reporter="A. Astronomer, B. Bot (skysift)")


def _send(url: str, **kw) -> SendSettings:
    """The schema's tns_report defaults with the fake TNS, the test bot, fast polls and ``kw``."""
    section = {**default_config()["tns_report"], "url": url, "bot_id": 4242, "bot_name": "skysift_test"}
    return SendSettings.from_config({**section, "poll_initial_seconds": 0.5, "backoff": 0.01, **kw})


def test_report_structure_photometry_and_validation(data):
    table_path, clean = data
    df = Table.read(table_path).to_pandas()
    epochs = read_epochs([clean], df["objectid"])
    report = build_at_report(df, epochs, SETTINGS, since_mjd={101: EVENT, 202: EVENT, 303: EVENT})
    assert validate_at_report(report) == []
    entries = report["at_report"]
    assert sorted(entries) == ["0", "1", "2"]
    first = entries["0"]
    # object 101 has g epochs from 20 d before the event: discovery is its first epoch after the event (r, +1 d)
    groups = first["photometry"]["photometry_group"]
    assert first["discovery_datetime"] == groups["0"]["obsdate"] == "2023-02-26 00:00:00.000"
    assert groups["0"]["filter_value"] == "111" and groups["0"]["flux_units"] == "1"
    assert {g["filter_value"] for g in entries["1"]["photometry"]["photometry_group"].values()} == {
        "111",
        "112",
    }
    assert {g["filter_value"] for g in entries["2"]["photometry"]["photometry_group"].values()} == {"110"}
    brightest = min(float(g["flux"]) for g in groups.values())
    assert brightest == pytest.approx(18.6)  # the r peak (19.0 - 0.4) is among the points
    assert (
        first["non_detection"]["archiveid"] == "0"
        and "detections only" in first["non_detection"]["archival_remarks"]
    )
    assert entries["1"]["ra"] == {"value": "359.990000", "error": "0.5", "units": "arcsec"}
    assert first["reporting_group_id"] == "42" and first["internal_name"] == "ZTFDR101"

    broken = copy.deepcopy(report)
    del broken["at_report"]["0"]["photometry"]
    broken["at_report"]["1"]["dec"]["value"] = "-95.0"
    broken["at_report"]["2"]["discovery_datetime"] = "yesterday"
    broken["at_report"]["2"]["non_detection"] = {"comments": "none"}
    problems = "\n".join(validate_at_report(broken))
    assert "at_report/0: 'photometry' is a required property" in problems
    assert "at_report/1/dec/value: -95.0 is outside [-90, 90]" in problems
    assert "at_report/2/discovery_datetime" in problems and "at_report/2/non_detection" in problems
    with pytest.raises(InputError, match="reporter is empty"):
        build_at_report(df, epochs, _report(reporting_group_id=42))
    with pytest.raises(InputError, match="reporting_group_id is not set"):
        build_at_report(df, epochs, _report(reporter="me"))


def test_three_candidates_round_trip_through_the_fake_tns(data, tmp_path, monkeypatch, caplog, capsys):
    table_path, clean = data
    monkeypatch.setenv("TNS_API_KEY", KEY)
    fake = FakeTNSBulk(KEY, pending_polls=2)
    sleeps: list[float] = []
    caplog.set_level(logging.DEBUG)
    with fake as url:
        outcome = report_candidates(
            table_path, [clean], tmp_path / "at_report.json", SETTINGS, top_n=3,
            send=_send(url), reply_output=tmp_path / "outcome.json", sleep=sleeps.append,
        )  # fmt: skip
    written = json.loads((tmp_path / "at_report.json").read_text())
    assert list(fake.reports.values()) == [written]  # what TNS received is the file, unchanged
    assert [r["objname"] for r in outcome["results"]] == ["2026aaa", "2026aab", "2026aac"]
    assert json.loads((tmp_path / "outcome.json").read_text())["report_id"] == outcome["report_id"]
    assert sleeps == [0.5, 1.0]  # two "not processed yet" replies, backoff doubling
    assert fake.polls[outcome["report_id"]] == 3
    assert set(fake.agents) == {'tns_marker{"tns_id": 4242, "type": "bot", "name": "skysift_test"}'}
    assert all(f"api_key={KEY}" in body for body in fake.bodies)
    out = capsys.readouterr()
    leaked = caplog.text + out.out + out.err + (tmp_path / "outcome.json").read_text()
    assert KEY not in leaked and KEY not in (tmp_path / "at_report.json").read_text()


def test_rejected_report_shows_the_replys_messages(data, monkeypatch):
    table_path, clean = data
    monkeypatch.setenv("TNS_API_KEY", KEY)
    df = Table.read(table_path).to_pandas()
    epochs = read_epochs([clean], df["objectid"])
    report = build_at_report(df, epochs, _report(reporting_group_id=7, reporter="me"))
    with FakeTNSBulk(KEY, pending_polls=0) as url, pytest.raises(TNSReportRejected) as err:
        send_report(report, _send(url), sleep=lambda s: None)
    assert "entry 0: reporting_group_id: unknown group id 7" in str(err.value)
    assert len(err.value.messages) == 3 and err.value.reply["id_message"] == "Bad request"


def test_not_sent_unless_asked_and_key_errors(data, tmp_path, monkeypatch):
    table_path, clean = data
    fake = FakeTNSBulk(KEY)
    with fake as url:
        outcome = report_candidates(table_path, [clean], tmp_path / "r.json", SETTINGS, objectids=[303])
        assert outcome == {"sent": False, "entries": 1} and not fake.bodies
        report = json.loads((tmp_path / "r.json").read_text())
        monkeypatch.delenv("TNS_API_KEY", raising=False)
        with pytest.raises(InputError, match="TNS_API_KEY"):
            send_report(report, _send(url))
        monkeypatch.setenv("TNS_API_KEY", "wrong-key")
        with pytest.raises(TNSError, match="HTTP 401"):
            send_report(report, _send(url))
        with pytest.raises(InputError, match="invalid TNS report"):
            send_report({"at_report": {}}, _send(url))
    with pytest.raises(InputError, match=r"objectid\(s\) \[999\]"):
        report_candidates(table_path, [clean], tmp_path / "r.json", SETTINGS, objectids=[999])


def test_cli_report_tns_sends_to_the_given_url(data, tmp_path, monkeypatch, capsys):
    table_path, clean = data
    monkeypatch.setenv("TNS_API_KEY", KEY)
    with FakeTNSBulk(KEY, pending_polls=0) as url:
        args = [str(table_path), str(tmp_path / "cli.json"), "--lightcurves", str(clean), "--objectid", "202"]
        args += ["--group-id", "42", "--reporter", "me", "--send", "--url", url, "--bot-id", "4242"]
        args += ["--bot-name", "skysift_test"]
        assert cli_main(["report-tns", *args]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["sent"] is True and printed["results"][0]["objname"] == "2026aaa"


def test_an_upload_whose_answer_is_lost_is_not_sent_again(data, monkeypatch):
    """TNS filed the report but the connection dropped before its answer: a resend would file it twice."""
    table_path, clean = data
    monkeypatch.setenv("TNS_API_KEY", KEY)
    df = Table.read(table_path).to_pandas()
    report = build_at_report(df, read_epochs([clean], df["objectid"]), SETTINGS)
    fake = FakeTNSBulk(KEY, drop_uploads=1)
    with fake as url, pytest.raises(TNSError) as err:
        send_report(report, _send(url, retries=5), sleep=lambda s: None)
    message = str(err.value)
    assert len(fake.reports) == 1 and len(fake.bodies) == 1  # one upload, never repeated
    assert "bulk-report: connection lost" in message and "not sent again" in message and KEY not in message
