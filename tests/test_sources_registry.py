"""The source registry: every source implements the protocol, and a new source is one module plus one
registry line (plus the schema enum) — through the library API and through the real workflow."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from skysift.config import SCHEMA_PATH, ConfigError, default_config, load_schema, validate_config
from skysift.io import InputError
from skysift.layout import dr_file_path, read_dr_files
from skysift.lightcurves import read_manifest
from skysift.sources import (
    EXECUTION_KEYS,
    SOURCES,
    Preparation,
    SourceSettings,
    batch_params,
    fetch_batch,
    get_source,
    job_settings,
    prepare_release,
    release_params,
    release_parent,
    resolve_fields,
)
from workflow_runner import ROOT, run_snakemake

#: A whole source in one module: sinusoids for the ZTF object ids of fetch.ids_file.
TOY_MODULE = '''
"""Source ``toy``: a sinusoid for every ZTF object id of fetch.ids_file (a test of the source protocol)."""

from pathlib import Path

import numpy as np
import pandas as pd

from skysift.sources.base import LightCurveSource, Preparation, converted_parent
from skysift.sources.convert import fields_of_objectids, read_ids, write_release
from skysift.sources.local import verify_batch
from skysift.sources.table import decode_objectids


def toy_fields(settings):
    return fields_of_objectids(read_ids(settings.fetch.ids_file))


def make_release(settings, release_root: Path):
    ids = read_ids(settings.fetch.ids_file)
    where = decode_objectids(ids)
    t = 58300.0 + 2.0 * np.arange(30)
    n = t.size
    return write_release(
        pd.DataFrame(
            {
                "objectid": np.repeat(ids, n),
                "filterid": np.repeat((ids // 10**11) % 10, n),
                "fieldid": np.repeat(where["fieldid"].to_numpy(), n),
                "rcid": np.repeat(where["rcid"].to_numpy(), n),
                "hmjd": np.tile(t, ids.size),
                "mag": 18.0 + 0.5 * np.sin(np.add.outer(ids % 7, t / 5.0)).ravel(),
                "magerr": np.full(ids.size * n, 0.05),
                "clrcoeff": np.zeros(ids.size * n),
                "catflags": np.zeros(ids.size * n, np.int32),
                "ra": np.repeat(10.0 + (ids % 100) * 1e-3, n),
                "dec": np.full(ids.size * n, 20.0),
            }
        ),
        release_root,
        settings.dr,
    )


SOURCE = LightCurveSource(
    name="toy",
    preparation=Preparation.CONVERT,
    online=False,
    release_keys=("fetch.ids_file",),
    batch_keys=(),
    fields=toy_fields,
    release_parent=converted_parent,
    fetch_batch=verify_batch,
    prepare=make_release,
    prepare_rule="make_toy_release",
    release_inputs=lambda settings: [settings.fetch.ids_file],
)
'''
#: Two fields, r band, CCD 1 quadrant 2 and CCD 3 quadrant 1.
TOY_IDS = [633201200000001, 633201200000002, 633203100000007, 1721201200000003]


def test_schema_enum_and_registry_name_the_same_sources():
    enum = load_schema(SCHEMA_PATH)["properties"]["source"]["enum"]
    assert list(SOURCES) == enum
    for name in SOURCES:
        source = get_source(name)
        assert source.name == name
        assert not set(source.release_keys + source.batch_keys) & set(EXECUTION_KEYS)
        config = default_config()
        for key in source.release_keys + source.batch_keys:  # every declared key exists in the schema
            node = config
            for part in key.split("."):
                node = node[part]
    with pytest.raises(ConfigError, match="unknown source 'nope'; known: demo, local"):
        get_source("nope")


def test_params_hold_result_keys_only():
    config = validate_config(
        {"source": "irsa_bulk", "fetch": {"fields": [633], "filters": ["r"]}}, SCHEMA_PATH
    )
    fast = validate_config(
        {
            "source": "irsa_bulk",
            "fetch": {
                "fields": [633],
                "filters": ["r"],
                "verify": "exists",
                "batch_size": 7,
                "http": {"timeout": 1},
            },
        },
        SCHEMA_PATH,
    )
    assert (
        batch_params(config)
        == batch_params(fast)
        == {
            "source": "irsa_bulk",
            "dr": "dr24",
            "fetch.bulk_url": config["fetch"]["bulk_url"],
            "fetch.filters": ["r"],
            "fetch.ccds": [],
        }
    )
    assert release_params(fast) == release_params(config)
    assert release_params(fast, "demo")["demo"] == dict(sorted(config["demo"].items()))
    # a job runs with its params' result keys and the config's execution settings
    settings = job_settings(batch_params(fast), fast)
    assert settings.fetch.filters == ["r"] and settings.fetch.verify == "exists"
    assert settings.fetch.http["timeout"] == 1 and settings.fetch.batch_size == 7


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """The toy source registered like a real one: its module importable and one registry line."""
    (tmp_path / "toy_source.py").write_text(TOY_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(SOURCES, "toy", "toy_source")  # the one registry line
    schema = load_schema(SCHEMA_PATH)
    schema["properties"]["source"]["enum"].append("toy")  # the schema enum
    (tmp_path / "ids.txt").write_text("\n".join(map(str, TOY_IDS)) + "\n")
    return schema


def test_a_new_source_is_one_module_and_one_registry_line(toy, tmp_path):
    config = validate_config(
        {
            "source": "toy",
            "fetch": {"ids_file": str(tmp_path / "ids.txt"), "cache_dir": str(tmp_path / "cache")},
        },
        toy,
    )
    settings = SourceSettings.from_config(config)
    assert resolve_fields(settings) == [633, 1721]
    root = Path(release_parent(settings, "unused")) / settings.dr
    assert root == tmp_path / "cache" / "toy" / "dr24"
    prepare_release(settings, root)
    manifest = tmp_path / "field000633.tsv"
    files = fetch_batch(settings, root, 633, manifest)
    assert read_manifest(manifest) == files
    assert [f.relative_to(root).as_posix() for f in files] == [
        dr_file_path("dr24", 633, 2, 1, 2),
        dr_file_path("dr24", 633, 2, 3, 1),
    ]
    table = read_dr_files(files)
    assert sorted(table.column("objectid").to_pylist()) == TOY_IDS[:3]
    assert set(table.column("nepochs").to_pylist()) == {30}
    assert np.all(np.diff(table.column("hmjd")[0].values.to_numpy()) > 0)
    # the batch is verified like any release: a damaged file is refused
    data = bytearray(files[0].read_bytes())
    data[-20] ^= 0xFF
    files[0].write_bytes(bytes(data))
    with pytest.raises(InputError, match="does not match checksum.md5"):
        fetch_batch(settings, root, 633, manifest)
    assert release_params(config) == {
        "source": "toy",
        "dr": "dr24",
        "fetch.ids_file": str(tmp_path / "ids.txt"),
    }
    assert get_source("toy").preparation is Preparation.CONVERT


@pytest.mark.workflow
@pytest.mark.e2e
def test_a_new_source_runs_in_the_workflow(tmp_path):
    """A copy of this checkout with the toy module, its registry line and the enum value runs to clean."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".snakemake")
    for name in ("Snakefile", "workflow", "src", "profiles", "envs", "config"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, checkout / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(source, checkout / name)
    (checkout / "src/skysift/sources/toy.py").write_text(TOY_MODULE)
    registry = checkout / "src/skysift/sources/registry.py"
    line = '    "table": "skysift.sources.table",\n'
    assert line in registry.read_text()
    registry.write_text(registry.read_text().replace(line, line + '    "toy": "skysift.sources.toy",\n'))
    schema = checkout / "workflow/schemas/config.schema.yaml"
    enum = "enum: [demo, local, irsa_bulk, irsa_api, snad, hats, table]"
    assert enum in schema.read_text()
    schema.write_text(schema.read_text().replace(enum, enum[:-1] + ", toy]"))

    workdir = tmp_path / "run"
    workdir.mkdir()
    (workdir / "ids.txt").write_text("\n".join(map(str, TOY_IDS)) + "\n")
    config = {"source": "toy", "fetch": {"ids_file": "ids.txt"}, "clean": {"min_epochs": 5}}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    target = "results/clean/field001721.parquet"
    snakefile = checkout / "Snakefile"
    dry = run_snakemake(workdir, "--cores", "1", "-n", target, snakefile=snakefile)
    assert "make_toy_release" in dry.stdout and "fetch_lightcurves" in dry.stdout
    run_snakemake(workdir, "--cores", "1", target, snakefile=snakefile)
    assert (workdir / "results/mirror/toy/dr24/checksum.md5").exists()
    assert "light curves" in (workdir / "logs/make_toy_release.log").read_text()
    clean = pq.read_table(workdir / target)
    assert clean.column("objectid").to_pylist() == [TOY_IDS[3]]


def test_demo_source_simulates_verifies_and_brings_its_catalogs(tmp_path):
    demo = {"n_objects": 60, "fields": [633], "ccds": [1], "quadrants": [1, 2]}
    settings = SourceSettings.from_config(validate_config({"demo": demo}, SCHEMA_PATH))
    assert resolve_fields(settings) == [633]
    parent = Path(release_parent(settings, str(tmp_path / "demo")))
    assert parent == tmp_path / "demo"
    summary = prepare_release(settings, parent / "dr24")
    files = fetch_batch(settings, parent / "dr24", 633, tmp_path / "field000633.tsv")
    assert sorted(f.relative_to(parent / "dr24").as_posix() for f in files) == sorted(summary["files"])
    catalogs = get_source("demo").catalogs(str(parent))
    assert sorted(catalogs) == ["simbad", "tns", "vsx"]
    assert all(Path(spec["path"]).exists() for spec in catalogs.values())
    other = SourceSettings.from_config(
        validate_config({"demo": demo, "fetch": {"fields": [634]}}, SCHEMA_PATH)
    )
    with pytest.raises(InputError, match=r"fetch.fields \[634\] are not simulated; add them to demo.fields"):
        resolve_fields(other)
