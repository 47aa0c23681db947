"""A built PDF page by page, through poppler's command-line tools: the text of each page, a page as PNG."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..io import atomic_path


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found: install poppler-utils (setup.sh does)")
    return path


def page_texts(pdf: str | Path) -> list[str]:
    """The text of every page in reading order (`pdftotext -layout`, one string per page)."""
    out = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = out.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages  # pdftotext ends every page with a form feed


def render_page(pdf: str | Path, png: str | Path, page: int = 1, dpi: int = 60) -> None:
    """Page `page` (1-based) of `pdf` as a PNG of `dpi` dots per inch."""
    with tempfile.TemporaryDirectory() as tmp:
        stem = Path(tmp) / "page"
        subprocess.run([_tool("pdftoppm"), "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                        str(pdf), str(stem)], check=True, capture_output=True)
        with atomic_path(png) as out:
            shutil.copyfile(stem.with_suffix(".png"), out)
