"""Run one chapter with one parameter file through papermill.

    python -m cnnreport run book/architectures.md -f params/full/architectures.yaml
    python -m cnnreport run book/architectures.md -p epochs_001 2 -p seeds "[0, 1]"
    python -m cnnreport run book/architectures.md --help-params

Every value is checked against the chapter's parameters cell (:mod:`cnnreport.experiments.params`)
before a kernel starts: a bad one fails in a fraction of a second with one line per bad
parameter.  The Jupytext source (``.md`` or percent ``.py``) is converted to a notebook
on the way in (papermill reads only ``.ipynb``), the parameters are injected after the
cell tagged ``parameters``, and the notebook is executed into a temporary folder.  Only
a run that succeeded replaces ``book/chapters/<name>.ipynb`` (with the source path,
profile and parameter file in its metadata); a failed run leaves the last good page in
place, keeps its notebook with the traceback as ``book/chapters/failed/<name>.ipynb``,
names it, and the command exits 1.

The kernel talks to papermill over IPC sockets in that temporary folder, not over TCP:
nothing listens on a network port, and ipykernel has no reason to warn that TCP traffic
is unencrypted.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence

from ..experiments.params import ParameterError, declared, help_text, load_file, parse_value, validate
from ..core.paths import RESULTS_ENV, repo_root, results_root  # repo_root re-exported: chapters and tests import it from here

EXECUTED_DIR = "chapters"  # under book/: the executed notebooks Jupyter Book renders
FAILED_DIR = "failed"      # under the executed folder: notebooks of failed runs, not rendered
TRAIN_ENV = "CNNREPORT_TRAIN"
_SOCKET_PATH_MAX = 90      # a Unix socket path must stay under 108 bytes; leave room for names


class ChapterError(RuntimeError):
    """A chapter failed to execute; ``notebook`` is the kept notebook with the traceback
    (None when the run failed before papermill wrote one)."""

    def __init__(self, message: str, notebook: Optional[Path] = None):
        super().__init__(message)
        self.notebook = notebook


@contextlib.contextmanager
def _environ(**values: str):
    """Set environment variables for the kernel that papermill starts, then restore them."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def read_chapter(source: Path):
    """Read a Jupytext chapter into a notebook with a Python 3 kernel."""
    import jupytext
    if not source.is_file():
        raise FileNotFoundError(f"chapter source {source} does not exist")
    fmt = {".md": "md:myst", ".py": "py:percent"}.get(source.suffix)
    if fmt is None:
        raise ValueError(f"{source}: a chapter is a MyST .md or a percent .py Jupytext file")
    nb = jupytext.read(source, fmt=fmt)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "parameters" in tags and "remove-cell" not in tags:
            # The page shows the values actually used (papermill's injected cell), not the defaults.
            cell.metadata["tags"] = tags + ["remove-cell"]
    nb.metadata.pop("jupytext", None)
    return nb


def failed_path(output: Path) -> Path:
    """Where the notebook of a failed run of ``output`` is kept: ``failed/`` beside it, which
    Jupyter Book skips (``only_build_toc_files`` excludes files the table of contents lacks)."""
    return output.parent / FAILED_DIR / output.name


def _publish(nb, target: Path) -> None:
    """Write ``nb`` to ``target`` atomically (:func:`cnnreport.core.cache.atomic_write_bytes`): a
    reader (or Jupyter Book) sees the old file or the new one, never half of one."""
    import nbformat
    from ..core.cache import atomic_write_bytes
    atomic_write_bytes(target, nbformat.writes(nb).encode("utf-8"))


_HIDING_TAGS = ("remove-cell", "remove-input", "hide-input", "hide-cell")


def _hide_like_parameters(nb) -> None:
    """papermill's injected parameters cell takes the hiding tags of the parameters cell
    (a page that hides its parameters, as the first page does, hides their values too)."""
    tags = [t for c in nb.cells if "parameters" in c.metadata.get("tags", []) for t in c.metadata["tags"]
            if t in _HIDING_TAGS]
    for c in nb.cells:
        if tags and "injected-parameters" in c.metadata.get("tags", []):
            c.metadata["tags"] = list(dict.fromkeys([*c.metadata["tags"], *tags]))


