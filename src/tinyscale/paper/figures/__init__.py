"""The figures, one module each with a `plot(tables, **params)` function; style.py holds the shared look.

Each figure's module is its workflow rule's input, so editing one figure's code redraws that
figure alone. Studies list their figures in their own table (tinyscale.studies).
"""

from __future__ import annotations

import importlib
import importlib.util


def plot(module: str, tables: dict, params: dict | None = None):
    """Draw the figure whose code is `module` (e.g. tinyscale.paper.figures.ece) from its tables and params."""
    return importlib.import_module(module).plot(tables, **(params or {}))


def module_path(module: str) -> str:
    """The file of a figure's plotting code (the rule's input)."""
    return importlib.util.find_spec(module).origin
