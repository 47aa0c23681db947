"""Read a built paper as its reader does: where each float landed against its first citation, and the
text faults a reader would see (doubled sentences, a missing space, "nan", "??", overfull lines).

Works on the PDF's text (pages.page_texts) and LaTeX's log, never on the templates, so it checks what
was printed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .pages import page_texts

_CAPTION = re.compile(r"\b(Figure|Table) +(\d+): ")
# "Figure 3", "Figures 6 and 7", "Figures 8–11", "Tables 2, 3 and 5"; not a caption's "Figure 3:"
_CITATION = re.compile(r"\b(Figure|Table)s? +(\d+(?:(?:, | and |–|--?)\d+)*)(?!\d|:)")
# A numbered section's heading alone on its line ("3    This build against the original"), the
# references and the appendix's lettered sections.
_HEADING = re.compile(r"^(\d+|[A-Z])\s{2,}([A-Z][^\n.]{1,80})$|^(References)$", re.MULTILINE)


@dataclass(frozen=True)
class Spot:
    """A place in the document in reading order: page (1-based), then offset in that page's text."""

    page: int
    offset: int


@dataclass(frozen=True)
class Placement:
    """A float: where its caption was printed, where it is first cited, and the sections of both."""

    kind: str  # "Figure" or "Table"
    number: int
    caption: Spot
    citation: Spot | None
    caption_section: str
    citation_section: str | None


def _flat(text: str) -> str:
    return " ".join(text.split())


def _cited(numbers: str) -> list[int]:
    """The numbers a citation names: "6 and 7" → [6, 7], "8–11" → [8, 9, 10, 11]."""
    out: list[int] = []
    for part in re.split(r", | and ", numbers):
        ends = [int(x) for x in re.split(r"–|--?", part)]
        out += list(range(ends[0], ends[-1] + 1))
    return out


def headings(pages: list[str]) -> list[tuple[Spot, str]]:
    """Top-level headings in reading order: numbered sections counted up from 1, then "References",
    then the appendix's lettered sections from A (lines that only look like headings break the count
    and are skipped)."""
    found, number, letter, appendix = [], 1, "A", False
    for i, text in enumerate(pages, 1):
        for m in _HEADING.finditer(text):
            at = Spot(i, m.start())
            if m.group(3):
                found.append((at, "References"))
                appendix = True
            elif m.group(1) == (letter if appendix else str(number)):
                found.append((at, f"{m.group(1)} {m.group(2).strip()}"))
                if appendix:
                    letter = chr(ord(letter) + 1)
                else:
                    number += 1
    return found


def _section_at(spot: Spot, heads: list[tuple[Spot, str]]) -> str:
    before = [name for at, name in heads if (at.page, at.offset) <= (spot.page, spot.offset)]
    return before[-1] if before else "front matter"


def placements(pdf: str | Path) -> list[Placement]:
    """Every captioned float of `pdf` with its caption's and its first citation's place and section."""
    pages = page_texts(pdf)
    heads = headings(pages)
    captions: dict[tuple[str, int], Spot] = {}
    cites: dict[tuple[str, int], Spot] = {}
    for i, text in enumerate(pages, 1):
        # a caption or citation broken over two lines is joined; offsets stay those of the page's text
        for m in _CAPTION.finditer(re.sub(r"\s", " ", text)):
            captions.setdefault((m.group(1), int(m.group(2))), Spot(i, m.start()))
        for m in _CITATION.finditer(re.sub(r"\s", " ", text)):
            for n in _cited(m.group(2)):
                cites.setdefault((m.group(1), n), Spot(i, m.start()))
    out = []
    for (kind, number), cap in sorted(captions.items(), key=lambda kv: (kv[1].page, kv[1].offset)):
        cite = cites.get((kind, number))
        out.append(Placement(kind, number, cap, cite, _section_at(cap, heads),
                             None if cite is None else _section_at(cite, heads)))
    return out


def misplaced(pdf: str | Path, max_pages_after: int = 3) -> list[str]:
    """Floats a reader would have to hunt for: uncited, printed in another section than the one that
    first cites them, or more than `max_pages_after` pages after that citation (a section with six floats,
    as the precision study's, needs three pages for them)."""
    problems = []
    for p in placements(pdf):
        name = f"{p.kind} {p.number}"
        if p.citation is None:
            problems.append(f"{name} (page {p.caption.page}) is never cited")
        elif p.caption_section != p.citation_section:
            problems.append(f"{name} is printed in '{p.caption_section}' (page {p.caption.page}) but first cited "
                            f"in '{p.citation_section}' (page {p.citation.page})")
        elif p.caption.page - p.citation.page > max_pages_after:
            problems.append(f"{name} is printed on page {p.caption.page}, {p.caption.page - p.citation.page} pages "
                            f"after its first citation")
    return problems


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
# "97.2%.The", "(ScaleCNN)Kaplan": a word glued to the end of the one before
_NO_SPACE = re.compile(r"[a-z%)\]]\.[A-Z][a-z]|[a-z]\)[A-Z][a-z]")
# "None" only capitalised: Python's, not the English word inside a sentence
_NOT_A_NUMBER = re.compile(r"\b[Nn]a[Nn]\b|\bNone\b|\b[Ii]nf\b|\?\?")
_OVERFULL = re.compile(r"^Overfull \\[hv]box \((\d+(?:\.\d+)?)pt too (?:wide|high)\)", re.MULTILINE)


def overfull_boxes(log: str) -> list[float]:
    """How far each overfull box of a LaTeX log sticks out, in points."""
    return [float(m.group(1)) for m in _OVERFULL.finditer(log)]


def text_problems(pdf: str | Path, log: str | Path | None = None, max_overfull: int = 2,
                  max_overfull_pt: float = 10.0, min_words: int = 8) -> list[str]:
    """What a reader would stumble on in `pdf`: a sentence of `min_words` or more printed twice, a full stop
    without a space after it, "nan", "None", "inf" or "??" (an unresolved reference), and, when LaTeX's
    `log` is given, more than `max_overfull` overfull boxes or one wider than `max_overfull_pt`."""
    text = _flat(" ".join(page_texts(pdf)))
    problems = []
    sentences = Counter(s for s in _SENTENCE_END.split(text) if len(s.split()) >= min_words)
    problems += [f"sentence printed {n} times: {s[:100]!r}" for s, n in sentences.items() if n > 1]
    problems += [f"no space after a full stop or parenthesis: {text[max(m.start() - 30, 0):m.end() + 20]!r}"
                 for m in _NO_SPACE.finditer(text)]
    problems += [f"{m.group()!r} printed: {text[max(m.start() - 40, 0):m.end() + 20]!r}"
                 for m in _NOT_A_NUMBER.finditer(text)]
    if log is not None:
        boxes = overfull_boxes(Path(log).read_text(errors="replace"))
        if len(boxes) > max_overfull or any(b >= max_overfull_pt for b in boxes):
            problems.append(f"{len(boxes)} overfull box(es) (budget {max_overfull}, each < {max_overfull_pt}pt): "
                            + ", ".join(f"{b:.1f}pt" for b in boxes))
    return problems


def latex_log(pdf: str | Path) -> Path:
    """The LaTeX log of a PDF that latex.compile_pdf built (it compiles in build/ beside the .tex)."""
    pdf = Path(pdf)
    return pdf.parent / "build" / (pdf.stem + ".log")
