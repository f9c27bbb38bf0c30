import os
from pathlib import Path

import numpy as np
import pytest

DATA = Path(os.environ.get("CNNREPORT_DATA", Path(__file__).resolve().parents[1] / "data"))


def have(name: str) -> bool:
    return (DATA / f"{name}.npz").is_file()


needs_data = pytest.mark.skipif(not (have("mnist") and have("cifar10")),
                                reason="datasets not materialized (run `make data`)")


def make_tiny(n_per_class: int = 30, seed: int = 0):
    """A small learnable 32x32 RGB dataset: each of 4 classes lights up one quadrant."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(4), n_per_class)
    x = rng.integers(0, 128, size=(len(y), 32, 32, 3), dtype=np.uint8)
    for c in range(4):
        r, q = divmod(c, 2)
        x[y == c, r * 16:(r + 1) * 16, q * 16:(q + 1) * 16] = 255
    return x, y


@pytest.fixture
def tiny_root(tmp_path):
    """A data root holding tiny.npz in the prepared format."""
    xtr, ytr = make_tiny(30, seed=0)
    xte, yte = make_tiny(8, seed=1)
    np.savez(tmp_path / "tiny.npz", x_train=xtr, y_train=ytr, x_test=xte, y_test=yte,
             classes=np.array(["a", "b", "c", "d"]))
    return tmp_path


@pytest.fixture
def tiny(tiny_root, monkeypatch):
    """The tiny dataset, loaded through ``$CNNREPORT_DATA`` pointing at ``tiny_root``
    (so code that loads ``"tiny"`` by name finds it too)."""
    from cnnreport.core import data as D
    monkeypatch.setenv(D.ENV_VAR, str(tiny_root))
    return D.load_dataset("tiny")


ROOT = Path(__file__).resolve().parents[1]
# The tests' smoke book has its own output folder, so that `make test` leaves the book that
# `make book` built in _build/html as it is.
SMOKE_OUT = ROOT / "_build" / "smoke"
BOOK_HTML = SMOKE_OUT / "_build" / "html"
# What `make widgets-js` fetches; html_extra_path copies it into the built book's _static/.
WIDGETS_JS = ROOT / "book" / "_extra" / "_static" / "widgets" / "embed.js"


def _newest(paths) -> float:
    return max((p.stat().st_mtime for p in paths if p.is_file()), default=0.0)


def _profile(notebook: Path) -> str:
    """The profile an executed chapter ran at (its ``cnnreport`` metadata)."""
    import json
    return json.loads(notebook.read_text()).get("metadata", {}).get("cnnreport", {}).get("profile", "")


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The built HTML smoke book (``_build/smoke/_build/html``), shared by the tests that read it.

    Built once per session at the smoke profile when ``chapters/explore.html`` is missing
    or older than what it is made from: the chapters are re-executed when a chapter, a
    smoke parameter file or the library is newer than the executed notebooks, or when these
    ran at another profile (``make book`` shares ``book/chapters/``), otherwise
    only the HTML is compiled again (``--no-run``) when the configuration, the static files
    or the notebooks are newer than the page. A chapter that fails does not fail this
    fixture (``test_book`` checks that); the pages the caller needs must exist.
    """
    import subprocess
    import sys
    if not WIDGETS_JS.is_file():
        pytest.fail(f"missing {WIDGETS_JS.relative_to(ROOT)}: run `make widgets-js`")
    from cnnreport.build.book import chapters
    book = ROOT / "book"
    notebooks = [book / "chapters" / f"{name}.ipynb" for name in chapters(book)]
    chapter_sources = ([book / "_toc.yml"] + sorted(book.glob("*.md"))
                       + sorted((ROOT / "params" / "smoke").glob("*.yaml"))
                       + sorted((ROOT / "cnnreport").rglob("*.py")))
    html_sources = ([ROOT / "_config.yml"] + sorted(WIDGETS_JS.parent.glob(".html-manager-*"))
                    + sorted((book / "_static").rglob("*")) + notebooks)
    page = BOOK_HTML / "chapters" / "explore.html"
    run_chapters = (not all(p.is_file() for p in notebooks)
                    or min(p.stat().st_mtime for p in notebooks) < _newest(chapter_sources)
                    or any(_profile(p) != "smoke" for p in notebooks))   # e.g. `make book`'s full ones
    stale = not page.is_file() or run_chapters or page.stat().st_mtime < _newest(html_sources)
    if stale:
        import time
        started = time.time()
        if run_chapters and not (have("mnist") and have("cifar10")):
            pytest.skip("the book needs building and the datasets are not materialized (run `make data`)")
        for old in (BOOK_HTML / "chapters").glob("*.html"):  # Sphinx rewrites only missing or
            old.unlink()                                     # outdated pages, not for new assets
        cmd = [sys.executable, "-m", "cnnreport.build.book", "--profile", "smoke", "-q", "--out", str(SMOKE_OUT)]
        p = subprocess.run(cmd + ([] if run_chapters else ["--no-run"]), cwd=ROOT,
                           capture_output=True, text=True)
        if not page.is_file() or page.stat().st_mtime < started - 1:
            pytest.fail(f"the book build did not write {page}:\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
    return BOOK_HTML


@pytest.fixture
def register():
    """Register synthetic experiment functions (``register(name, fn)``); removed again after
    the test, so no other test sees them."""
    from cnnreport import experiments as E
    added = []

    def add(name, fn):
        E.EXPERIMENTS.register(name, fn)
        added.append(name)
    yield add
    for name in added:
        if name in E.EXPERIMENTS:
            E.EXPERIMENTS.unregister(name)
