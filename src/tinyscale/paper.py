"""Render the LaTeX paper from Jinja2 templates and compile it offline.

Delimiters are LaTeX-safe: \\VAR{...} for values, \\BLOCK{...} for statements, \\#{...} for
comments. StrictUndefined turns any name the context lacks into an error, so no number can
silently go missing; strings are escaped once, by the `tex` filter, never automatically.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import jinja2

# Name and a one-paragraph description (LaTeX) of each dataset the config can name.
DATASETS = {
    "cifar100": (
        "CIFAR-100",
        r"CIFAR-100~\citep{krizhevsky2009cifar}: 50{,}000 training and 10{,}000 test images of "
        r"$32\times32$ pixels in 100 classes; we train on all training images and evaluate on the "
        r"test set, with no validation split.",
    ),
    "digits": (
        r"scikit-learn's $8\times8$ digits",
        r"The $8\times8$ grey-scale digits bundled with scikit-learn (1{,}797 images, 10 classes), "
        r"split once into stratified training and test sets. This is the quick build: it exercises "
        r"the whole pipeline in minutes on a CPU; its numbers are not CIFAR-100's.",
    ),
}

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


def width_label(arch: str, width) -> str:
    return f"c={int(width)}" if arch == "scalecnn" else f"w={float(width):.2f}"


def environment(template_dir: str | Path) -> jinja2.Environment:
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
    env.globals.update(pm=pm, width_label=width_label)
    return env


def render(template_dir: str | Path, template: str, context: dict) -> str:
    return environment(template_dir).get_template(template).render(**context)


def compile_pdf(tex_path: str | Path, pdf_path: str | Path, log_path: str | Path | None = None) -> None:
    """latexmk/pdflatex, offline, in a build folder beside the .tex; the PDF is moved into place."""
    tex_path, pdf_path = Path(tex_path).resolve(), Path(pdf_path).resolve()
    missing = [t for t in ("latexmk", "pdflatex") if shutil.which(t) is None]
    if missing:
        raise RuntimeError(
            f"{', '.join(missing)} not found. Install TeX: apt-get install texlive-latex-base "
            "texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended texlive-science latexmk"
        )
    build = tex_path.parent / "build"
    build.mkdir(exist_ok=True)
    # Fixed dates make the PDF byte-stable across rebuilds.
    env = dict(os.environ, SOURCE_DATE_EPOCH="0", FORCE_SOURCE_DATE="1")
    cmd = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
           f"-outdir={build}", tex_path.name]
    proc = subprocess.run(cmd, cwd=tex_path.parent, env=env, capture_output=True, text=True)
    if log_path:
        Path(log_path).write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        errors = [l for l in proc.stdout.splitlines() if l.startswith(str(tex_path.parent)) or l.startswith("!")]
        raise RuntimeError(f"LaTeX failed on {tex_path}:\n" + "\n".join(errors[-10:] or proc.stdout.splitlines()[-20:]))
    os.replace(build / (tex_path.stem + ".pdf"), pdf_path)


def _records(frame) -> list[dict]:
    """DataFrame rows as dicts with None (not NaN) for missing values."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def paper_context(numbers: dict, environment: dict, tables: dict, figures: dict[str, str]) -> dict:
    """Everything the templates may use: numbers.json (`n`), the run environment, tables as rows."""
    from .analysis import FAMILY_LABELS

    name, description = DATASETS[numbers["dataset"]]
    return {
        "n": numbers, "env": environment, "figures": figures, "family_labels": FAMILY_LABELS,
        "dataset_name": name, "dataset_description": description,
        **{key: _records(frame) for key, frame in tables.items()},
    }
