"""The study registry: what each study asks for, and what it gives the paper.

A study is a small contract: the runs it needs (family × width × recipe × seed), the recipes
those runs train under, a table of figures (one plotting module each, its input tables and
its config parameters), the tables its paper section reads, and its template files. The
workflow and the paper loop over the enabled studies; a run two studies ask for is one target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..registry import Registry
from ..runs import Run, sort_runs


@dataclass(frozen=True)
class Figure:
    name: str  # the PDF's name: figures/{name}.pdf
    module: str  # its plotting code, a module with plot(tables, **params): the rule's input
    tables: tuple[str, ...]  # names of the tables (results/{name}/tables/{table}.csv) it draws from
    params: Callable[[dict], dict] = field(default=lambda config: {})  # config values it needs
    shared: tuple[str, ...] = ()  # modules of plotting code it shares with other figures (also inputs)
    when: Callable[[dict], bool] = field(default=lambda config: True)  # whether a config draws it


@dataclass(frozen=True)
class Study:
    name: str
    title: str
    runs: Callable[[dict], list[Run]]  # the runs a validated config asks this study for
    recipes: Callable[[dict], dict]  # recipe name → engine.recipes.Recipe, for those runs
    figures: tuple[Figure, ...] = ()
    paper_tables: tuple[str, ...] = ()  # the tables its templates read as rows
    abstract: str | None = None  # template of its abstract paragraph
    section: str | None = None  # template of its section(s)
    captions: str | None = None  # template of its figures' captions: one macro per figure, named as the figure
    # its headline numbers for the HTML report: its key of numbers.json → [(quantity, value), …]
    headline: Callable[[dict], list] = field(default=lambda numbers: [])


STUDIES: Registry[Study] = Registry("study")


def register(study: Study) -> Study:
    return STUDIES.add(study.name, study)


def get(name: str) -> Study:
    return STUDIES.lookup(name)


def enabled(config: dict) -> list[Study]:
    """The studies a validated config switches on, in registry order."""
    chosen = config.get("studies", {})
    return [s for name, s in STUDIES.items() if chosen.get(name, {}).get("enabled", False)]


def run_table(config: dict) -> list[Run]:
    """Every run the enabled studies ask for, each once, in a stable order."""
    return sort_runs(r for study in enabled(config) for r in study.runs(config))


def recipes(config: dict) -> dict:
    """Recipe name → Recipe over the enabled studies; one name means one recipe everywhere."""
    out = {}
    for study in enabled(config):
        for name, recipe in study.recipes(config).items():
            if out.setdefault(name, recipe) != recipe:
                raise ValueError(f"two studies define the recipe {name!r} differently; give one of them another name")
    return out


def figures(config: dict) -> list[Figure]:
    return [f for study in enabled(config) for f in study.figures if f.when(config)]


# The built-in studies register themselves, in the order the paper presents them.
from . import width_sweep  # noqa: E402,F401,I001
from . import scale_time  # noqa: E402,F401
from . import precision  # noqa: E402,F401
