"""TNS bulk AT reports: built from DR light curves, validated, and delivered exactly once to a fake TNS on
127.0.0.1 that files what it receives -- under every fault injected, no object is ever reported twice."""

from __future__ import annotations

import copy
import json
import logging
import os
import signal
import subprocess
import sys
import time

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
    Ledger,
    ReportSettings,
    SendSettings,
    TNSExchange,
    TNSReportRejected,
    build_at_report,
    deliver_report,
    read_epochs,
    report_candidates,
    validate_at_report,
)
from workflow_runner import ROOT, run_snakemake

KEY = "tns-bulk-s3cr3t-0123456789abcdef"
EVENT = 60000.0
NAMES = ["ZTFDR101", "ZTFDR202", "ZTFDR303"]


def _table(path, **columns):
    """A candidate ECSV of objects 101, 202, 303 (one across RA = 0), with extra columns."""
    table = Table(
        {"objectid": [101, 202, 303], "ra": [150.1, 359.99, 10.0], "dec": [20.0, -5.0, 89.5], **columns},
        meta={"event_mjd": EVENT},
    )
    table["ra"].unit = table["dec"].unit = u.deg
    table.write(path, format="ascii.ecsv", overwrite=True)
    return path


@pytest.fixture
def data(tmp_path):
    """Three candidates with g/r/i DR epochs, as a candidate ECSV and a clean parquet."""
    lcs = []
    for oid, filterid, start in ((101, 1, -20), (101, 2, 1), (202, 2, 2), (202, 3, 3), (303, 1, 0.5)):
        hmjd = [EVENT + start + k for k in range(5)]
        mags = [19.0 - 0.2 * k if k < 3 else 18.8 + 0.3 * k for k in range(5)]
        lcs.append({"objectid": oid, "filterid": filterid, "hmjd": hmjd, "mag": mags, "magerr": [0.08] * 5})
    clean = write_parquet(make_dr_table(lcs), tmp_path / "field000633.parquet")
    return _table(tmp_path / "counterparts.ecsv"), clean


def _report(**kw) -> ReportSettings:
    """The schema's tns_report defaults with ``kw``."""
    return ReportSettings.from_config({**default_config()["tns_report"], **kw})


SETTINGS = _report(reporting_group_id=42, reporter="A. Astronomer, B. Bot (skysift)")


def _send(url: str, **kw) -> SendSettings:
    """The schema's tns_report defaults with the fake TNS, the test bot, fast polls and no rate limit."""
    section = {**default_config()["tns_report"], "url": url, "bot_id": 4242, "bot_name": "skysift_test"}
    fast = {"poll_initial_seconds": 0.5, "backoff": 0.01, "min_interval": 0, "timeout": 5}
    return SendSettings.from_config({**section, **fast, **kw})


def _deliver(data, tmp_path, url, sleeps=None, **kw):
    """report_candidates of the three candidates, sent to ``url`` with the ledger in tmp_path."""
    table_path, clean = data
    return report_candidates(
        table_path, [clean], tmp_path / "at_report.json", SETTINGS, top_n=3, send=_send(url, **kw),
        ledger=tmp_path / "sent.jsonl", reply_output=tmp_path / "outcome.json",
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
    )  # fmt: skip


def _sent_names(ledger_path, url) -> dict[str, str]:
    """internal name -> TNS name of every object the ledger records as sent to ``url``."""
    states = Ledger(ledger_path).states(url)
    return {name: s.sent["objname"] for name, s in states.items() if s.sent is not None}


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
    filters = [
        {g["filter_value"] for g in entries[k]["photometry"]["photometry_group"].values()} for k in "12"
    ]
    assert filters == [{"111", "112"}, {"110"}]
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


