"""Configuration: validation against the JSON schema (with defaults), typed settings, and the Markdown reference.

The workflow's ``common.smk`` calls :func:`validate_config`; so can a Python user who runs
stages without Snakemake. Errors name the dotted key (``clean.max_magerr``) and what was
wrong, all at once, instead of the first one only.

Defaults live only in the schema (``workflow/schemas/config.schema.yaml``, shipped in the package as
``skysift/config.schema.yaml``). Each stage reads its section as a frozen dataclass built with
:func:`settings_from` from a *validated* section; a Python user gets every default with
:func:`default_config`::

    from skysift.config import default_config
    from skysift.lightcurves import CleanConfig

    cuts = CleanConfig.from_config(default_config()["clean"])
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
import yaml
from jsonschema import Draft202012Validator, validators

__all__ = [
    "SCHEMA_PATH",
    "ConfigError",
    "load_schema",
    "validate_config",
    "coerce_strings",
    "load_config",
    "default_config",
    "settings_from",
    "SectionSettings",
    "own_keys",
    "validate_section",
    "schema_markdown",
]

#: The config schema shipped with the package (the workflow validates against the same file).
SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")

T = TypeVar("T")


class ConfigError(ValueError):
    """The configuration does not follow the schema; the message lists every offending key."""


def load_schema(path: str | Path) -> dict:
    """Read the YAML/JSON schema file."""
    with open(path) as fh:
        return yaml.safe_load(fh)


def _with_defaults(validator_class):
    """A validator that fills in ``default`` values while validating (the jsonschema FAQ recipe)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


def _key_path(error: jsonschema.ValidationError) -> str:
    """Dotted key path of an error, e.g. ``clean.max_magerr`` or ``demo.fields[2]``."""
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    """One line per error: the key and what is wrong with it."""
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        where = _key_path(error)
        prefix = "" if where == "<top level>" else where + "."
        keys = ", ".join(prefix + k for k in extra)
        hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {keys}{hint}"
    if error.validator in ("oneOf", "anyOf"):
        options = " or ".join(_alternative(option) for option in error.validator_value)
        return f"{_key_path(error)}: {error.instance!r} is not valid: expected {options}"
    return f"{_key_path(error)}: {error.message}"


def _alternative(schema: Mapping) -> str:
    """One alternative of a oneOf/anyOf, in words: ``'auto'``, ``a number > 0 and < 1``."""
    if "enum" in schema:
        return " or ".join(repr(v) for v in schema["enum"])
    kind = schema.get("type", "value")
    kind = " or ".join(kind) if isinstance(kind, list) else kind
    bounds = [
        f"{sign} {schema[key]}"
        for key, sign in (
            ("minimum", ">="),
            ("exclusiveMinimum", ">"),
            ("maximum", "<="),
            ("exclusiveMaximum", "<"),
        )
        if key in schema
    ]
    return f"a {kind}" + (f" {' and '.join(bounds)}" if bounds else "")


_NULLS = ("null", "Null", "NULL", "~")
_BOOLEANS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def _schema_types(schema: Mapping) -> set[str]:
    """The JSON types a schema node accepts (``type``, or the union over ``oneOf``/``anyOf``)."""
    kind = schema.get("type")
    types = set(kind if isinstance(kind, list) else [kind] if kind else [])
    for alternative in [*schema.get("oneOf", []), *schema.get("anyOf", [])]:
        types |= _schema_types(alternative)
    return types


def _coerce_scalar(value: str, types: set[str]) -> Any:
    """A string as the schema's scalar type: ``--config`` hands nested values over as strings."""
    if "null" in types and value in _NULLS:
        return None
    if "string" in types or not types:
        return value
    if "boolean" in types and value.lower() in _BOOLEANS:
        return _BOOLEANS[value.lower()]
    for kind, parse in (("integer", int), ("number", float)):
        if kind in types:
            try:
                return parse(value)
            except ValueError:
                pass
    return value


