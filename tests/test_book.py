"""Builds the whole book at the smoke profile (papermill + jupyter-book) and checks the HTML."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cnnreport.book import chapters
from conftest import needs_data

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@needs_data
def test_smoke_book_builds_clean():
    p = subprocess.run([sys.executable, "-m", "cnnreport.book", "--profile", "smoke", "-q"],
                       cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    html = ROOT / "_build" / "html"
    names = chapters(ROOT / "book")
    assert "architectures" in names and names[-1] == "audit"
    for name in names:
        page = html / "chapters" / f"{name}.html"
        assert page.is_file(), f"missing page {page}"
        text = page.read_text()
        for bad in ("Traceback (most recent call last)", "output traceback", "stderr"):
            assert bad not in text, f"{name}: error output in the page ({bad})"
        assert "profile" in text
        if name == "explore":  # figures live in the embedded widget state
            assert "application/vnd.jupyter.widget-state+json" in text and "image/png;base64" in text
            continue
        if name != "audit":
            assert re.search(r"<img [^>]*src=\"[^\"]+\.png\"", text), f"{name}: no figure"
        if name != "speed":  # a page about the project, with no report claims
            assert "audit-table" in text, f"{name}: no audit table"


def test_failing_chapter_keeps_notebook_and_is_named(tmp_path):
    (tmp_path / "_config.yml").write_text("title: t\n")
    src = tmp_path / "bad.md"
    src.write_text("---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n"
                   "  name: python3\n  display_name: Python 3\n---\n\n# Bad\n\n"
                   "```{code-cell} ipython3\n:tags: [parameters]\n\nx: int = 1  # a value\n```\n\n"
                   "```{code-cell} ipython3\nraise RuntimeError('boom ' + str(x))\n```\n")
    p = subprocess.run([sys.executable, "-m", "cnnreport.run", str(src), "-p", "x", "7", "-q"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 1 and "chapter bad failed" in p.stderr and "boom 7" in p.stderr
    out = tmp_path / "chapters" / "bad.ipynb"
    assert out.is_file() and "RuntimeError" in out.read_text()
    q = subprocess.run([sys.executable, "-m", "cnnreport.run", str(src), "-p", "y", "1", "-q"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert q.returncode == 1 and "unknown parameter" in q.stderr and "'x'" in q.stderr


@pytest.mark.parametrize("profile", ["smoke", "quick", "full"])
def test_every_chapter_has_valid_parameters_for_every_profile(profile):
    """Each chapter's parameter file exists and names only parameters the chapter declares,
    so a full-profile run on a GPU cannot fail on a typo after hours of work."""
    import yaml
    from cnnreport.run import read_chapter, source_parameters
    for name in chapters(ROOT / "book"):
        path = ROOT / "params" / profile / f"{name}.yaml"
        assert path.is_file(), f"missing {path}"
        values = yaml.safe_load(path.read_text()) or {}
        declared = source_parameters(read_chapter(ROOT / "book" / f"{name}.md"))
        assert set(values) <= set(declared), (name, sorted(set(values) - set(declared)))
        assert values.get("profile") == profile, f"{path}: profile must be {profile!r}"
