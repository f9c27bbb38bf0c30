"""Builds the whole book at the smoke profile (papermill + jupyter-book) and checks the HTML."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cnnreport.build.book import chapters
from conftest import BOOK_HTML, SMOKE_OUT, needs_data

ROOT = Path(__file__).resolve().parents[1]
# A table cell that prints pandas' own word for a missing number instead of the page's dash.
BARE_MISSING = re.compile(r"<td>\s*(NaN|nan|None|&lt;NA&gt;)\s*</td>")


def bare_missing(page: Path) -> list:
    """The chapters' table cells that read NaN or None (``pages.tables.table`` shows a dash)."""
    return BARE_MISSING.findall(page.read_text())


@pytest.mark.slow
@needs_data
def test_smoke_book_builds_clean():
    full_page = ROOT / "_build" / "html" / "chapters" / "intro.html"
    before = full_page.stat().st_mtime if full_page.is_file() else None
    p = subprocess.run([sys.executable, "-m", "cnnreport.build.book", "--profile", "smoke", "-q",
                        "--out", str(SMOKE_OUT)], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert f"book: {BOOK_HTML / 'index.html'}" in p.stdout
    # the book that `make book` built stays as it was
    assert (full_page.stat().st_mtime if full_page.is_file() else None) == before
    html = BOOK_HTML
    names = chapters(ROOT / "book")
    assert "architectures" in names and names[-1] == "audit"
    for name in names:
        page = html / "chapters" / f"{name}.html"
        assert page.is_file(), f"missing page {page}"
        text = page.read_text()
        for bad in ("Traceback (most recent call last)", "output traceback", "stderr"):
            assert bad not in text, f"{name}: error output in the page ({bad})"
        assert "profile" in text
        assert not bare_missing(page), f"{name}: a table prints NaN or None for a missing number"
        if name == "explore":  # figures live in the embedded widget state
            assert "application/vnd.jupyter.widget-state+json" in text and "image/png;base64" in text
            continue
        if name == "pending":  # tables of runs, no figure, no claims
            assert "distinct runs at this profile" in text
            continue
        if name != "audit":
            assert re.search(r"<img [^>]*src=\"[^\"]+\.png\"", text), f"{name}: no figure"
        if name not in ("speed", "intro"):  # pages about the project, with no report claims
            assert "audit-table" in text, f"{name}: no audit table"


@pytest.mark.slow
@needs_data
def test_full_book_builds_from_the_committed_results_and_trains_nothing(tmp_path):
    """`make book`: the full profile rendered from results/full with training forbidden even on
    a GPU, so the build only reads what is stored.  It runs in a copy of the checkout, so the
    smoke pages the other tests read and the committed audit files stay as they are."""
    import json
    import os
    import shutil
    work = tmp_path / "checkout"
    skip = shutil.ignore_patterns("chapters", "_build", "checkpoints", "locks", "logs", "__pycache__")
    for name in ("book", "cnnreport", "params"):
        shutil.copytree(ROOT / name, work / name, ignore=skip)
    shutil.copy(ROOT / "_config.yml", work / "_config.yml")
    shutil.copytree(ROOT / "results" / "full", work / "results" / "full", ignore=skip)
    def stored():  # result files: what the build writes besides (audit rows, its timings) left out
        return sorted(str(f.relative_to(work)) for f in (work / "results" / "full").rglob("*.json")
                      if not {"audit", "logs"} & set(f.parts))
    before = stored()
    env = {k: v for k, v in os.environ.items() if k != "CNNREPORT_RESULTS"}
    env["PYTHONPATH"] = str(work)
    p = subprocess.run([sys.executable, "-m", "cnnreport", "book", "--profile", "full", "--no-train", "-q"],
                       cwd=work, capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert stored() == before  # nothing trained
    intro = (work / "_build" / "html" / "chapters" / "intro.html").read_text()
    assert "At the full profile the audit has" in intro and re.search(r"<img [^>]*src=", intro)
    # pending runs leave holes in the tables: each reads as a dash, never as NaN or None
    pages = sorted((work / "_build" / "html" / "chapters").glob("*.html"))
    assert pages and not {p.stem: bare_missing(p) for p in pages if bare_missing(p)}
    rows = [r for f in (work / "results" / "full" / "audit").glob("*.json") for r in json.loads(f.read_text())]
    assert rows and all(r["profile"] == "full" for r in rows)


@pytest.mark.parametrize("profile", ["smoke", "quick", "full"])
def test_every_chapter_has_valid_parameters_for_every_profile(profile):
    """Each chapter's parameter file exists and names only parameters the chapter declares,
    so a full-profile run on a GPU cannot fail on a typo after hours of work."""
    import yaml
    from cnnreport.experiments.params import declared as declared_params
    for name in chapters(ROOT / "book"):
        path = ROOT / "params" / profile / f"{name}.yaml"
        assert path.is_file(), f"missing {path}"
        values = yaml.safe_load(path.read_text()) or {}
        declared = declared_params(ROOT / "book" / f"{name}.md")
        assert set(values) <= set(declared), (name, sorted(set(values) - set(declared)))
        assert values.get("profile") == profile, f"{path}: profile must be {profile!r}"