def test_three_candidates_round_trip_and_the_ledger(data, tmp_path, monkeypatch, caplog, capsys):
    monkeypatch.setenv("TNS_API_KEY", KEY)
    fake = FakeTNSBulk(KEY, pending_polls=2)
    sleeps: list[float] = []
    caplog.set_level(logging.DEBUG)
    with fake as url:
        outcome = _deliver(data, tmp_path, url, sleeps)
        written = json.loads((tmp_path / "at_report.json").read_text())
        searches = list(fake.searches)
        # a rerun sends nothing: every object is in the ledger of this TNS, which is not even asked
        fake.searches.clear()
        with pytest.raises(InputError, match="every selected candidate is refused") as err:
            _deliver(data, tmp_path, url)
        assert str(err.value).count("already sent to") == 3 and "as 2026aab" in str(err.value)
        assert len(fake.reports) == 1 and not fake.searches
    assert list(fake.reports.values()) == [written]  # what TNS received is the file, unchanged
    assert [r["objname"] for r in outcome["results"]] == ["2026aaa", "2026aab", "2026aac"]
    assert json.loads((tmp_path / "outcome.json").read_text())["report_id"] == outcome["report_id"]
    assert sleeps == [0.5, 1.0]  # two "not processed yet" replies, backoff doubling
    assert fake.polls[outcome["report_id"]] == 3
    # before sending, TNS was asked about each object: by internal name, then by position
    assert [q.get("internal_name") for q in searches[::2]] == NAMES
    assert all("ra" in q and q["radius"] == "3" for q in searches[1::2])
    assert set(fake.agents) == {'tns_marker{"tns_id": 4242, "type": "bot", "name": "skysift_test"}'}
    assert all(f"api_key={KEY}" in body for body in fake.bodies)
    # the ledger: upload (before the POST), accepted, one "sent" per object with the name TNS gave
    records = Ledger(tmp_path / "sent.jsonl").records()
    assert [r["event"] for r in records] == ["upload", "accepted", "sent", "sent", "sent"]
    assert records[1]["report_id"] == outcome["report_id"] and records[0]["url"] == url
    sent = _sent_names(tmp_path / "sent.jsonl", url)
    assert sent == dict(zip(NAMES, ["2026aaa", "2026aab", "2026aac"], strict=True))
    out = capsys.readouterr()
    leaked = caplog.text + out.out + out.err + (tmp_path / "outcome.json").read_text()
    leaked += (tmp_path / "sent.jsonl").read_text()
    assert KEY not in leaked and KEY not in (tmp_path / "at_report.json").read_text()
    # another TNS (the sandbox and the real one): what went to one does not count for the other
    other = FakeTNSBulk(KEY, pending_polls=0)
    with other as url2:
        assert len(_deliver(data, tmp_path, url2)["results"]) == 3
    assert url2 != url and len(other.reports) == 1


def test_rejected_entries_are_recorded_and_may_be_sent_again(data, tmp_path, monkeypatch):
    monkeypatch.setenv("TNS_API_KEY", KEY)
    table_path, clean = data
    bad = _report(reporting_group_id=7, reporter="me")
    with FakeTNSBulk(KEY, pending_polls=0) as url, pytest.raises(TNSReportRejected) as err:
        report_candidates(table_path, [clean], tmp_path / "r.json", bad, top_n=3, send=_send(url),
                          ledger=tmp_path / "sent.jsonl", sleep=lambda s: None)  # fmt: skip
    assert "entry 0: reporting_group_id: unknown group id 7" in str(err.value)
    assert len(err.value.messages) == 3 and err.value.reply["id_message"] == "Bad request"
    events = [r["event"] for r in Ledger(tmp_path / "sent.jsonl").records()]
    assert events == ["upload", "accepted", "rejected", "rejected", "rejected"]
    assert _sent_names(tmp_path / "sent.jsonl", url) == {}  # a refused entry is not "sent": fix and resend


def test_not_sent_unless_asked_and_key_errors(data, tmp_path, monkeypatch):
    table_path, clean = data
    fake = FakeTNSBulk(KEY)
    with fake as url:
        outcome = report_candidates(table_path, [clean], tmp_path / "r.json", SETTINGS, objectids=[303])
        assert outcome == {"sent": False, "entries": 1, "refused": []} and not fake.bodies
        report = json.loads((tmp_path / "r.json").read_text())
        monkeypatch.delenv("TNS_API_KEY", raising=False)
        with pytest.raises(InputError, match="TNS_API_KEY"):
            TNSExchange(_send(url))
        monkeypatch.setenv("TNS_API_KEY", "wrong-key")
        with pytest.raises(TNSError, match="HTTP 401"):
            deliver_report(TNSExchange(_send(url)), report, {"ZTFDR303": 303}, Ledger(tmp_path / "l.jsonl"))
        with pytest.raises(InputError, match="invalid TNS report"):
            deliver_report(TNSExchange(_send(url)), {"at_report": {}}, {}, Ledger(tmp_path / "l.jsonl"))
        with pytest.raises(InputError, match="bot_id is not set"):
            TNSExchange(_send(url, bot_id=None))
    with pytest.raises(InputError, match=r"objectid\(s\) \[999\]"):
        report_candidates(table_path, [clean], tmp_path / "r.json", SETTINGS, objectids=[999])


