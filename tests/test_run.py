"""Running chapters: values checked before a kernel starts, failed runs kept apart from
the last good page, no TCP warning, the book's checks, progress line and missing pages.

Kernels start only in the few tests that need one (a one-cell chapter, about 2 s each);
the book tests replace ``run_chapter`` and run no chapter at all."""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnnreport.build import book as B
from cnnreport.experiments.params import ParameterError, declared
from cnnreport.build.run import ChapterError, failed_path, kernel_config
from test_params import ISSUE_CASES, write_chapter

ROOT = Path(__file__).resolve().parents[1]

ISSUE_CELL = """\
from typing import List, Optional

profile: str = "quick"            # parameter profile that produced this page [one of: smoke | quick | full]
seeds: List[int] = [0]            # one run per seed [non-empty, unique, >= 0]
width: float = 0.125              # channel multiplier [> 0]
epochs_001: int = 2               # report 001: epochs [>= 1]
batch_size: int = 64              # images per step [> 0]
"""


def run(args, cwd, env=None):
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "cnnreport.build.run", *args], cwd=cwd, capture_output=True,
                       text=True, env={**os.environ, **(env or {})})
    return p, time.perf_counter() - t0


# -- cnnreport.build.run ---------------------------------------------------------------------------------
def test_failing_chapter_keeps_notebook_and_is_named(tmp_path):
    src = write_chapter(tmp_path, "x: int = 1  # a value\n", name="bad",
                        body="if x == 7:\n    raise RuntimeError('boom ' + str(x))\nprint('good', x)")
    good, failed = tmp_path / "chapters" / "bad.ipynb", tmp_path / "chapters" / "failed" / "bad.ipynb"
    p, _ = run([str(src), "-q"], tmp_path)
    assert p.returncode == 0 and good.is_file() and "good 1" in good.read_text()
    assert good.stat().st_mode & 0o044 == 0o044, "the page is readable by others"
    before = good.read_bytes()

    p, _ = run([str(src), "-p", "x", "7", "-q"], tmp_path)
    assert p.returncode == 1 and "chapter bad failed" in p.stderr and "boom 7" in p.stderr
    assert str(failed) in p.stderr, "the error names the kept notebook"
    assert failed.is_file() and "RuntimeError" in failed.read_text()
    assert good.read_bytes() == before, "a failed run replaced the last good page"
    assert not list(good.parent.glob(".*.tmp")), "a temporary file was left behind"

    q, dt = run([str(src), "-p", "y", "1", "-q"], tmp_path)
    assert q.returncode == 1 and "y = 1: not a parameter of bad" in q.stderr and "it declares x" in q.stderr

    p, _ = run([str(src), "-p", "x", "2", "-q"], tmp_path)
    assert p.returncode == 0 and "good 2" in good.read_text()
    assert not failed.exists(), "a success leaves no stale failed notebook"


