"""Config validation: defaults filled from the schema, every bad key named; the shipped files agree."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from skysift.config import ConfigError, load_config, schema_markdown, validate_config

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def test_defaults_fill_nested_sections():
    config = validate_config({}, SCHEMA)
    assert config["source"] == "demo"
    assert config["clean"]["min_epochs"] == 10
    assert config["dask"]["mode"] == "local"
    assert config["demo"]["fields"] == [633, 634, 1721]


def test_unknown_and_wrong_keys_are_all_named():
    with pytest.raises(ConfigError) as err:
        validate_config({"clean": {"max_magerror": 1, "min_epochs": "ten"}, "sourse": "demo"}, SCHEMA)
    message = str(err.value)
    assert "unknown key clean.max_magerror" in message
    assert "clean.min_epochs: 'ten' is not of type 'integer'" in message
    assert "unknown key sourse" in message


def test_catalog_entries_are_validated():
    with pytest.raises(ConfigError, match=r"crossmatch.catalogs.vsx.radius_arcsec"):
        validate_config({"crossmatch": {"catalogs": {"vsx": {"path": "x", "radius_arcsec": 500}}}}, SCHEMA)


def test_shipped_config_is_valid_and_readme_is_current():
    config = load_config(ROOT / "config" / "config.yaml", SCHEMA)
    assert config["source"] == "demo"
    readme = (ROOT / "config" / "README.md").read_text()
    assert readme == schema_markdown(SCHEMA), "config/README.md is stale: run `skysift config-doc`"
    for key in ("clean.max_magerr", "dask.mode", "crossmatch.catalogs.<name>.radius_arcsec"):
        assert f"`{key}`" in readme


def test_every_schema_key_has_a_description():
    schema = yaml.safe_load(SCHEMA.read_text())

    def walk(node, path):
        for name, sub in node.get("properties", {}).items():
            if "description" not in sub and not path.endswith("<name>"):
                yield f"{path}.{name}".lstrip(".")
            yield from walk(sub, f"{path}.{name}")

    assert list(walk(schema, "")) == []


def test_demo_section_matches_the_simulator_parameters():
    import inspect

    from skysift.simulate import simulate_release

    params = set(inspect.signature(simulate_release).parameters) - {"root", "dr"}
    assert set(validate_config({}, SCHEMA)["demo"]) == params
