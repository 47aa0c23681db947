"""Compile the rendered paper offline: latexmk → pdflatex + bibtex, byte-stable dates."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

# What pdflatex typesets from UTF-8 text with the template's default (OT1) fonts, each character
# compiled alone (TeX Live 2023): ASCII, the Latin-1 and Latin Extended-A letters but those OT1
# lacks (ogoneks, eth, thorn, eng, guillemets, ...), and typographic punctuation. Anything else
# (Greek, CJK, emoji) stops the compile, the paper's last job.
_NOT_IN_OT1 = set("«»ÐÞðþĄąĐđĘęĮįŊŋŲųĦħĸĿŀŉŦŧſ")
_LATIN = {chr(c) for c in range(0xA0, 0x180)} - _NOT_IN_OT1
TYPESETTABLE = {chr(c) for c in range(0x20, 0x7F)} | set("\t\n") | _LATIN | set("‐–—‘’“”†‡•…‰€™")


def untypesettable(text: str) -> list[str]:
    """The characters of `text` that pdflatex cannot typeset here, each once, in order."""
    return list(dict.fromkeys(c for c in text if c not in TYPESETTABLE))


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
    # errors="replace": TeX wraps its log at 79 bytes, splitting a multi-byte character in two
    proc = subprocess.run(cmd, cwd=tex_path.parent, env=env, capture_output=True, text=True, errors="replace")
    if log_path:
        Path(log_path).write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        errors = [line for line in proc.stdout.splitlines() if line.startswith((str(tex_path.parent), "!"))]
        raise RuntimeError(f"LaTeX failed on {tex_path}:\n" + "\n".join(errors[-10:] or proc.stdout.splitlines()[-20:]))
    os.replace(build / (tex_path.stem + ".pdf"), pdf_path)