UPLOAD_FAULTS = {
    # received and filed, then the answer is lost: TNS must be asked, never sent twice
    "filed, connection dropped": {"upload_faults": ["file_then_drop"]},
    "filed, connection dropped, TNS slow to list it": {
        "upload_faults": ["file_then_drop"],
        "pending_searches": 4,
    },
    "filed, answer after the timeout": {"upload_faults": ["file_then_slow"], "slow_seconds": 1.5},
    "filed, HTTP 500": {"upload_faults": ["file_then_500"]},
    # not received: TNS lists none of them, so the upload is sent again (once)
    "connection dropped before filing": {"upload_faults": ["drop"]},
    "HTTP 500 without filing": {"upload_faults": ["500"]},
    "HTTP 503 (not processed)": {"upload_faults": ["503", "503"]},
    "lost twice, then filed and dropped": {"upload_faults": ["drop", "500", "file_then_drop"]},
    # reads that fail are retried
    "reply polls and searches cut": {
        "reply_faults": ["drop", "500", "503"],
        "search_faults": ["drop", "500"],
    },
}


@pytest.mark.parametrize("fault", list(UPLOAD_FAULTS))
def test_no_object_is_reported_twice_under_upload_faults(fault, data, tmp_path, monkeypatch):
    monkeypatch.setenv("TNS_API_KEY", KEY)
    fake = FakeTNSBulk(KEY, pending_polls=1, **UPLOAD_FAULTS[fault])
    with fake as url:
        outcome = _deliver(data, tmp_path, url, timeout=1.0)
        assert max(fake.uploads_per_internal_name().values()) == 1  # each object filed exactly once
        assert sorted(fake.uploads_per_internal_name()) == NAMES
        assert outcome["sent"] is True and [r["internal_name"] for r in outcome["results"]] == NAMES
        by_tns = {next(iter(o["internal_names"])): o["objname"] for o in fake.objects}
        assert _sent_names(tmp_path / "sent.jsonl", url) == by_tns  # the ledger holds TNS' names
        # and a rerun (or a second try by hand) sends nothing
        with pytest.raises(InputError, match="every selected candidate is refused"):
            _deliver(data, tmp_path, url)
    assert max(fake.uploads_per_internal_name().values()) == 1 and len(fake.reports) == 1


def test_an_unprocessed_report_is_asked_for_by_its_id_on_the_rerun(data, tmp_path, monkeypatch):
    monkeypatch.setenv("TNS_API_KEY", KEY)
    fake = FakeTNSBulk(KEY, pending_polls=5)
    with fake as url:
        with pytest.raises(TNSError, match="still unprocessed after 2 polls"):
            _deliver(data, tmp_path, url, poll_attempts=2)
        fake.pending_polls = 0  # TNS has processed it meanwhile
        with pytest.raises(InputError, match="every selected candidate is refused") as err:
            _deliver(data, tmp_path, url)
    assert "(report 1000; ledger)" in str(err.value) and len(fake.reports) == 1


