"""Render the LaTeX paper from Jinja2 templates (shipped in paper/templates/).

Delimiters are LaTeX-safe: \\VAR{...} for values, \\BLOCK{...} for statements, \\#{...} for
comments. StrictUndefined turns any name the context lacks into an error, so no number can
silently go missing; strings are escaped once, by the `tex` filter, never automatically.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import jinja2

from .. import datasets, families

TEMPLATES = Path(__file__).with_name("templates")

_TEX_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}",
}
_TEX_RE = re.compile("|".join(re.escape(c) for c in _TEX_SPECIALS))


def tex_escape(value) -> str:
    """Escape LaTeX's special characters in one pass (so a backslash is never escaped twice)."""
    return _TEX_RE.sub(lambda m: _TEX_SPECIALS[m.group()], str(value))


def fmt(value, digits: int = 3, missing: str = "--") -> str:
    """A number with `digits` decimals; None as `missing`; a NaN or infinity is an error."""
    if value is None:
        return missing
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"refusing to print a non-finite number ({value}) in the paper")
    return f"{value:.{digits}f}"


def pct(value, digits: int = 1, missing: str = "--") -> str:
    """A fraction as a percentage (without the % sign)."""
    return missing if value is None else fmt(100 * float(value), digits)


def intcomma(value) -> str:
    return f"{int(value):,}"


def pm(value, std, digits: int = 3, scale: float = 1.0) -> str:
    """`value \\pm std` in math mode, or just the value when there is no spread."""
    if std is None:
        return fmt(None if value is None else value * scale, digits)
    return f"{fmt(value * scale, digits)} \\pm {fmt(std * scale, digits)}"


def common_items(keys, groups: dict) -> list:
    """The items listed under every one of two or more `keys` of `groups` (in the first key's order):
    the text states them once ("at every budget: …"), not once per key."""
    lists = [list(groups.get(k) or []) for k in keys]
    if len(lists) < 2:
        return []
    return [x for x in lists[0] if all(x in other for other in lists[1:])]


def width_label(arch: str, width) -> str:
    return families.get(arch).width_label(width)


def environment(template_dir: str | Path = TEMPLATES) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        line_statement_prefix="%%", line_comment_prefix="%#",
        trim_blocks=True, lstrip_blocks=True, autoescape=False,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )
    env.filters.update(tex=tex_escape, fmt=fmt, pct=pct, intcomma=intcomma)
    env.globals.update(pm=pm, width_label=width_label, common_items=common_items)
    return env


def render(template_dir: str | Path, template: str, context: dict) -> str:
    """Render `template` from `template_dir` (the package's templates unless told otherwise)."""
    return environment(template_dir).get_template(template).render(**context)


def _records(frame) -> list[dict]:
    """DataFrame rows as dicts with None (not NaN) for missing values."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def paper_context(numbers: dict, meta: dict, environment: dict, tables: dict, figures: dict[str, str]) -> dict:
    """Everything the templates may use: numbers.json (`n`), title and authors (`meta`), the run
    environment (`env`), figure paths, the studies in order, and tables as rows."""
    spec = datasets.get(numbers["dataset"])
    return {
        "n": numbers, "meta": meta, "env": environment, "figures": figures,
        "family_labels": {name: f.label for name, f in families.FAMILIES.items()},
        "families": families.FAMILIES,
        "dataset_name": spec.label, "dataset_description": spec.description, "datasets": datasets.DATASETS,
        **{key: _records(frame) for key, frame in tables.items()},
    }
