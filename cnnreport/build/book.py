"""Build the book: run every chapter of a profile through papermill, then Jupyter Book.

    python -m cnnreport book --profile full           # what `make book` runs: from the stored results
    python -m cnnreport book --profile quick          # re-run the shortened runs (a laptop)
    python -m cnnreport book --profile full --no-train --no-build
    python -m cnnreport book --profile full --train   # train missing full runs even on a CPU
    python -m cnnreport book --profile smoke --chapters architectures audit

Chapters come from ``book/_toc.yml`` (entries ``chapters/<name>``, source
``book/<name>.md``) in order; each runs with ``params/<profile>/<name>.yaml``.  Every
selected chapter's parameter file is checked against its parameters cell before the
first chapter runs, and all bad values are reported at once.  Each chapter prints one
progress line (chapter i of n, elapsed time, time left estimated from the last build's
timings in ``results/<profile>/logs/book-timings.json``).  A chapter that fails is named and
keeps its notebook with the traceback under ``book/chapters/failed/``; its last good
page stays, the other chapters still run, the book is still compiled, and the command
exits 1.  Chapters not run this time (``--chapters``) keep their last executed pages; a
chapter never executed gets a page that says so, so the book always has every chapter.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from ..core.cache import atomic_write_bytes
from ..experiments.params import ParameterError, check, declared, load_file
from ..core.paths import PROFILES, results_root
from .run import EXECUTED_DIR, TRAIN_ENV, ChapterError, failed_path, repo_root, run_chapter

# Pages that summarise the others' saved audit rows: they run after every other chapter,
# wherever the table of contents puts them (the first page opens with the audit's summary).
SUMMARY_PAGES = ("intro",)
TIMINGS_FILE = "logs/book-timings.json"  # under results/<profile>/ (not committed): seconds per chapter


def chapters(book: Path) -> List[str]:
    """Chapter names in table-of-contents order."""
    import yaml
    toc = yaml.safe_load((book / "_toc.yml").read_text())
    names = []

    def walk(entries):
        for e in entries or []:
            f = e.get("file", "")
            if f.startswith(f"{EXECUTED_DIR}/"):
                names.append(f.split("/", 1)[1])
            walk(e.get("sections"))
            for part in e.get("parts", []) or []:
                walk(part.get("chapters"))
    walk([{"file": toc.get("root", "")}] + (toc.get("chapters") or []))
    for part in toc.get("parts", []) or []:
        walk(part.get("chapters"))
    return list(dict.fromkeys(names))


def build_html(book: Path, strict: bool = True, out: Optional[Path] = None) -> int:
    """Compile the executed chapters with Jupyter Book; ``out``: the folder its ``_build/``
    goes to (default: the checkout's)."""
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(book)] + (["-W", "-n", "--keep-going"] if strict else [])
    return subprocess.call(cmd + (["--path-output", str(out)] if out else []))


def html_dir(root: Path, out: Optional[Path] = None) -> Path:
    """Where :func:`build_html` writes the site's HTML."""
    return (out / "_build" if out else root / "_build") / "html"


# -- parameters, checked before anything runs ---------------------------------------------------
def parameter_problems(root: Path, profile: str, names: Sequence[str]) -> List[str]:
    """Every problem with the parameter files of ``names`` at ``profile``, one line each
    (``<chapter>: <problem>``): a missing file, a malformed parameters cell, a bad value."""
    lines = []
    for name in names:
        path = root / "params" / profile / f"{name}.yaml"
        if not path.is_file():
            lines.append(f"{name}: missing parameter file {path} for profile {profile!r}; "
                         f"copy params/quick/{name}.yaml and adjust it")
            continue
        try:
            decl = declared(root / "book" / f"{name}.md")
            values = load_file(path)
            if "profile" in decl:
                values.setdefault("profile", profile)
            lines += [f"{name}: {line}  ({path.relative_to(root)})" for line in check(decl, values, name)]
        except (ParameterError, FileNotFoundError) as e:
            lines += [f"{name}: {line}" for line in str(e).splitlines()]
    return lines


