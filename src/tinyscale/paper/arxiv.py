"""The arXiv submission: one flattened .tex, the figures it includes, its .bbl, nothing else.

arXiv compiles the source itself and runs no bibtex, so the .bbl travels under the .tex's name
and the .bib stays home; the build's aux and log files would only be rejected. The archive is
byte-stable (sorted members, zero times and owners), so an unchanged paper packs to the same file.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
from pathlib import Path

from ..io import atomic_path

_INPUT = re.compile(r"\\(input|include)\s*\{([^}]+)\}")
_GRAPHICS = re.compile(r"(\\includegraphics\s*(?:\[[^\]]*\])?\s*\{)([^}]+)(\})")
_GRAPHICS_PATH = re.compile(r"\\graphicspath\s*\{((?:\{[^}]*\})*)\}")
_GRAPHICS_EXTENSIONS = (".pdf", ".png", ".jpg", ".jpeg")  # pdflatex's, in its order


def _uncommented(line: str) -> str:
    """The part of a line before an unescaped %."""
    match = re.search(r"(?<!\\)%", line)
    return line if match is None else line[:match.start()]


def flatten(tex_path: str | Path) -> str:
    """The .tex with every \\input and \\include replaced by its file's text, recursively (paths
    relative to the main file's folder, as TeX reads them); commented-out ones stay as they are."""
    tex_path = Path(tex_path)
    root = tex_path.parent

    def expand(path: Path, depth: int) -> str:
        if depth > 20:
            raise RuntimeError(f"\\input nests deeper than 20 files at {path}: a cycle?")
        out = []
        for line in path.read_text().splitlines(keepends=True):
            code = _uncommented(line)

            def replace(m: re.Match) -> str:
                name = root / m.group(2).strip()
                target = name if name.suffix == ".tex" else name.with_name(name.name + ".tex")
                if not target.exists():
                    target = name
                text = expand(target, depth + 1)
                return ("\\clearpage\n" + text + "\\clearpage\n") if m.group(1) == "include" else text

            out.append(_INPUT.sub(replace, code) + line[len(code):])
        return "".join(out)

    return expand(tex_path, 0)


def _graphic(root: Path, search: list[str], name: str) -> Path:
    """The file pdflatex would read for \\includegraphics{name}: the name, then under each
    \\graphicspath folder, as given or with each graphics extension."""
    for folder in ["", *search]:
        path = root / folder / name
        if path.suffix.lower() in _GRAPHICS_EXTENSIONS and path.is_file():
            return path
        for ext in _GRAPHICS_EXTENSIONS:
            candidate = path.with_name(path.name + ext)
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(f"\\includegraphics{{{name}}}: no such figure under {root} or {search}")


def relocate_figures(tex: str, root: Path) -> tuple[str, dict[str, Path]]:
    """The text with each included graphic moved to figures/<its file name>, and archive name →
    source file for each (only the figures the text includes)."""
    files: dict[str, Path] = {}
    search = [folder for m in _GRAPHICS_PATH.finditer(tex) for folder in re.findall(r"\{([^}]*)\}", m.group(1))]

    def replace(m: re.Match) -> str:
        source = _graphic(root, search, m.group(2).strip())
        name = f"figures/{source.name}"
        if files.setdefault(name, source).resolve() != source.resolve():
            raise ValueError(f"two figures are both named {source.name}: {files[name]} and {source}")
        return m.group(1) + name + m.group(3)

    lines = []
    for line in tex.splitlines(keepends=True):
        code = _uncommented(line)
        comment = line[len(code):]
        code = _GRAPHICS_PATH.sub(r"\\graphicspath{{figures/}}", code)  # every figure now lies there
        lines.append(_GRAPHICS.sub(replace, code) + comment)
    return "".join(lines), files


def submission(tex_path: str | Path, bbl_path: str | Path) -> dict[str, bytes]:
    """Archive name → content: the flattened .tex (with \\pdfoutput=1, which tells arXiv to use
    pdflatex), its .bbl under the same stem, and the figures it includes."""
    tex_path = Path(tex_path)
    tex, figures = relocate_figures(flatten(tex_path), tex_path.parent)
    if "\\pdfoutput=1" not in "".join(tex.splitlines(keepends=True)[:5]):
        tex = "\\pdfoutput=1\n" + tex
    members = {tex_path.name: tex.encode(), tex_path.stem + ".bbl": Path(bbl_path).read_bytes()}
    members.update({name: path.read_bytes() for name, path in figures.items()})
    return members


def write_tarball(members: dict[str, bytes], tar_path: str | Path) -> None:
    """A byte-stable .tar.gz of the members: sorted, zero times, root-owned, readable by all."""
    buffer = io.BytesIO()
    with (gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as gz,
          tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar):
        for name in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(members[name]), 0, 0o644
            tar.addfile(info, io.BytesIO(members[name]))
    with atomic_path(tar_path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def pack(tex_path: str | Path, bbl_path: str | Path, tar_path: str | Path) -> list[str]:
    """Write the arXiv archive of the paper at `tex_path`; returns its member names."""
    members = submission(tex_path, bbl_path)
    write_tarball(members, tar_path)
    return sorted(members)
