"""What the HTML report shows besides the files themselves: each figure's caption, rendered from
the same caption templates as the paper's \\caption and turned from LaTeX into reStructuredText
(Snakemake's report captions are .rst), and each study's headline numbers as a small table."""

from __future__ import annotations

import re
from pathlib import Path

from .render import TEMPLATES, environment


def figure_captions(context: dict, studies, template_dir: str | Path = TEMPLATES) -> dict[str, str]:
    """Figure name → its caption in LaTeX, as the paper prints it: each study's captions template
    (one macro per figure, named as the figure) rendered with the paper's context."""
    env = environment(template_dir)
    out = {}
    for study in studies:
        if not study.figures:
            continue
        if study.captions is None:
            raise ValueError(f"study {study.name!r} has figures but no captions template")
        module = env.get_template(study.captions).make_module(context)
        for figure in study.figures:
            macro = getattr(module, figure.name, None)
            if macro is None:
                raise ValueError(f"{study.captions} has no caption macro for the figure {figure.name!r}")
            out[figure.name] = " ".join(str(macro()).split())
    return out


_MATH = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$")
_ESCAPED = {"%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}", ",": "\u2009", " ": " "}
_SYMBOLS = {"textbackslash": "\\", "textasciitilde": "~", "textasciicircum": "^", "ldots": "…", "dots": "…"}
_STYLES = {"emph": "*", "textit": "*", "textbf": "**", "texttt": "``"}
_TOKEN = re.compile(r"\\([a-zA-Z]+)\*?(?:\{([^{}]*)\})?|\\(.)|---|--|~|[{}]|.", re.DOTALL)
_RST_SPECIAL = set("\\*`|_<>[]")


def _rst_escape(text: str) -> str:
    return "".join("\\" + c if c in _RST_SPECIAL else c for c in text)


def _text_to_rst(tex: str) -> str:
    """LaTeX prose (no math) → reStructuredText: escapes, dashes, ties, emphasis; other commands
    give their argument (\\ref{fig:x} → x), and group braces vanish."""
    out = []
    for m in _TOKEN.finditer(tex):
        command, argument, escaped, token = m.group(1), m.group(2), m.group(3), m.group(0)
        if command:
            if command in _SYMBOLS:
                out.append(_rst_escape(_SYMBOLS[command]))
            elif command in _STYLES and argument:
                mark = _STYLES[command]
                out.append(f"\\ {mark}{argument if mark == '``' else _rst_escape(_text_to_plain(argument))}{mark}\\ ")
            elif command == "ref" and argument:
                out.append(_rst_escape(argument.split(":", 1)[-1]))  # the label without its fig: prefix
            elif argument is not None:
                out.append(_rst_escape(_text_to_plain(argument)))
        elif escaped is not None:
            out.append(_rst_escape(_ESCAPED.get(escaped, escaped)))
        elif token in ("---", "--"):
            out.append("—" if token == "---" else "–")
        elif token == "~":
            out.append(" ")
        elif token not in "{}":
            out.append(_rst_escape(token))
    return "".join(out)


def _text_to_plain(tex: str) -> str:
    """An argument's text without markup (for inside emphasis and references)."""
    return re.sub(r"\\([%&_#${}])", r"\1", tex).replace("~", " ").replace("---", "—").replace("--", "–")


def latex_to_rst(tex: str) -> str:
    """A caption in LaTeX → reStructuredText: $…$ becomes the :math: role (docutils renders its
    LaTeX), the prose around it plain text with RST's special characters escaped."""
    parts, last = [], 0
    for m in _MATH.finditer(tex):
        parts.append(_text_to_rst(tex[last:m.start()]))
        # escaped spaces let a role touch letters on both sides ("W$_b$A"), and vanish in the output
        parts.append(f"\\ :math:`{m.group(1).strip()}`\\ ")
        last = m.end()
    parts.append(_text_to_rst(tex[last:]))
    return re.sub(r"^\s*(\\ )?|(\\ )?\s*$", "", "".join(parts))  # no escaped space at either end


def caption_rst(tex: str) -> str:
    """A report caption file's text: Snakemake renders captions with Jinja, so the text is raw."""
    return "{% raw %}\n" + latex_to_rst(tex) + "\n{% endraw %}\n"


def headline_rows(study, numbers: dict) -> list[dict]:
    """A study's headline numbers (its `headline` of its key in numbers.json) as table rows."""
    return [{"quantity": q, "value": _value(v)} for q, v in study.headline(numbers[study.name])]


def _value(v) -> str:
    if v is None:
        return "--"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
