"""Build the book: run every chapter of a profile through papermill, then Jupyter Book.

    python -m cnnreport.book --profile quick          # what `make book` runs
    python -m cnnreport.book --profile full --no-build
    python -m cnnreport.book --profile smoke --chapters architectures audit

Chapters come from ``book/_toc.yml`` (entries ``chapters/<name>``, source
``book/<name>.md``) in order; each runs with ``params/<profile>/<name>.yaml``.  A
chapter that fails is named, keeps its executed notebook with the traceback, and the
other chapters still run and the book is still compiled; the command then exits 1.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from .run import EXECUTED_DIR, ChapterError, repo_root, run_chapter

PROFILES = ("smoke", "quick", "full")


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
    walk([toc] + (toc.get("chapters") or []))
    for part in toc.get("parts", []) or []:
        walk(part.get("chapters"))
    return list(dict.fromkeys(names))


def build_html(book: Path, strict: bool = True) -> int:
    cmd = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(book)] + (["-W", "-n", "--keep-going"] if strict else [])
    return subprocess.call(cmd)


def run_profile(profile: str, only: Sequence[str] = (), progress: bool = True,
                root: Optional[Path] = None) -> Tuple[List[Tuple[str, float]], List[str]]:
    """Run the chapters; return ([(name, seconds)], [failed names])."""
    root = root or repo_root()
    book = root / "book"
    names = chapters(book)
    unknown = sorted(set(only) - set(names))
    if unknown:
        raise SystemExit(f"unknown chapter(s) {unknown}; chapters: {', '.join(names)}")
    timings, failed = [], []
    for name in names:
        if only and name not in only:
            continue
        params = root / "params" / profile / f"{name}.yaml"
        if not params.is_file():
            raise SystemExit(f"missing parameter file {params} for chapter {name!r} at profile {profile!r}")
        print(f"[{profile}] {name} ...", flush=True)
        t0 = time.perf_counter()
        try:
            run_chapter(str(book / f"{name}.md"), params_file=str(params), profile=profile, progress=progress)
            status = "ok"
        except ChapterError as e:
            failed.append(name)
            status = "FAILED"
            print(f"error: {e}", file=sys.stderr, flush=True)
        dt = time.perf_counter() - t0
        timings.append((name, dt))
        print(f"[{profile}] {name}: {status} in {dt:.1f} s", flush=True)
    return timings, failed


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cnnreport.book", description=__doc__.split("\n")[0])
    p.add_argument("--profile", default="quick", choices=PROFILES)
    p.add_argument("--chapters", nargs="*", default=(), help="only these chapters (default: all)")
    p.add_argument("--no-build", action="store_true", help="execute the chapters, skip jupyter-book build")
    p.add_argument("--no-run", action="store_true", help="compile the already executed chapters only")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    a = p.parse_args(argv)
    root = repo_root()
    t0 = time.perf_counter()
    failed: List[str] = []
    if not a.no_run:
        timings, failed = run_profile(a.profile, a.chapters, progress=not a.quiet, root=root)
        for name, dt in timings:
            print(f"  {name:<24} {dt:8.1f} s")
    rc = 0
    if not a.no_build:
        rc = build_html(root / "book")
        print(f"book: {root / '_build' / 'html' / 'index.html'}")
    print(f"total {time.perf_counter() - t0:.1f} s")
    if failed:
        print(f"error: chapter(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 1 if rc else 0


if __name__ == "__main__":
    raise SystemExit(main())
