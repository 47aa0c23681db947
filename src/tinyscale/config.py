"""Load and validate a tinyscale config against its JSON schema, filling defaults from it.

The schema (config.schema.yaml, shipped inside the package) is the one source of defaults.
Errors name the offending key, the value and what is allowed. Keys the schema marks
`operational` cannot change a run's weights; `science()` drops them, so the workflow's
rerun triggers see only what can.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from functools import cache
from pathlib import Path

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")


class ConfigError(ValueError):
    """A config that does not match the schema; the message names the key and the fix."""


def _with_defaults(validator_class):
    """A validator that also writes each property's schema default into the instance."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft7Validator)


@cache
def schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text())


def _describe(error: jsonschema.ValidationError) -> str:
    key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    if error.validator == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return f"config key '{key}' is {error.instance!r}; allowed values: {allowed}"
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown config key(s) {extra} under '{key}'; allowed keys: {allowed}"
    if error.validator == "required":
        return f"config section '{key}' is missing a required key: {error.message}"
    return f"config key '{key}' is {error.instance!r}: {error.message}"


def load_plugins(config: dict) -> None:
    """Import the config's plugin files (each registers families, datasets or studies), once."""
    for path in config.get("plugins") or []:
        name = "tinyscale_plugin_" + Path(path).stem
        if name in sys.modules:
            continue
        if not Path(path).is_file():
            raise ConfigError(f"config key 'plugins': no file {path!r} (paths are relative to the working directory)")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)


def _check_registries(config: dict) -> list[str]:
    from . import datasets, families, studies

    errors = []
    if config["data"]["dataset"] not in datasets.DATASETS:
        errors.append(f"config key 'data.dataset' is {config['data']['dataset']!r}; allowed values: "
                      + ", ".join(repr(d) for d in datasets.DATASETS))
    for name, widths in config["models"].items():
        if name not in families.FAMILIES:
            errors.append(f"config key 'models' names the unknown family {name!r}; registered families: "
                          + ", ".join(repr(f) for f in families.FAMILIES))
            continue
        for w in widths:
            try:
                families.get(name).format_width(w)
            except ValueError as exc:
                errors.append(f"config key 'models.{name}': {exc}")
    if not any(config["models"].values()):
        errors.append("config key 'models': list at least one width for one family")
    for name in config["studies"]:
        if name not in studies.STUDIES:
            errors.append(f"config key 'studies' names the unknown study {name!r}; registered: {', '.join(studies.STUDIES)}")
    return errors


def validate_config(config: dict) -> dict:
    """Validate `config` in place (defaults filled in) and return it; raise ConfigError."""
    load_plugins(config)
    errors = sorted(_Validator(schema()).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(_describe(e) for e in errors))
    problems = _check_registries(config)
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
    return config


def load_config(path: str | Path) -> dict:
    """Read a YAML config file and validate it (defaults filled in)."""
    with open(path) as fh:
        config = yaml.safe_load(fh) or {}
    return validate_config(config)


def _node(key_path) -> dict:
    """The schema of one section, e.g. ('train',)."""
    node = schema()
    for key in key_path:
        node = node["properties"][key]
    return node


def science(section: dict, key_path: tuple[str, ...] = ()) -> dict:
    """`section` of a validated config without the keys the schema marks operational."""
    props = _node(key_path).get("properties", {})
    return {k: v for k, v in section.items() if not props.get(k, {}).get("operational")}


def defaults(*key_path: str) -> dict:
    """The schema's defaults of one section, e.g. defaults('train'): for tests and notebooks."""
    return {k: copy.deepcopy(v["default"]) for k, v in _node(key_path)["properties"].items() if "default" in v}