def _keep_failed(partial: Path, output: Path) -> Optional[Path]:
    """Move the notebook of a failed run (if papermill wrote one) to ``failed/``."""
    if not partial.is_file():
        return None
    import nbformat
    kept = failed_path(output)
    try:
        _publish(nbformat.read(partial, as_version=4), kept)
    except Exception:  # noqa: BLE001 - a half-written notebook is still worth keeping as text
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_bytes(partial.read_bytes())
    return kept


def _scratch_dir() -> tempfile.TemporaryDirectory:
    """A private temporary folder whose path is short enough for the kernel's IPC sockets."""
    base = tempfile.gettempdir()
    if len(base) > _SOCKET_PATH_MAX - 30 and os.path.isdir("/tmp"):
        base = "/tmp"
    return tempfile.TemporaryDirectory(prefix="cnnreport-run-", dir=base)


def kernel_config(socket_dir: Path):
    """papermill/nbclient config that starts the kernel on IPC sockets in ``socket_dir``.

    Over TCP every kernel start logs "Kernel is running over TCP without encryption"
    (ipykernel's ``init_sockets``).  Unix sockets in a 0700 temporary folder are reachable
    only by this user, which is what encryption would otherwise have to buy."""
    from traitlets.config import Config
    path = str(socket_dir / "kernel")
    if len(path) > _SOCKET_PATH_MAX:
        raise ChapterError(f"temporary folder {socket_dir} is too long a path for the kernel's IPC "
                           f"sockets; set TMPDIR to a shorter folder such as /tmp")
    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = path
    return config


def check_parameters(source: Path, params: Optional[Mapping[str, Any]] = None,
                     params_file: Optional[str] = None, profile: Optional[str] = None) -> Dict[str, Any]:
    """The values a run passes to the chapter (file values, then explicit ones, then the
    profile where the chapter declares one), checked against its parameters cell.

    Raises :class:`ParameterError` listing every bad value; imports nothing from Jupyter."""
    values = {**load_file(params_file), **(params or {})}
    decl = declared(source)
    if profile is not None and "profile" in decl:
        values.setdefault("profile", profile)
    validate(decl, values, label=str(source))
    from ..compute.plan import chapter_problems
    problems = chapter_problems(Path(source).stem, {**{n: p.default for n, p in decl.items()}, **values})
    if problems:
        raise ParameterError("\n".join(f"{source}: {m}" for m in problems), problems)
    return values


class _PapermillInference(logging.Filter):
    """Drop papermill's notes from its own reading of the parameters cell.

    papermill guesses parameters from the cell's lines and stumbles on a second ``=`` in a
    line (a ``>= 0`` constraint in a comment), then calls the injected values "unknown".
    The values are checked against the contract by :mod:`cnnreport.experiments.params` before the
    kernel starts, so those guesses say nothing; every other papermill message passes."""

    NOTES = ("Unable to parse line", "Passed unknown parameter")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).startswith(self.NOTES)


def _quiet_papermill_inference() -> None:
    for name in ("papermill", "papermill.translators"):  # a filter does not reach child loggers
        log = logging.getLogger(name)
        if not any(isinstance(f, _PapermillInference) for f in log.filters):
            log.addFilter(_PapermillInference())


