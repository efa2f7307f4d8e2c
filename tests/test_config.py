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
    import dataclasses

    from skysift.simulate import DemoSettings

    params = {f.name for f in dataclasses.fields(DemoSettings)}
    assert set(validate_config({}, SCHEMA)["demo"]) == params


def test_command_line_strings_become_the_schema_types():
    # what `snakemake --config 'fetch={"http": {"timeout": 30}}' demo='{n_objects: 500}'` hands over
    config = {"fetch": {"http": {"timeout": "30"}, "local_path": "null"}, "demo": {"n_objects": "500"}}
    config["tns_send"] = "true"
    validated = validate_config(config, SCHEMA)
    assert validated["fetch"]["http"]["timeout"] == 30.0
    assert validated["fetch"]["local_path"] is None
    assert validated["demo"]["n_objects"] == 500 and isinstance(validated["demo"]["n_objects"], int)
    assert validated["tns_send"] is True


def test_a_number_or_keyword_key_takes_either_and_names_both_when_wrong():
    """anomaly.aad_budget is 'auto' or a fraction: from the command line ("0.03") it is a number, and a
    wrong value names the key and both alternatives."""
    assert validate_config({"anomaly": {"aad_budget": "0.03"}}, SCHEMA)["anomaly"]["aad_budget"] == 0.03
    assert validate_config({"anomaly": {"aad_budget": "auto"}}, SCHEMA)["anomaly"]["aad_budget"] == "auto"
    with pytest.raises(
        ConfigError, match=r"anomaly\.aad_budget: 1\.5 is not valid: expected 'auto' or a number > 0 and < 1"
    ):
        validate_config({"anomaly": {"aad_budget": 1.5}}, SCHEMA)


def test_a_string_that_is_no_number_is_still_named():
    with pytest.raises(ConfigError, match="demo.n_objects: 'many' is not of type 'integer'"):
        validate_config({"demo": {"n_objects": "many"}}, SCHEMA)


def test_typed_settings_need_every_key_and_refuse_unknown_ones():
    import dataclasses

    from skysift.config import default_config, settings_from

    @dataclasses.dataclass(frozen=True)
    class Cuts:
        min_epochs: int
        max_magerr: float

    assert settings_from(Cuts, {"min_epochs": 3, "max_magerr": 0.5}, "clean") == Cuts(3, 0.5)
    with pytest.raises(ConfigError, match=r"unknown key\(s\) clean.oops; missing key\(s\) clean.max_magerr"):
        settings_from(Cuts, {"min_epochs": 3, "oops": 1}, "clean")
    defaults = default_config()
    assert defaults["clean"]["min_epochs"] == 10
    defaults["clean"]["min_epochs"] = 1  # a fresh copy each call: nobody shares the defaults
    assert default_config()["clean"]["min_epochs"] == 10
