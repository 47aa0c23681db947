"""envs/*.yaml (used by `--sdm conda`) pin exactly what pyproject.toml pins."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
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


# Each rule's script imports only what its conda environment provides (--sdm conda): the
# script's module-level imports, followed through _helpers and every tinyscale module they
# import (module level too: a function's own import runs only when it is called, as the
# families' lazy builders do for torch). Import names → their pip distribution.
DISTRIBUTIONS = {"yaml": "pyyaml", "sklearn": "scikit-learn", "PIL": "pillow"}
SRC = ROOT / "src"
SCRIPTS = ROOT / "workflow" / "scripts"


def rule_scripts() -> list[tuple[str, str, Path]]:
    """(rules file, env file name or None, script) of every rule with a script."""
    names = dict(re.findall(r'(\w+_ENV) = str\(TINYSCALE_DIR / "envs" / "(\w+\.yaml)"\)',
                            (ROOT / "workflow" / "rules" / "common.smk").read_text()))
    found = []
    for smk in sorted((ROOT / "workflow" / "rules").rglob("*.smk")):
        for block in re.split(r"\n\s*rule\b", smk.read_text())[1:]:
            script = re.search(r'script:\s*\n\s*"([^"]+)"', block)
            if script:
                env = re.search(r"conda:\s*\n\s*(\w+)", block)
                found.append((smk.name, env and names[env[1]], (smk.parent / script[1]).resolve()))
    return found


def _module_imports(path: Path, package: str | None) -> set[str]:
    """Absolute module names that `path` imports when it is imported (not in function bodies,
    but in _helpers', whose job() every script calls)."""
    names = set()

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and path.name != "_helpers.py":
                continue
            if isinstance(child, ast.Import):
                names.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(parts + ([child.module] if child.module else []))
                names.add(base)
                names.update(f"{base}.{a.name}" for a in child.names)  # submodules, where they are
            visit(child)

    visit(ast.parse(path.read_text()))
    return names


def _local_file(module: str) -> Path | None:
    if module == "_helpers":
        return SCRIPTS / "_helpers.py"
    if module.split(".")[0] != "tinyscale":
        return None
    base = SRC.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.exists():
            return candidate
    return None


def import_closure(script: Path) -> tuple[list[str], dict[str, str]]:
    """The local modules (tinyscale, _helpers) `script` imports, transitively, and each top-level
    third-party module with the local file that imports it."""
    seen, todo, local_modules, found = set(), [(script, None)], set(), {}
    while todo:
        path, package = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in _module_imports(path, package):
            parts = module.split(".")
            # importing a.b.c runs a/__init__.py and a/b/__init__.py first
            for i in range(1, len(parts) + 1):
                local = _local_file(".".join(parts[:i]))
                if local:
                    local_modules.add(".".join(parts[:i]))
                    pkg = ".".join(parts[:i]) if local.name == "__init__.py" else ".".join(parts[: i - 1])
                    todo.append((local, pkg))
            top = parts[0]
            if top and top not in sys.stdlib_module_names and top not in ("tinyscale", "_helpers", "__future__"):
                found.setdefault(top, str(path.relative_to(ROOT)))
    return sorted(local_modules), found


def third_party_imports(script: Path) -> dict[str, str]:
    return import_closure(script)[1]


def local_imports(script: Path) -> list[str]:
    return import_closure(script)[0]


def env_packages(name: str) -> set[str]:
    spec = yaml.safe_load((ROOT / "envs" / name).read_text())
    packages = set()
    for dep in spec["dependencies"]:
        for entry in dep["pip"] if isinstance(dep, dict) else [dep]:
            packages.add(re.match(r"[A-Za-z0-9_.-]+", entry)[0].lower())
    return packages


RULE_SCRIPTS = list(dict.fromkeys(rule_scripts()))  # the train rules share one script


def test_every_rule_script_is_found():
    scripts = {p.name for _, _, p in RULE_SCRIPTS}
    assert scripts >= {"train.py", "aggregate.py", "figure.py", "compile_paper.py", "download.py"}


def test_every_rule_script_has_an_env():
    assert all(env for _, env, _ in RULE_SCRIPTS), [p.name for _, env, p in RULE_SCRIPTS if not env]


@pytest.mark.parametrize("smk, env, script", RULE_SCRIPTS, ids=lambda v: getattr(v, "name", v))
def test_rule_script_imports_only_what_its_env_provides(smk, env, script):
    provided = env_packages(env)
    missing = {top: where for top, where in third_party_imports(script).items()
               if top != "snakemake" and DISTRIBUTIONS.get(top, top).lower() not in provided}
    assert not missing, (f"{script.name} (a rule in {smk}) runs in envs/{env}, which lacks "
                         + ", ".join(f"{DISTRIBUTIONS.get(t, t)} (imported by {w})" for t, w in missing.items())
                         + ": add it to the env, or import it only where the rule needs it")


def test_the_import_walk_sees_torch_through_the_library():
    # the walk can fail: the training script reaches torch through tinyscale.engine
    assert "torch" in third_party_imports(SCRIPTS / "train.py")


# What a project dependency is imported as (pyproject.toml's names where they differ).
IMPORT_NAMES = {"pyyaml": "yaml", "scikit-learn": "sklearn"}
# Runs the imports in a Python whose finder refuses the project's dependencies that the env
# lacks, as if they were not installed (a package's own optional imports see the same).
BLOCKER = """
import importlib.abc, sys
blocked = set(sys.argv[1].split(","))
class Env(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} in this environment", name=name)
sys.meta_path.insert(0, Env())
sys.path.insert(0, sys.argv[2])
import importlib
for module in sys.argv[3:]:
    importlib.import_module(module)
"""


@pytest.mark.parametrize("smk, env, script", RULE_SCRIPTS, ids=lambda v: getattr(v, "name", v))
def test_rule_script_modules_import_in_an_env_like_its_own(smk, env, script):
    """The import closure the static walk finds really imports with only the env's packages
    (catches what the walk cannot see, e.g. imports by importlib at import time)."""
    blocked = {IMPORT_NAMES.get(d, d) for d in PINS if d != "snakemake"} - {IMPORT_NAMES.get(d, d) for d in env_packages(env)}
    proc = subprocess.run([sys.executable, "-c", BLOCKER, ",".join(sorted(blocked)), str(SCRIPTS), *local_imports(script)],
                          capture_output=True, text=True, check=False, env={**os.environ, "PYTHONPATH": str(SRC)})
    assert proc.returncode == 0, f"{script.name} in envs/{env}:\n{proc.stderr[-3000:]}"
