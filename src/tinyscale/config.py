"""Load and validate a tinyscale config against its JSON schema, filling defaults from it.

The schema (workflow/schemas/config.schema.yaml) is the one source of defaults. Errors name
the offending key and, where the schema lists them, the allowed values.
"""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


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
    return f"config key '{key}': {error.message}"


def validate_config(config: dict, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Validate `config` in place (defaults filled in) and return it; raise ConfigError."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    errors = sorted(_Validator(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(_describe(e) for e in errors))
    if not any(config["models"].values()):
        raise ConfigError("config key 'models': list at least one width for scalecnn or mobilenetv2")
    return config


def load_config(path: str | Path, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Read a YAML config file and validate it (defaults filled in)."""
    with open(path) as fh:
        config = yaml.safe_load(fh) or {}
    return validate_config(config, schema_path)