def run_chapter(source: str, params: Optional[Dict[str, Any]] = None, params_file: Optional[str] = None,
                output: Optional[str] = None, profile: Optional[str] = None, progress: bool = True,
                cwd: Optional[str] = None, results_dir: Optional[str] = None,
                env: Optional[Mapping[str, str]] = None) -> Path:
    """Execute ``source`` with ``params`` (file values, then explicit ones) and return the
    path of the executed notebook.

    Raises :class:`ParameterError` (before any kernel starts) for a bad value, and
    :class:`ChapterError` if a cell fails; then ``output`` is left as it was and the failed
    notebook is kept under ``failed/`` beside it.  ``env`` adds environment variables for
    the kernel (e.g. ``CNNREPORT_TRAIN=1``)."""
    src = Path(source).resolve()
    root = repo_root(src.parent)
    values = check_parameters(Path(source), params, params_file, profile)
    profile = values.get("profile", profile or "quick")

    import nbformat
    import papermill as pm

    _quiet_papermill_inference()
    nb = read_chapter(src)
    out = Path(output) if output else src.parent / EXECUTED_DIR / f"{src.stem}.ipynb"
    nb.metadata["cnnreport"] = {"source": str(src.relative_to(root)), "profile": profile,
                                "params_file": params_file, "parameters": values}
    results = Path(results_dir) if results_dir else results_root(str(profile), root, from_env=False)
    # OpenMP threads that sleep instead of spinning while they wait: on a busy 2-core machine
    # spinning threads made CPU training several times slower, and idle it costs nothing.
    kernel_env = {RESULTS_ENV: str(results.resolve()),
                  "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                  "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE"), **(env or {})}
    with _environ(**kernel_env), _scratch_dir() as tmp:
        inp, partial = Path(tmp) / f"{src.stem}.input.ipynb", Path(tmp) / f"{src.stem}.ipynb"
        nbformat.write(nb, inp)
        config = kernel_config(Path(tmp))
        t0 = time.perf_counter()
        try:
            pm.execute_notebook(str(inp), str(partial), parameters=values, kernel_name="python3",
                                cwd=cwd or str(src.parent), progress_bar=progress, log_output=False,
                                request_save_on_cell_execute=False, config=config)
        except pm.PapermillExecutionError as e:
            kept = _keep_failed(partial, out)
            last = f"the last good page stays: {out}" if out.is_file() else "no earlier page to keep"
            raise ChapterError(f"chapter {src.stem} failed in cell {e.exec_count}: {e.ename}: "
                               f"{e.evalue}\n  executed notebook with the traceback: {kept}\n"
                               f"  {last}", kept) from None
        except Exception as e:  # the kernel died, a timeout: still keep what ran
            kept = _keep_failed(partial, out)
            raise ChapterError(f"chapter {src.stem} failed: {type(e).__name__}: {e}"
                               + (f"\n  executed notebook so far: {kept}" if kept else ""), kept) from e
        except BaseException:  # interrupted: keep the partial notebook, then stop
            _keep_failed(partial, out)
            raise
        done = nbformat.read(partial, as_version=4)
        done.metadata["cnnreport"]["seconds"] = round(time.perf_counter() - t0, 1)
        _hide_like_parameters(done)
        _publish(done, out)
    with contextlib.suppress(FileNotFoundError):
        failed_path(out).unlink()  # it described a run this one supersedes
    return out


def _print_parameter_error(e: ParameterError, chapter: str) -> None:
    for line in str(e).splitlines():
        print(f"error: {line}", file=sys.stderr)
    if e.problems:
        print(f"nothing was run; `python -m cnnreport run {chapter} --help-params` lists every "
              f"parameter with its type, default and constraints", file=sys.stderr)


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="cnnreport run", description="Run one chapter through papermill.")
    p.add_argument("chapter", help="the chapter source, e.g. book/architectures.md")
    p.add_argument("-f", "--parameters-file", help="YAML file of parameters (e.g. params/full/<chapter>.yaml)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="one parameter (VALUE parsed as YAML; None or null for None); overrides the file")
    p.add_argument("-o", "--output", help="executed notebook path (default book/chapters/<name>.ipynb)")
    p.add_argument("--profile", help="profile label used for the results folder (default: from parameters)")
    p.add_argument("--results", help="results folder (default results/<profile>)")
    p.add_argument("--train", action="store_true",
                   help=f"let the chapter train missing runs even at the full profile on a CPU ({TRAIN_ENV}=1)")
    p.add_argument("--help-params", action="store_true",
                   help="print every parameter with its type, default (the quick profile's value, or "
                        "--profile's), constraints and comment, and exit")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    try:
        if a.help_params:
            try:
                print(help_text(a.chapter, a.profile or "quick"))
            except BrokenPipeError:  # `--help-params | head`: the reader has seen enough
                sys.stdout = open(os.devnull, "w")
            return 0
        params = {k: parse_value(v) for k, v in a.parameter}
        out = run_chapter(a.chapter, params, a.parameters_file, a.output, a.profile, progress=not a.quiet,
                          results_dir=a.results, env={TRAIN_ENV: "1"} if a.train else None)
    except ParameterError as e:
        _print_parameter_error(e, a.chapter)
        return 1
    except (ChapterError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