def coerce_strings(config: Any, schema: Mapping) -> Any:
    """Turn strings into the numbers, booleans and nulls the schema asks for, in place where possible.

    Snakemake's ``--config key=value`` parses nested values with YAML's BaseLoader, so
    ``--config 'fetch={"http": {"timeout": 30}}'`` arrives as ``{"http": {"timeout": "30"}}``; the schema
    knows the type, so the value is converted before validation (a string that does not parse stays a
    string, and validation names the key).
    """
    if isinstance(config, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, value in config.items():
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                config[key] = coerce_strings(value, sub)
        return config
    if isinstance(config, list):
        items = schema.get("items")
        return [coerce_strings(v, items) for v in config] if isinstance(items, dict) else config
    if isinstance(config, str):
        types = _schema_types(schema)
        if "string" in types and not _free_string(schema, config):
            types.discard("string")  # e.g. aad_budget "0.03": not the enum's "auto", so a number
        return _coerce_scalar(config, types)
    return config


def _free_string(schema: Mapping, value: str) -> bool:
    """Whether a string alternative of ``schema`` takes ``value`` as it is (a string without an enum, or
    one whose enum lists it)."""
    alternatives = [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]
    for alternative in alternatives:
        kind = alternative.get("type")
        takes_strings = kind == "string" or (isinstance(kind, list) and "string" in kind)
        if takes_strings and ("enum" not in alternative or value in alternative["enum"]):
            return True
    return False


def validate_config(config: dict, schema: dict | str | Path) -> dict:
    """Validate ``config`` in place, fill in defaults, and return it; raise ConfigError on any error.

    Strings where the schema wants numbers, booleans or null are converted first (see
    :func:`coerce_strings`: command-line overrides arrive as strings).
    """
    if not isinstance(schema, dict):
        schema = load_schema(schema)
    if config is None:
        config = {}
    coerce_strings(config, schema)
    validator = _with_defaults(Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = "\n".join(f"  - {_describe(e)}" for e in errors)
        raise ConfigError(f"invalid configuration:\n{lines}")
    _check_combinations(config)
    return config


def _check_combinations(config: dict) -> None:
    """Keys that are valid alone but not together (the schema checks one key at a time)."""
    classify, features = config.get("classify"), config.get("features")
    if (
        isinstance(classify, dict)
        and isinstance(features, dict)
        and classify.get("unit") == "source"
        and features.get("colours") is False
    ):
        raise ConfigError(
            "invalid configuration:\n  - classify.unit: source needs features.colours: true "
            "(the association of each source's g and r objectids); set both"
        )


def load_config(path: str | Path, schema: dict | str | Path = SCHEMA_PATH) -> dict:
    """Read a YAML config file and validate it (with defaults)."""
    with open(path) as fh:
        config = yaml.safe_load(fh) or {}
    try:
        return validate_config(config, schema)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


@functools.cache
def _default_config_cached() -> str:
    """The schema's defaults as YAML text (parsed afresh by each caller, so nobody shares a mutable dict)."""
    return yaml.safe_dump(validate_config({}, SCHEMA_PATH))


def default_config() -> dict:
    """The whole configuration with every schema default: what a run with an empty config file uses."""
    return yaml.safe_load(_default_config_cached())


def settings_from(cls: type[T], section: Mapping[str, Any], key: str) -> T:
    """Build the frozen settings dataclass ``cls`` from a validated config section.

    Every field must be present (defaults come from the schema, see :func:`default_config`); unknown
    keys and missing keys raise a ConfigError naming ``key.<name>``. Fields typed as another settings
    dataclass are built recursively from their sub-section.
    """
    if not isinstance(section, Mapping):
        raise ConfigError(f"{key}: expected a mapping, got {type(section).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(section) - set(fields))
    missing = sorted(name for name, f in fields.items() if name not in section and _required(f))
    if unknown or missing:
        problems = [f"unknown key(s) {', '.join(f'{key}.{n}' for n in unknown)}"] if unknown else []
        if missing:
            problems.append(
                f"missing key(s) {', '.join(f'{key}.{n}' for n in missing)} "
                "(validate the config first: defaults come from the schema)"
            )
        raise ConfigError("; ".join(problems))
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in section.items():
        sub = _dataclass_of(hints.get(name))
        values[name] = (
            settings_from(sub, value, f"{key}.{name}") if sub and isinstance(value, Mapping) else value
        )
    return cls(**values)


S = TypeVar("S", bound="SectionSettings")


class SectionSettings:
    """Base of a frozen settings dataclass read from one config section: ``from_config`` lives here once.

    A subclass names its section in ``config_key`` (dotted, as errors name it) and sets ``shared_section``
    when the section also holds other settings' keys: it is then built from its own fields' keys only.
    """

    config_key: typing.ClassVar[str] = ""
    shared_section: typing.ClassVar[bool] = False

    @classmethod
    def from_config(cls: type[S], section: Mapping[str, Any]) -> S:
        """Build from the validated section (see :func:`settings_from`)."""
        if cls.shared_section and isinstance(section, Mapping):
            section = own_keys(cls, section)
        return settings_from(cls, section, cls.config_key)


def own_keys(cls: type, section: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of ``section`` that are fields of the dataclass ``cls``: what a rule passes as ``params``."""
    return {f.name: section[f.name] for f in dataclasses.fields(cls) if f.name in section}


@functools.cache
def _packaged_schema() -> dict:
    """The packaged schema, parsed once per process (parsing it costs ~0.1-0.5 s)."""
    return load_schema(SCHEMA_PATH)


def validate_section(name: str, section: Mapping[str, Any] | None) -> dict:
    """One top-level config section validated against the packaged schema, keys left out taking its defaults.

    For Python callers that give only what differs (``CleanConfig.from_config({"min_epochs": 5})``);
    errors name ``<name>.<key>``. ``section`` is not modified.
    """
    schema = {"type": "object", "properties": {name: _packaged_schema()["properties"][name]}}
    return validate_config({name: copy.deepcopy(dict(section or {}))}, schema)[name]


def _required(field: dataclasses.Field) -> bool:
    """A field without its own default (settings dataclasses normally have none)."""
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _dataclass_of(hint: Any) -> type | None:
    """The dataclass in a type hint (``X`` or ``X | None``), else None."""
    if dataclasses.is_dataclass(hint):
        return hint
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        found = [a for a in typing.get_args(hint) if dataclasses.is_dataclass(a)]
        return found[0] if len(found) == 1 else None
    return None


def _type_name(schema: dict) -> str:
    """Short type description for the Markdown table."""
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if "oneOf" in schema:
        return " or ".join(_type_name(s) for s in schema["oneOf"])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array" and "items" in schema:
        return f"list of {_type_name(schema['items'])}"
    return str(kind)


def _rows(schema: dict, prefix: str) -> list[tuple[str, str, str, str]]:
    """(key, type, default, description) rows of every key, depth first."""
    rows = []
    for name, sub in schema.get("properties", {}).items():
        key = f"{prefix}{name}"
        default = sub.get("default", "")
        default_text = (
            "" if default == {} else f"`{yaml.safe_dump(default, default_flow_style=True).strip()}`"
        )
        default_text = default_text.replace("`...`", "").replace("\n...", "")
        description = " ".join(str(sub.get("description", "")).split())
        if sub.get("type") == "object" and "properties" in sub:
            rows.append((key, "section", "", description))
            rows.extend(_rows(sub, key + "."))
        else:
            rows.append((key, _type_name(sub), default_text, description))
            extra = sub.get("additionalProperties")
            if isinstance(extra, dict) and "properties" in extra:
                rows.extend(_rows(extra, key + ".<name>."))
    return rows


def schema_markdown(schema: dict | str | Path) -> str:
    """The config reference as Markdown (config/README.md is generated from this)."""
    if not isinstance(schema, dict):
        schema = load_schema(schema)
    lines = [
        "# Configuration reference",
        "",
        "Generated from `workflow/schemas/config.schema.yaml` by `skysift config-doc`; do not edit by hand.",
        "Every key is optional: the defaults below apply. Unknown keys are errors.",
        "",
        "| key | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for key, kind, default, description in _rows(schema, ""):
        escaped = description.replace("|", "\\|")
        lines.append(f"| `{key}` | {kind} | {default} | {escaped} |")
    return "\n".join(lines) + "\n"


def get(config: dict, dotted: str) -> Any:
    """``get(config, "clean.min_epochs")``: a value by dotted key (KeyError names the key)."""
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise KeyError(f"config key {dotted!r} not found")
        node = node[part]
    return node