# -- progress -------------------------------------------------------------------------------------
def format_duration(seconds: float) -> str:
    """``45s``, ``1m23s``, ``2h05m``: short enough for one progress line."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def estimate_left(remaining: Sequence[str], history: Mapping[str, float],
                  done: Sequence[float] = ()) -> Optional[float]:
    """Seconds the chapters ``remaining`` (the current one included) will take: each one's
    time in the last build, else the mean of this build's chapters so far, else the mean
    of the last build.  None when nothing is known yet."""
    known = list(done) or list(history.values())
    fallback = sum(known) / len(known) if known else None
    total = 0.0
    for name in remaining:
        t = history.get(name, fallback)
        if t is None:
            return None
        total += t
    return total


def progress_line(i: int, n: int, name: str, elapsed: float, left: Optional[float]) -> str:
    """``chapter 3 of 12: losses, elapsed 1m23s, about 4m10s left``."""
    eta = f"about {format_duration(left)} left" if left is not None else "estimate after the first chapter"
    return f"chapter {i} of {n}: {name}, elapsed {format_duration(elapsed)}, {eta}"


def timings_path(root: Path, profile: str) -> Path:
    return results_root(profile, root, from_env=False) / TIMINGS_FILE


def load_timings(path: Path) -> Dict[str, float]:
    """The last build's seconds per chapter; empty when there is none or it is unreadable
    (an estimate is a convenience, never a reason to stop a build)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: float(v) for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def save_timings(path: Path, timings: Mapping[str, float]) -> None:
    """Merge ``timings`` into the file atomically (chapters not run keep their old time)."""
    merged = {**load_timings(path), **{k: round(float(v), 1) for k, v in timings.items()}}
    try:  # an estimate only: a read-only results folder must not fail the build
        atomic_write_bytes(path, json.dumps(merged, indent=1, sort_keys=True).encode())
    except OSError:
        pass
        raise


# -- pages of chapters not executed ---------------------------------------------------------------
def _title(source: Path) -> str:
    """The chapter's first ``# `` heading, else its name."""
    if source.is_file():
        for line in source.read_text().splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return source.stem


def fill_missing_pages(book: Path, names: Sequence[str], profile: str) -> List[str]:
    """Write a short page for each chapter of ``names`` that has no executed notebook.

    Jupyter Book drops a table-of-contents entry whose file is missing (and fails the
    strict build), so a fresh checkout built with ``--chapters`` or a chapter that has
    never succeeded would vanish from the book.  The page says how to produce the real
    one and is replaced by the first successful run.  Returns the names filled."""
    import nbformat
    filled = []
    for name in names:
        page = book / EXECUTED_DIR / f"{name}.ipynb"
        if page.is_file():
            continue
        failed = failed_path(page)
        why = (f"Its last run failed; the notebook with the traceback is `book/{EXECUTED_DIR}/"
               f"{failed.parent.name}/{name}.ipynb`." if failed.is_file() else "It has not been executed yet.")
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(
            f"# {_title(book / f'{name}.md')}\n\nThis chapter has no executed page. {why} "
            f"Run it with `python -m cnnreport book --profile {profile} --chapters {name}`.")]
        nb.metadata["cnnreport"] = {"source": f"book/{name}.md", "placeholder": True}
        page.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, page)
        filled.append(name)
    return filled


