"""The arXiv archive on a hand-made paper: \\input inlined (commented ones kept), figures found the
way pdflatex finds them and moved under figures/, the .bbl under the .tex's name, nothing else,
the same bytes twice. (tests/test_workflow.py compiles the workflow's archive alone.)"""

import tarfile

import pytest

from tinyscale.paper.arxiv import pack, submission


@pytest.fixture
def paper(tmp_path):
    (tmp_path / "figs").mkdir()
    (tmp_path / "figs" / "a.pdf").write_bytes(b"%PDF a")
    (tmp_path / "figs" / "b.png").write_bytes(b"PNG b")
    (tmp_path / "figs" / "unused.pdf").write_bytes(b"%PDF unused")
    (tmp_path / "paper").mkdir()
    tex = tmp_path / "paper" / "main.tex"
    tex.write_text("\\documentclass{article}\n\\graphicspath{{../figs/}}\n\\begin{document}\n"
                   "\\input{sections/one}\n% \\input{sections/missing}\n\\includegraphics[width=2cm]{../figs/a.pdf}\n"
                   "\\bibliography{references}\n\\end{document}\n")
    (tmp_path / "paper" / "sections").mkdir()
    (tmp_path / "paper" / "sections" / "one.tex").write_text("One \\includegraphics{b} 50\\% % \\includegraphics{c}\n")
    (tmp_path / "paper" / "main.bbl").write_text("\\begin{thebibliography}{1}\\end{thebibliography}\n")
    (tmp_path / "paper" / "references.bib").write_text("@misc{x}")
    return tex


def test_the_archive_is_the_flat_tex_its_figures_and_its_bbl(paper, tmp_path):
    members = submission(paper, paper.with_suffix(".bbl"))
    assert sorted(members) == ["figures/a.pdf", "figures/b.png", "main.bbl", "main.tex"]
    assert members["figures/a.pdf"] == b"%PDF a" and members["figures/b.png"] == b"PNG b"
    tex = members["main.tex"].decode()
    assert tex.startswith("\\pdfoutput=1\n")
    assert "One \\includegraphics{figures/b.png} 50\\% % \\includegraphics{c}\n" in tex  # comments untouched
    assert "% \\input{sections/missing}" in tex and "\\input{sections/one}" not in tex
    assert "\\includegraphics[width=2cm]{figures/a.pdf}" in tex and "\\graphicspath{{figures/}}" in tex
    assert "../" not in tex


def test_the_archive_is_byte_stable(paper, tmp_path):
    first, second = tmp_path / "1.tar.gz", tmp_path / "2.tar.gz"
    pack(paper, paper.with_suffix(".bbl"), first)
    (paper.parent / "main.bbl").touch()  # a newer time changes nothing
    pack(paper, paper.with_suffix(".bbl"), second)
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as tar:
        assert all(m.mtime == 0 and m.uid == 0 and m.mode == 0o644 for m in tar.getmembers())


def test_a_missing_figure_fails_with_its_name(paper):
    (paper.parent.parent / "figs" / "b.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"includegraphics\{b\}"):
        submission(paper, paper.with_suffix(".bbl"))
