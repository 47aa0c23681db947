"""Load and validate a tinyscale config against its JSON schema, filling defaults from it.

The schema (config.schema.yaml, shipped inside the package) is the one source of defaults.
Errors name the offending key, the value and what is allowed. Keys the schema marks
`operational` cannot change a run's weights; `science()` drops them, so the workflow's
rerun triggers see only what can.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import shutil
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
        # one module per file, by its resolved path: two plugins of one file name are both imported
        where = hashlib.blake2b(str(Path(path).resolve()).encode(), digest_size=4).hexdigest()
        name = f"tinyscale_plugin_{Path(path).stem}_{where}"
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
    for study, widths_key in (("precision", "budget_widths"), ("scale_time", "widths")):
        section = config["studies"].get(study, {})
        if not section.get("enabled"):
            continue
        family = section["family"]
        if family not in families.FAMILIES:
            errors.append(f"config key 'studies.{study}.family' is {family!r}; registered families: "
                          + ", ".join(repr(f) for f in families.FAMILIES))
            continue
        for w in section[widths_key]:
            try:
                families.get(family).format_width(w)
            except ValueError as exc:
                errors.append(f"config key 'studies.{study}.{widths_key}': {exc}")
    precision = config["studies"].get("precision", {})
    for i, arm in enumerate(precision.get("tasks", []) if precision.get("enabled") else []):
        key = f"studies.precision.tasks[{i}]"
        if arm["dataset"] not in datasets.DATASETS:
            errors.append(f"config key '{key}.dataset' is {arm['dataset']!r}; allowed values: "
                          + ", ".join(repr(d) for d in datasets.DATASETS))
        if arm["family"] not in families.FAMILIES:
            errors.append(f"config key '{key}.family' is {arm['family']!r}; registered families: "
                          + ", ".join(repr(f) for f in families.FAMILIES))
        if arm["dataset"] not in datasets.DATASETS or arm["family"] not in families.FAMILIES:
            continue
        for w in arm["budget_widths"]:
            try:
                families.get(arm["family"]).format_width(w)
            except ValueError as exc:
                errors.append(f"config key '{key}.budget_widths': {exc}")
        errors += list(filter(None, [task_mismatch(f"{key}.family", arm["family"], arm["dataset"], f"{key}.dataset")]))
    if config["data"]["dataset"] in datasets.DATASETS:
        uses = [(f"models.{name}", name) for name, widths in config["models"].items() if widths]
        uses += [(f"studies.{study}.family", config["studies"][study]["family"]) for study in ("precision", "scale_time")
                 if config["studies"].get(study, {}).get("enabled")]
        errors += list(filter(None, [task_mismatch(key, name, config["data"]["dataset"], "data.dataset")
                                     for key, name in uses if name in families.FAMILIES]))
    return errors


def task_mismatch(family_key: str, family: str, dataset: str, dataset_key: str) -> str | None:
    """Why a family cannot train on a dataset (each belongs to a task), naming both keys; None when it can."""
    from . import datasets, families

    fam, spec = families.get(family), datasets.get(dataset)
    if fam.task == spec.task:
        return None
    return (f"config key '{family_key}' names {fam.label}, a family for {fam.task.replace('_', ' ')}, but "
            f"'{dataset_key}' is {dataset!r}, a dataset for {spec.task.replace('_', ' ')}; use a family of the "
            f"dataset's task ({', '.join(f.name for f in families.FAMILIES.values() if f.task == spec.task)})")


def _check_reference(config: dict) -> list[str]:
    """The released runs are one file of JSON lines; a directory or a file of another kind would
    otherwise fail inside the job with a traceback."""
    path = config.get("reference")
    if path is None:
        return []
    if Path(path).is_dir() or not str(path).endswith(".jsonl"):
        return [f"config key 'reference' is {path!r}: it must name the released runs, a .jsonl file of one JSON "
                "object per line (data/reference/alnemari2026_cifar100_runs.jsonl), or be null for no comparison"]
    return []


def _check_data(config: dict) -> list[str]:
    """What the dataset decides: channels, image side, classes, training images, its local files."""
    from . import datasets

    spec, data = datasets.get(config["data"]["dataset"]), config["data"]
    channels, height, width = spec.image_shape if len(spec.image_shape) == 3 else (0, 1, spec.image_shape[-1])
    side = min(height, width)
    errors = []
    for key in ("mean", "std"):
        if data[key] is not None and len(data[key]) != channels:
            errors.append(f"config key 'data.{key}' is {data[key]!r}: {spec.name} images have {channels} channel(s); "
                          f"give {channels} value(s), or null")
    try:
        n_train = spec.train_images(data)
    except ValueError as exc:
        errors.append(str(exc))
        n_train = None
    on = {name: section.get("enabled") for name, section in config["studies"].items()}
    cosine = on.get("width_sweep") or on.get("precision")  # the studies that train with train: and augment:
    train = config["train"]
    if cosine and n_train is not None and train["drop_last"] and train["batch_size"] > n_train:
        errors.append(f"config key 'train.batch_size' is {train['batch_size']}: larger than the {n_train} training "
                      f"images, so drop_last leaves no step; allowed: 1 to {n_train}")
    st = config["studies"].get("scale_time", {})
    if n_train is not None and st.get("enabled"):
        smallest = min([n_train] + [n for n in st["data_sizes"] if n])
        if st["batch_size"] > smallest:
            errors.append(f"config key 'studies.scale_time.batch_size' is {st['batch_size']}: larger than the "
                          f"{smallest} training images of the smallest training set, so no step is taken; "
                          f"allowed: 1 to {smallest}")
        too_big = [n for n in st["data_sizes"] if n and n > n_train]
        if too_big:
            errors.append(f"config key 'studies.scale_time.data_sizes' is {st['data_sizes']!r}: {too_big[0]} is more "
                          f"than the {n_train} training images of {spec.name}; allowed: 1 to {n_train}, or null "
                          "for the whole set")
        if st["train_subset"] > n_train:
            errors.append(f"config key 'studies.scale_time.train_subset' is {st['train_subset']}: more than the "
                          f"{n_train} training images of {spec.name}; allowed: 1 to {n_train}")
    for key in ("crop_padding", "cutout"):
        value = config["augment"][key]
        if cosine and value >= side:  # a crop padded by ≥ side, or a box of ≥ side, can blank a whole image
            errors.append(f"config key 'augment.{key}' is {value}: {spec.name} images are {height}×{width} "
                          f"pixels; allowed: 0 to {side - 1}")
    bottom_k = config["analysis"]["bottom_k"]  # the paper's tables report bottom-5
    if on.get("width_sweep") and (any(k > spec.num_classes for k in bottom_k) or 5 not in bottom_k):
        errors.append(f"config key 'analysis.bottom_k' is {bottom_k!r}: {spec.name} has {spec.num_classes} "
                      f"classes; allowed: values from 1 to {spec.num_classes}, including 5")
    for file in spec.files:
        problem = datasets.file_problem(file, Path(data["dir"]).expanduser() / file.name)
        if problem:
            errors.append(f"config key 'data.dir' is {data['dir']!r}: {problem}")
    return errors


def _check_relations(config: dict) -> list[str]:
    """Keys that constrain each other."""
    errors = []
    finetune = config["studies"].get("precision", {}).get("finetune", {})
    for key, section in (("train", config["train"]), ("studies.precision.finetune", finetune)):
        if section and section["lr_min"] > section["lr"]:
            errors.append(f"config key '{key}.lr_min' is {section['lr_min']!r}: above {key}.lr "
                          f"({section['lr']!r}); allowed: 0 to {section['lr']!r}")
    st = config["studies"].get("scale_time", {})
    if st.get("enabled"):
        if st["primary_loss"] not in st["losses"]:
            errors.append(f"config key 'studies.scale_time.primary_loss' is {st['primary_loss']!r}: not among "
                          f"studies.scale_time.losses; allowed: {', '.join(repr(v) for v in st['losses'])}")
        if st["epoch_caps"][-1]["max_params"] is not None:
            errors.append("config key 'studies.scale_time.epoch_caps' ends with max_params "
                          f"{st['epoch_caps'][-1]['max_params']}: end it with max_params: null, so every size has a cap")
        collapse = st["analysis"]["collapse"]
        if collapse["gamma_min"] >= collapse["gamma_max"]:
            errors.append(f"config key 'studies.scale_time.analysis.collapse.gamma_min' is {collapse['gamma_min']!r}: "
                          f"not below gamma_max ({collapse['gamma_max']!r}); allowed: less than gamma_max")
    return errors


def _check_text(config: dict) -> list[str]:
    from .paper.latex import untypesettable

    errors = []
    for key in ("title", "authors"):
        bad = untypesettable(config[key])
        if bad:
            shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in bad)
            errors.append(f"config key '{key}' is {config[key]!r}: pdflatex cannot typeset {shown}; allowed: "
                          "ASCII, accented Latin letters and typographic punctuation (spell Greek letters out)")
    return errors


def _cuda_here() -> bool:
    """Whether PyTorch sees a CUDA GPU on this machine; torch is imported only where a driver is."""
    if shutil.which("nvidia-smi") is None:
        return False
    import torch

    return torch.cuda.is_available()


def _check_device(config: dict) -> list[str]:
    if config["device"] == "cuda" and not _cuda_here():
        return [("config key 'device' is 'cuda', but PyTorch sees no CUDA GPU on this machine; allowed here: "
                 "'auto' (CUDA wherever a job finds it, also on a cluster whose login node has none) or 'cpu'")]
    return []


def validate_config(config: dict) -> dict:
    """Validate `config` in place (defaults filled in) and return it; raise ConfigError."""
    load_plugins(config)
    errors = sorted(_Validator(schema()).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("invalid config:\n  " + "\n  ".join(_describe(e) for e in errors))
    problems = _check_registries(config)
    if not problems:  # the checks below read the registries' entries
        problems = (_check_data(config) + _check_relations(config) + _check_text(config) + _check_device(config)
                    + _check_reference(config))
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(problems))
    return config


def _types(node: dict) -> list[str]:
    t = node.get("type", [])
    return [t] if isinstance(t, str) else list(t)


def _parse_text(value: str, node: dict):
    """A command-line string as the schema node wants it: kept where a string is allowed, else YAML."""
    if "null" in _types(node) and value in ("null", "~"):
        return None
    if "string" in _types(node) or ("enum" in node and value in node["enum"]) or not (_types(node) or "enum" in node):
        return value
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value  # the schema then names the key and the type it wants
    if isinstance(parsed, str) and "number" in _types(node):
        try:
            return float(value)  # YAML reads 1e-3 (no dot) as a string
        except ValueError:
            pass
    return parsed


def _coerce(value, node: dict | None):
    if node is None:
        return value  # an unknown key: validation names it
    if isinstance(value, dict):
        props = node.get("properties", {})
        extra = node.get("additionalProperties")
        return {k: _coerce(v, props.get(k, extra if isinstance(extra, dict) else None)) for k, v in value.items()}
    if isinstance(value, list):
        return [_coerce(v, node.get("items")) for v in value]
    if isinstance(value, str):
        return _parse_text(value, node)
    return value


def _merge(base: dict, update: dict) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def apply_overrides(config: dict, overrides) -> dict:
    """Merge command-line overrides into `config` (in place), typed by the schema.

    A command line can pass a section or a list as YAML text (`train="{lr: 0.5}"`,
    `seeds="[0, 1]"`); Snakemake parses such text with every value left a string. Each such value is
    read as YAML where the schema wants a number, boolean, list or null, so "0.5" becomes 0.5; a
    value that still does not fit is left for validation to name.
    """
    _merge(config, _coerce(_plain(overrides), schema()))
    return config


def _plain(value):
    """Mappings (Snakemake's immutable ones too) and sequences as dicts and lists."""
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


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


class Unordered(dict):
    """A config mapping whose repr does not depend on the order of its keys. Snakemake compares a
    rule's params by repr, so a params dict taken from the config as is would rerun its rule (and
    retrain what depends on it) when only the YAML's key order changed; iteration keeps the
    config's order, so what a job writes from it is unchanged."""

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in sorted(self.items(), key=lambda kv: repr(kv[0]))) + "}"

    def __reduce__(self):  # pickled into a job as a plain dict's items: jobs need nothing of this class
        return (dict, (dict(self),))


def unordered(value):
    """`value` with every mapping in it an Unordered one (for a rule's params)."""
    if isinstance(value, dict):
        return Unordered({k: unordered(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return type(value)(unordered(v) for v in value)
    return value


def defaults(*key_path: str) -> dict:
    """The schema's defaults of one section, e.g. defaults('train'): for tests and notebooks."""
    return {k: copy.deepcopy(v["default"]) for k, v in _node(key_path)["properties"].items() if "default" in v}