def test_lost_answer_with_part_listed_sends_nothing_again(data, tmp_path, monkeypatch):
    """TNS filed the upload but refused one entry (unknown group): only two objects appear in its search."""
    monkeypatch.setenv("TNS_API_KEY", KEY)
    fake = FakeTNSBulk(KEY, upload_faults=["file_then_drop"], groups=(42,))
    table_path, clean = data
    df = Table.read(table_path).to_pandas()
    report = build_at_report(df, read_epochs([clean], df["objectid"]), SETTINGS)
    report["at_report"]["2"]["reporting_group_id"] = "7"
    ids = dict(zip(NAMES, [101, 202, 303], strict=True))
    with fake as url, pytest.raises(TNSError, match=r"lists 2 of its objects but not \['ZTFDR303'\]"):
        deliver_report(TNSExchange(_send(url, poll_attempts=2), sleep=lambda s: None), report, ids,
                       Ledger(tmp_path / "sent.jsonl"))  # fmt: skip
    assert len(fake.reports) == 1 and sorted(_sent_names(tmp_path / "sent.jsonl", url)) == NAMES[:2]


def test_refused_by_crossmatch_by_tns_and_forced(data, tmp_path, monkeypatch):
    """A catalogued long-period variable and a TNS-catalogued object are not reported; TNS knowing the
    position (another group's report) or the internal name refuses too; --force reports them all."""
    monkeypatch.setenv("TNS_API_KEY", KEY)
    table_path, clean = data
    _table(table_path, xmatch_catalog=["vsx", "tns", "simbad"], xmatch_name=["ASASSN-V J1", "2024abc", "Gaia"],
           xmatch_type=["M", "SN Ia", "*"], xmatch_label=["lpv", "snia", ""])  # fmt: skip
    built = report_candidates(table_path, [clean], tmp_path / "r.json", SETTINGS, top_n=3)
    assert [r["objectid"] for r in built["refused"]] == [101, 202] and built["entries"] == 1
    assert "catalogued as lpv by vsx 'ASASSN-V J1' (type 'M')" in built["refused"][0]["why"]
    assert "already in the TNS catalog: tns '2024abc'" in built["refused"][1]["why"]
    assert [
        e["internal_name"] for e in json.loads((tmp_path / "r.json").read_text())["at_report"].values()
    ] == ["ZTFDR303"]
    known = [{"objname": "2025xyz", "ra": 10.0, "dec": 89.5 + 1.0 / 3600, "internal_names": ["ATLAS25x"]}]
    with (
        FakeTNSBulk(KEY, known=known) as url,
        pytest.raises(InputError, match="every selected candidate") as err,
    ):
        _deliver(data, tmp_path, url)
    assert "TNS already lists AT 2025xyz within 3 arcsec" in str(err.value)
    known = [{"objname": "2025old", "ra": 0, "dec": 0, "internal_names": ["ZTFDR303"]}]  # sent from elsewhere
    with (
        FakeTNSBulk(KEY, known=known) as url,
        pytest.raises(InputError, match="TNS lists ZTFDR303 as 2025old"),
    ):
        _deliver(data, tmp_path, url)
    assert _sent_names(tmp_path / "sent.jsonl", url) == {"ZTFDR303": "2025old"}  # recorded in the ledger
    fake = FakeTNSBulk(KEY, pending_polls=0)
    with fake as url:
        outcome = report_candidates(table_path, [clean], tmp_path / "f.json", SETTINGS, top_n=3, force=True,
                                    send=_send(url), ledger=tmp_path / "sent.jsonl")  # fmt: skip
    assert outcome["refused"] == [] and len(outcome["results"]) == 3 and not fake.searches


def test_ledger_survives_a_cut_line_refuses_damage_and_a_second_sender(tmp_path):
    path = tmp_path / "sent.jsonl"
    ledger = Ledger(path)
    ledger.append(
        "sent", "u", report_id="1", objectid=1, internal_name="ZTFDR1", objname="2026aaa", how="reply"
    )
    with open(path, "ab") as fh:
        fh.write(b'{"event": "upload", "url": "u", "objects": [{"intern')  # killed while writing
    assert [r["event"] for r in ledger.records()] == ["sent"]
    ledger.append(
        "sent", "u", report_id="2", objectid=2, internal_name="ZTFDR2", objname="2026aab", how="reply"
    )
    assert sorted(ledger.states("u")) == ["ZTFDR1", "ZTFDR2"]  # the next record starts on its own line
    lines = path.read_text().splitlines()
    assert len(lines) == 2  # the cut line is gone
    path.write_text("\n".join([lines[0], "garbage", lines[1]]) + "\n")
    with pytest.raises(InputError, match=r"sent.jsonl:2: not a ledger record; the ledger is damaged"):
        ledger.records()
    with (
        ledger.locked(),
        pytest.raises(InputError, match="another `skysift report-tns --send` is using"),
        Ledger(path).locked(),
    ):
        pass