# -- the build ----------------------------------------------------------------------------------
def run_profile(profile: str, only: Sequence[str] = (), progress: bool = True,
                root: Optional[Path] = None, env: Optional[Mapping[str, str]] = None
                ) -> Tuple[List[Tuple[str, float]], List[str]]:
    """Run the chapters; return ([(name, seconds)], [failed names]).

    Raises :class:`ParameterError` listing every bad parameter file before any chapter runs."""
    root = root or repo_root()
    book = root / "book"
    names = chapters(book)
    unknown = sorted(set(only) - set(names))
    if unknown:
        raise ParameterError(f"unknown chapter(s) {unknown}; chapters: {', '.join(names)}")
    selected = [n for n in names if not only or n in only]
    selected = ([n for n in selected if n not in SUMMARY_PAGES] + [n for n in selected if n in SUMMARY_PAGES])
    problems = parameter_problems(root, profile, selected)
    if problems:
        raise ParameterError("\n".join(problems), problems)
    history_file = timings_path(root, profile)
    history = load_timings(history_file)
    timings: List[Tuple[str, float]] = []
    failed: List[str] = []
    t_start = time.perf_counter()
    for i, name in enumerate(selected, 1):
        left = estimate_left(selected[i - 1:], history, [dt for _, dt in timings])
        print(progress_line(i, len(selected), name, time.perf_counter() - t_start, left), flush=True)
        params = root / "params" / profile / f"{name}.yaml"
        t0 = time.perf_counter()
        try:
            run_chapter(str(book / f"{name}.md"), params_file=str(params), profile=profile,
                        progress=progress, env=env)
        except (ChapterError, ParameterError) as e:
            failed.append(name)
            print(f"error: {e}", file=sys.stderr, flush=True)
        dt = time.perf_counter() - t0
        timings.append((name, dt))
        if name not in failed:
            save_timings(history_file, {name: dt})
    return timings, failed


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="cnnreport book", description=__doc__.split("\n")[0])
    p.add_argument("--profile", default="quick", choices=PROFILES)
    p.add_argument("--chapters", nargs="*", default=(), help="only these chapters (default: all); "
                                                             "the others keep their last pages")
    p.add_argument("--train", action="store_true",
                   help=f"let chapters train missing runs, even at the full profile on a CPU ({TRAIN_ENV}=1)")
    p.add_argument("--no-train", action="store_true",
                   help=f"train nothing, even on a GPU: render from the stored results only ({TRAIN_ENV}=0)")
    p.add_argument("--no-build", action="store_true", help="execute the chapters, skip jupyter-book build")
    p.add_argument("--no-run", action="store_true", help="compile the already executed chapters only")
    p.add_argument("--out", type=Path, default=None,
                   help="build the HTML under OUT/_build/html instead of the checkout's _build/html "
                        "(the tests' smoke book, which must not replace the book `make book` built)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    a = p.parse_args(argv)
    if a.train and a.no_train:
        p.error("--train and --no-train contradict each other; give one")
    if a.out is not None and a.out.exists() and not a.out.is_dir():
        p.error(f"--out {a.out} is a file, not a folder; name a folder for the build (it is created if missing)")
    root = repo_root()
    t0 = time.perf_counter()
    failed: List[str] = []
    if not a.no_run:
        try:
            timings, failed = run_profile(a.profile, a.chapters, progress=not a.quiet, root=root,
                                          env={TRAIN_ENV: "1"} if a.train else
                                          {TRAIN_ENV: "0"} if a.no_train else None)
        except ParameterError as e:
            for line in str(e).splitlines():
                print(f"error: {line}", file=sys.stderr)
            if e.problems:
                print("nothing was run: fix the parameter files above (python -m cnnreport run "
                      "book/<chapter>.md --help-params lists a chapter's parameters)", file=sys.stderr)
            return 1
        for name, dt in timings:
            print(f"  {name:<24} {dt:8.1f} s{'  FAILED' if name in failed else ''}")
    rc = 0
    if not a.no_build:
        for name in fill_missing_pages(root / "book", chapters(root / "book"), a.profile):
            print(f"note: chapter {name} has no executed notebook; its page says how to run it")
        out = a.out.resolve() if a.out else None   # relative to where the command runs, as paths are
        rc = build_html(root / "book", out=out)
        print(f"book: {html_dir(root, out) / 'index.html'}")
    print(f"total {time.perf_counter() - t0:.1f} s")
    if failed:
        print(f"error: chapter(s) failed: {', '.join(failed)}; their last good pages are kept and "
              f"their notebooks with the traceback are in book/{EXECUTED_DIR}/failed/", file=sys.stderr)
        return 1
    return 1 if rc else 0


if __name__ == "__main__":
    raise SystemExit(main())
