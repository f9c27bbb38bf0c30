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
        if name == "pending":  # tables of runs, no figure, no claims
            assert "distinct runs at this profile" in text
            continue
        if name != "audit":
            assert re.search(r"<img [^>]*src=\"[^\"]+\.png\"", text), f"{name}: no figure"
        if name != "speed":  # a page about the project, with no report claims
            assert "audit-table" in text, f"{name}: no audit table"


@pytest.mark.parametrize("profile", ["smoke", "quick", "full"])
def test_every_chapter_has_valid_parameters_for_every_profile(profile):
    """Each chapter's parameter file exists and names only parameters the chapter declares,
    so a full-profile run on a GPU cannot fail on a typo after hours of work."""
    import yaml
    from cnnreport.params import declared as declared_params
    for name in chapters(ROOT / "book"):
        path = ROOT / "params" / profile / f"{name}.yaml"
        assert path.is_file(), f"missing {path}"
        values = yaml.safe_load(path.read_text()) or {}
        declared = declared_params(ROOT / "book" / f"{name}.md")
        assert set(values) <= set(declared), (name, sorted(set(values) - set(declared)))
        assert values.get("profile") == profile, f"{path}: profile must be {profile!r}"