KILL_SCRIPT = """
import sys
from skysift.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _cli_args(data, tmp_path, url) -> list[str]:
    table_path, clean = data
    args = [str(table_path), str(tmp_path / "cli.json"), "--lightcurves", str(clean), "--top-n", "3"]
    args += ["--group-id", "42", "--reporter", "me", "--send", "--url", url, "--bot-id", "4242"]
    return args + ["--bot-name", "skysift_test", "--ledger", str(tmp_path / "sent.jsonl")]


def test_send_killed_during_the_upload_is_not_sent_again(data, tmp_path, monkeypatch, capsys):
    """SIGKILL `skysift report-tns --send` while TNS holds its upload; the rerun asks TNS and sends nothing."""
    monkeypatch.setenv("TNS_API_KEY", KEY)
    fake = FakeTNSBulk(KEY, upload_faults=["file_then_slow"], slow_seconds=60, pending_polls=0)
    config = tmp_path / "config.yaml"
    config.write_text("tns_report: {min_interval: 0, poll_initial_seconds: 0.1, backoff: 0.01}\n")
    with fake as url:
        args = _cli_args(data, tmp_path, url) + ["--config", str(config)]
        proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, "report-tns", *args],
                                env={**os.environ, "PYTHONPATH": str(ROOT / "src")})  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not fake.reports:
                assert time.monotonic() < deadline and proc.poll() is None, "the upload never arrived"
                time.sleep(0.05)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert [r["event"] for r in Ledger(tmp_path / "sent.jsonl").records()] == ["upload"]
        assert cli_main(["report-tns", *args]) == 2  # everything refused: TNS lists them
    err = capsys.readouterr().err
    assert "every selected candidate is refused" in err and err.count("found by a search") == 3
    assert len(fake.reports) == 1 and max(fake.uploads_per_internal_name().values()) == 1


def test_cli_report_tns_sends_to_the_given_url(data, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TNS_API_KEY", KEY)
    config = tmp_path / "config.yaml"
    config.write_text(
        "tns_report: {min_interval: 0, reporter: from the config, poll_attempts: 2, poll_initial_seconds: 0.01}\n"
    )
    with FakeTNSBulk(KEY, pending_polls=0) as url:
        args = _cli_args(data, tmp_path, url)
        args = [a for a in args if a not in ("3", "--top-n", "me", "--reporter")] + ["--objectid", "202"]
        assert cli_main(["report-tns", *args, "--config", str(config)]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert printed["sent"] is True and printed["results"][0]["objname"] == "2026aaa"
        report = json.loads((tmp_path / "cli.json").read_text())
        assert report["at_report"]["0"]["reporter"] == "from the config"
        assert cli_main(["report-tns", *args]) == 2  # sent already
        assert "ZTFDR202" in capsys.readouterr().err
    with FakeTNSBulk(KEY, upload_faults=["drop"] * 5) as url:  # TNS never gets it: one line, exit 1
        args = _cli_args(data, tmp_path / "x", url)
        os.makedirs(tmp_path / "x")
        assert cli_main(["report-tns", *args, "--config", str(config)]) == 1
    assert "TNS lists none of its objects after asking, 4 upload(s) tried" in capsys.readouterr().err


def test_the_workflow_never_sends(tmp_path):
    """tns_send=true stops the run with a message that says how to send."""
    (tmp_path / "config.yaml").write_text("demo: {n_objects: 200, fields: [633]}\n")
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", "--config", "tns_send=true", check=False)
    assert proc.returncode != 0
    assert "skysift report-tns --send" in proc.stdout + proc.stderr
    rule = (ROOT / "workflow/rules/multimessenger.smk").read_text()
    script = (ROOT / "workflow/scripts/report_to_tns.py").read_text()
    assert "send" not in script.split('"""')[-1]  # the glue passes nothing about sending
    assert "TNSExchange" not in rule and "deliver" not in rule