def test_no_tcp_warning_at_kernel_start(tmp_path):
    src = write_chapter(tmp_path, "x: int = 1  # a value\n")
    p, _ = run([str(src), "-q"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "without encryption" not in p.stderr and "TCP" not in p.stderr, p.stderr
    assert kernel_config(tmp_path).KernelManager.transport == "ipc"


@pytest.mark.parametrize("name, text, line", ISSUE_CASES)
def test_bad_values_fail_before_a_kernel_starts(tmp_path, name, text, line):
    marker = tmp_path / "kernel-ran"
    src = write_chapter(tmp_path, ISSUE_CELL, body=f"open({str(marker)!r}, 'w').write('ran')")
    p, dt = run([str(src), "-p", name, text, "-q"], tmp_path)
    assert p.returncode == 1, p.stderr
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {src}: {line}"), p.stderr
    assert "--help-params" in p.stderr
    assert not marker.exists() and not (tmp_path / "chapters").exists(), "a kernel ran"
    assert dt < 3, f"took {dt:.1f} s"


def test_all_bad_values_are_reported_at_once(tmp_path):
    src = write_chapter(tmp_path, ISSUE_CELL)
    pfile = tmp_path / "p.yaml"
    pfile.write_text("width: -1\nseeds: []\n")
    p, _ = run([str(src), "-f", str(pfile), "-p", "batch_size", "true", "-p", "epoch", "2", "-q"], tmp_path)
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("error: ")]
    assert p.returncode == 1 and len(errors) == 4, p.stderr
    for name in ("width = -1", "seeds = []", "batch_size = True", "epoch = 2: not a parameter"):
        assert any(name in ln for ln in errors), (name, errors)


def test_the_real_architectures_chapter_fails_fast_and_keeps_its_page(tmp_path):
    """The issue's command on a copy of the real chapter: no kernel, under 3 s, the executed
    page untouched."""
    (tmp_path / "_config.yml").write_text("title: copy\n")
    (tmp_path / "book" / "chapters").mkdir(parents=True)
    (tmp_path / "params" / "smoke").mkdir(parents=True)
    shutil.copy(ROOT / "book" / "architectures.md", tmp_path / "book")
    shutil.copy(ROOT / "params" / "smoke" / "architectures.yaml", tmp_path / "params" / "smoke")
    page = tmp_path / "book" / "chapters" / "architectures.ipynb"
    page.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    before = page.read_bytes()
    p, dt = run(["book/architectures.md", "-f", "params/smoke/architectures.yaml", "-p", "seeds", "3"], tmp_path)
    assert p.returncode == 1 and "seeds = 3: expected" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    assert dt < 3, f"took {dt:.1f} s"
    assert page.read_bytes() == before and not (page.parent / "failed").exists()


def test_help_params_lists_type_default_constraints_and_comment(tmp_path):
    src = write_chapter(tmp_path, ISSUE_CELL)
    (tmp_path / "params" / "quick").mkdir(parents=True)
    (tmp_path / "params" / "quick" / "tiny.yaml").write_text("profile: quick\nwidth: 0.25\n")
    p, dt = run([str(src), "--help-params"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "  width: float (default 0.25)  [> 0]\n      channel multiplier" in p.stdout
    assert "  seeds: List[int] (default [0])  [non-empty, unique, >= 0]\n      one run per seed" in p.stdout
    real = ROOT / "book" / "architectures.md"
    q, _ = run([str(real), "--help-params"], ROOT)
    assert q.returncode == 0, q.stderr
    for name in declared(real):
        assert f"\n  {name}: " in q.stdout, name
    assert dt < 3


def test_a_kernel_that_raises_through_run_chapter_gives_the_kept_notebook(tmp_path):
    from cnnreport.build.run import run_chapter
    src = write_chapter(tmp_path, "x: int = 1  # a value\n", body="raise ValueError('inside')")
    out = tmp_path / "out" / "tiny.ipynb"
    with pytest.raises(ChapterError) as e:
        run_chapter(str(src), output=str(out), progress=False)
    assert e.value.notebook == failed_path(out) and "ValueError" in e.value.notebook.read_text()
    assert not out.exists()
    with pytest.raises(ParameterError):
        run_chapter(str(src), params={"x": "one"}, output=str(out), progress=False)


# -- cnnreport.build.book: progress and timings ------------------------------------------------------------
@pytest.mark.parametrize("seconds, text", [(0, "0s"), (45.4, "45s"), (83, "1m23s"), (600, "10m00s"),
                                           (3600 + 5 * 60 + 9, "1h05m")])
def test_format_duration(seconds, text):
    assert B.format_duration(seconds) == text


def test_estimate_from_the_last_build_then_the_mean():
    history = {"a": 10.0, "b": 20.0, "c": 30.0}
    assert B.estimate_left(["b", "c"], history) == 50.0
    assert B.estimate_left(["c", "new"], history, done=[4.0, 8.0]) == 36.0  # new: mean of this build
    assert B.estimate_left(["c", "new"], history) == 50.0  # new: mean of the last build
    assert B.estimate_left(["a", "b"], {}, done=[5.0]) == 10.0
    assert B.estimate_left(["a"], {}) is None


def test_progress_line():
    assert B.progress_line(3, 12, "losses", 83, 250) == "chapter 3 of 12: losses, elapsed 1m23s, about 4m10s left"
    assert B.progress_line(1, 12, "architectures", 0, None) == \
        "chapter 1 of 12: architectures, elapsed 0s, estimate after the first chapter"


def test_timings_are_merged_atomically(tmp_path):
    path = tmp_path / "results" / "quick" / B.TIMINGS_FILE
    assert B.load_timings(path) == {}
    B.save_timings(path, {"a": 1.23, "b": 2})
    B.save_timings(path, {"b": 5})
    assert json.loads(path.read_text()) == {"a": 1.2, "b": 5.0}
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    path.write_text("{not json")
    assert B.load_timings(path) == {}


# -- cnnreport.build.book: a tiny book ------------------------------------------------------------------------
TOC = "format: jb-book\nroot: intro\nchapters:\n" + "".join(f"  - file: chapters/{n}\n" for n in "abc")


@pytest.fixture
def tiny_book(tmp_path, monkeypatch):
    """Three chapters a, b, c with good quick parameter files, run by a fake run_chapter."""
    (tmp_path / "_config.yml").write_text("title: t\nonly_build_toc_files: true\nexecute:\n"
                                          "  execute_notebooks: 'off'\n")
    book = tmp_path / "book"
    book.mkdir()
    (book / "_toc.yml").write_text(TOC)
    (book / "intro.md").write_text("# Intro\n\nHello.\n")
    (tmp_path / "params" / "quick").mkdir(parents=True)
    for n in "abc":
        write_chapter(book, ISSUE_CELL, name=n)
        (tmp_path / "params" / "quick" / f"{n}.yaml").write_text("profile: quick\nseeds: [0, 1]\n")
    (book / "_config.yml").unlink()
    calls = []

    def fake_run(source, params_file=None, profile=None, progress=True, env=None, **kw):
        name = Path(source).stem
        calls.append((name, env))
        if name == "b":
            raise ChapterError(f"chapter b failed in cell 2: ValueError: boom\n  executed notebook "
                               f"with the traceback: {book}/chapters/failed/b.ipynb")
        time.sleep(0.01)

    monkeypatch.setattr(B, "run_chapter", fake_run)
    monkeypatch.chdir(tmp_path)
    return tmp_path, calls


def test_the_book_checks_every_parameter_file_before_running_any(tiny_book, capsys):
    root, calls = tiny_book
    (root / "params" / "quick" / "a.yaml").write_text("profile: quick\nseeds: 3\n")
    (root / "params" / "quick" / "c.yaml").write_text("profile: quick\nwidth: -1\nepochs: 2\n")
    (root / "params" / "quick" / "b.yaml").unlink()
    assert B.main(["--no-build"]) == 1
    err = capsys.readouterr().err
    assert calls == [], "a chapter ran before every parameter file was checked"
    for text in ("a: seeds = 3: expected List[int]", "b: missing parameter file", "c: width = -1: expected > 0",
                 "c: epochs = 2: not a parameter of c; did you mean epochs_001?"):
        assert text in err, (text, err)
    assert "nothing was run" in err


def test_the_book_refuses_an_output_folder_that_is_a_file_before_running_anything(tiny_book, capsys):
    root, calls = tiny_book
    (root / "taken").write_text("not a folder")
    with pytest.raises(SystemExit):
        B.main(["--out", "taken"])
    assert calls == [] and "--out taken is a file, not a folder" in capsys.readouterr().err


def test_the_book_names_failures_prints_progress_and_stores_timings(tiny_book, capsys):
    root, calls = tiny_book
    B.save_timings(B.timings_path(root, "quick"), {"a": 60, "b": 120, "c": 30})
    assert B.main(["--no-build", "--train"]) == 1
    out, err = capsys.readouterr()
    assert [c[0] for c in calls] == ["a", "b", "c"], "a failure stopped the other chapters"
    assert all(env == {"CNNREPORT_TRAIN": "1"} for _, env in calls)
    lines = [ln for ln in out.splitlines() if ln.startswith("chapter ")]
    assert lines[0] == "chapter 1 of 3: a, elapsed 0s, about 3m30s left"
    assert lines[1].startswith("chapter 2 of 3: b, elapsed 0s, about 2m30s left")
    assert lines[2].startswith("chapter 3 of 3: c, elapsed 0s, about 30s left")
    assert "chapter(s) failed: b" in err and "boom" in err
    stored = B.load_timings(B.timings_path(root, "quick"))
    assert stored["b"] == 120 and stored["a"] < 5 and stored["c"] < 5  # a failed run keeps the old time


def test_a_subset_without_history_estimates_from_the_first_chapter(tiny_book, capsys):
    root, calls = tiny_book
    assert B.main(["--no-build", "--chapters", "a", "c"]) == 0
    out = capsys.readouterr().out
    assert [c[0] for c in calls] == ["a", "c"] and all(env is None for _, env in calls)
    assert "chapter 1 of 2: a, elapsed 0s, estimate after the first chapter" in out
    assert "chapter 2 of 2: c, elapsed 0s, about 0s left" in out


def test_missing_pages_are_filled_and_executed_pages_kept(tiny_book):
    import nbformat
    root, _ = tiny_book
    book = root / "book"
    executed = book / "chapters"
    executed.mkdir()
    kept = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A\n\nthe last good run")])
    nbformat.write(kept, executed / "a.ipynb")
    before = (executed / "a.ipynb").read_bytes()
    (executed / "failed").mkdir()
    nbformat.write(kept, executed / "failed" / "b.ipynb")
    assert B.fill_missing_pages(book, ["a", "b", "c"], "quick") == ["b", "c"]
    assert (executed / "a.ipynb").read_bytes() == before
    b = (executed / "b.ipynb").read_text()
    assert "# Tiny" in b and "failed/b.ipynb" in b and "--chapters b" in b
    assert "has not been executed yet" in (executed / "c.ipynb").read_text()
    assert B.fill_missing_pages(book, ["a", "b", "c"], "quick") == []


def test_jupyter_book_renders_kept_and_filled_pages_but_not_failed_ones(tiny_book):
    """A real (three-page) Jupyter Book build: the strict build passes with a chapter that
    was never executed, and nothing under chapters/failed/ becomes a page."""
    import nbformat
    root, _ = tiny_book
    book = root / "book"
    (book / "chapters" / "failed").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A\n\nkept page")]),
                   book / "chapters" / "a.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# B failed")]),
                   book / "chapters" / "failed" / "b.ipynb")
    B.fill_missing_pages(book, B.chapters(book), "quick")
    jb = Path(sys.executable).parent / "jupyter-book"
    p = subprocess.run([str(jb), "build", str(book), "-W", "-n", "--keep-going"], cwd=root,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    html = next(d for d in (root / "_build" / "html", book / "_build" / "html") if d.is_dir())
    assert "kept page" in (html / "chapters" / "a.html").read_text()
    for n in "bc":
        assert "no executed page" in (html / "chapters" / f"{n}.html").read_text()
    assert not (html / "chapters" / "failed").exists()


def test_the_real_config_builds_only_toc_files():
    """``book/chapters/failed/`` stays out of the book only while this holds."""
    import yaml
    assert yaml.safe_load((ROOT / "_config.yml").read_text())["only_build_toc_files"] is True
    toc = (ROOT / "book" / "_toc.yml").read_text()
    assert "glob" not in toc and "failed" not in toc


def test_the_injected_parameters_hide_where_the_parameters_cell_hides():
    import nbformat
    from cnnreport.build.run import _hide_like_parameters
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("profile = 'quick'", metadata={"tags": ["parameters", "remove-cell"]}),
                nbformat.v4.new_code_cell("profile = 'full'", metadata={"tags": ["injected-parameters"]})]
    _hide_like_parameters(nb)
    assert nb.cells[1].metadata["tags"] == ["injected-parameters", "remove-cell"]
    shown = nbformat.v4.new_notebook()
    shown.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                   nbformat.v4.new_code_cell("x = 2", metadata={"tags": ["injected-parameters"]})]
    _hide_like_parameters(shown)
    assert shown.cells[1].metadata["tags"] == ["injected-parameters"]
