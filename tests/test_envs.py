"""envs/*.yaml (used by `--sdm conda`) pin exactly what pyproject.toml pins."""

import re
import tomllib

import pytest
import yaml

from conftest import ROOT

PINS = dict(
    re.match(r"([A-Za-z0-9_.-]+)==(\S+)", dep).groups()
    for dep in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
)
ENVS = sorted((ROOT / "envs").glob("*.yaml"))


def test_every_dependency_is_pinned():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert all("==" in d for d in deps) and len(PINS) == len(deps)


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.name)
def test_env_pins_match_pyproject(env):
    spec = yaml.safe_load(env.read_text())
    pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict))
    pinned = dict(re.match(r"([A-Za-z0-9_.-]+)==(\S+)", p).groups() for p in pip if "==" in p)
    assert pinned, f"{env.name} pins nothing"
    for name, version in pinned.items():
        assert PINS.get(name.lower()) == version, f"{env.name}: {name}=={version}, pyproject pins {PINS.get(name.lower())}"


def test_rules_reference_existing_envs():
    text = (ROOT / "workflow" / "rules" / "common.smk").read_text()
    names = re.findall(r'_ENV = str\(TINYSCALE_DIR / "envs" / "(\w+\.yaml)"\)', text)
    assert sorted(names) == sorted(p.name for p in ENVS)
