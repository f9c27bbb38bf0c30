"""Run one chapter with one parameter file through papermill.

    python -m cnnreport.run book/architectures.md -f params/full/architectures.yaml
    python -m cnnreport.run book/architectures.md -p epochs 2 -p seeds "[0, 1]"

The Jupytext source (``.md`` or percent ``.py``) is converted to a notebook on the way
in (papermill reads only ``.ipynb``), the parameters are injected after the cell tagged
``parameters``, and the executed notebook is written to ``book/chapters/<name>.ipynb``
with the source path, profile and parameter file recorded in its metadata.  A chapter
that fails keeps its executed notebook, traceback included, and the command exits 1.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

EXECUTED_DIR = "chapters"  # under book/: the executed notebooks Jupyter Book renders


class ChapterError(RuntimeError):
    """A chapter failed to execute; the executed notebook with its traceback is kept."""


def repo_root(start: Optional[Path] = None) -> Path:
    """The folder holding ``_config.yml``, searching upwards (as Jupyter Book does)."""
    p = (start or Path.cwd()).resolve()
    for d in (p, *p.parents):
        if (d / "_config.yml").is_file():
            return d
    raise FileNotFoundError(f"no _config.yml in {p} or any parent: run from inside the cnnreport checkout")


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


def load_params(path: Optional[str]) -> Dict[str, Any]:
    if not path:
        return {}
    import yaml
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"parameter file {p} does not exist")
    data = yaml.safe_load(p.read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{p}: a parameter file must be a mapping of name: value, got {type(data).__name__}")
    return data


def _parse_value(text: str) -> Any:
    import yaml
    return yaml.safe_load(text)


def source_parameters(nb) -> Dict[str, str]:
    """Names assigned in the cell tagged ``parameters`` (name -> source line)."""
    import ast
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            tree = ast.parse(cell.source)
            return {t.id: ast.get_source_segment(cell.source, node) for node in tree.body
                    if isinstance(node, (ast.Assign, ast.AnnAssign))
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                    if isinstance(t, ast.Name)}
    raise ValueError("the chapter has no cell tagged 'parameters'")


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


def run_chapter(source: str, params: Optional[Dict[str, Any]] = None, params_file: Optional[str] = None,
                output: Optional[str] = None, profile: Optional[str] = None, progress: bool = True,
                cwd: Optional[str] = None, results_dir: Optional[str] = None) -> Path:
    """Execute ``source`` with ``params`` (file values, then explicit ones) and return the
    path of the executed notebook.  Raises :class:`ChapterError` if a cell fails."""
    import nbformat
    import papermill as pm

    src = Path(source).resolve()
    root = repo_root(src.parent)
    values = {**load_params(params_file), **(params or {})}
    nb = read_chapter(src)
    declared = source_parameters(nb)
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise ValueError(f"{src.name}: unknown parameter(s) {unknown}; the chapter declares "
                         f"{sorted(declared)}")
    if profile is not None:
        values.setdefault("profile", profile)
    profile = values.get("profile", "quick")
    out = Path(output) if output else src.parent / EXECUTED_DIR / f"{src.stem}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    nb.metadata["cnnreport"] = {"source": str(src.relative_to(root)), "profile": profile,
                                "params_file": params_file, "parameters": values}
    results = Path(results_dir) if results_dir else root / "results" / str(profile)
    # OpenMP threads that sleep instead of spinning while they wait: on a busy 2-core machine
    # spinning threads made CPU training several times slower, and idle it costs nothing.
    with _environ(CNNREPORT_RESULTS=str(results.resolve()), CNNREPORT_PROFILE=str(profile),
                  MPLBACKEND="module://matplotlib_inline.backend_inline",
                  OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE")), \
            tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / f"{src.stem}.ipynb"
        nbformat.write(nb, inp)
        t0 = time.perf_counter()
        try:
            pm.execute_notebook(str(inp), str(out), parameters=values, kernel_name="python3",
                                cwd=cwd or str(src.parent), progress_bar=progress, log_output=False,
                                request_save_on_cell_execute=False)
        except pm.PapermillExecutionError as e:
            raise ChapterError(f"chapter {src.stem} failed in cell {e.exec_count}: {e.ename}: "
                               f"{e.evalue}\n  executed notebook with the traceback: {out}") from None
    done = nbformat.read(out, as_version=4)
    done.metadata["cnnreport"]["seconds"] = round(time.perf_counter() - t0, 1)
    nbformat.write(done, out)
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cnnreport.run", description="Run one chapter through papermill.")
    p.add_argument("chapter", help="the chapter source, e.g. book/architectures.md")
    p.add_argument("-f", "--parameters-file", help="YAML file of parameters (e.g. params/full/<chapter>.yaml)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="one parameter (VALUE parsed as YAML); overrides the file")
    p.add_argument("-o", "--output", help="executed notebook path (default book/chapters/<name>.ipynb)")
    p.add_argument("--profile", help="profile label used for the results folder (default: from parameters)")
    p.add_argument("--results", help="results folder (default results/<profile>)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    params = {k: _parse_value(v) for k, v in a.parameter}
    try:
        out = run_chapter(a.chapter, params, a.parameters_file, a.output, a.profile, progress=not a.quiet,
                          results_dir=a.results)
    except (ChapterError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
