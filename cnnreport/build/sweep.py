"""Run one chapter over a grid of parameters, one papermill run per parameter set, on Dask.

    python -m cnnreport sweep book/hyperparams.md --grid params/sweeps/hyperparams_full.yaml

The grid file (YAML) has ``base:`` (shared parameters, optional), ``grid:`` (name: [values],
Cartesian product) and/or ``runs:`` (a list of name: value mappings, run first)::

    base: {profile: quick, grid: null}
    grid: {optimizer: [sgd, adam], lr: [0.01, 0.001]}
    runs: [{optimizer: adam, lr: 0.0001, batch_size: 64}]

A run's parameters are, lowest priority first: ``params/<profile>/<chapter>.yaml`` (only
with ``--profile``), ``base``, the run's own values.  ``run_id`` is a short hash of them.
Every run's values are checked against the chapter's parameters cell before any job is
submitted (:mod:`cnnreport.experiments.params`).

Output (``--out``, default ``results/<profile>/sweeps/<grid file name>/``): ``sweep.csv``
(run_id, parameters, every value the chapter glued, duration_s, status ok|failed, error,
started/finished Unix times, notebook), ``notebooks/<run_id>.ipynb`` (a failed run keeps
its traceback) and ``runs/<run_id>.json`` (a marker per finished run).  The same command
again skips runs marked ok and retries failed and missing ones (``--force``: all).  The
trained results go to the chapter's usual store, so a later book build trains nothing.

Cluster: a ``distributed.LocalCluster`` by default (CPU cores // ``--threads-per-run``
single-threaded workers, or one worker per CUDA GPU pinned with CUDA_VISIBLE_DEVICES), or
a running one from ``--scheduler`` or ``$DASK_SCHEDULER_ADDRESS``.  Its workers must see
the same files (chapter, data, results) and should run one run each.  Documented run
against a separately started scheduler (smoke profile, 2-core CPU, from the checkout)::

    export CNNREPORT_DATA=$PWD/data
    .venv/bin/dask scheduler --port 8786 --no-dashboard &
    OMP_NUM_THREADS=1 .venv/bin/dask worker tcp://127.0.0.1:8786 --nworkers 2 --nthreads 1 --no-dashboard &
    .venv/bin/python -m cnnreport sweep book/hyperparams.md \\
        --grid params/sweeps/hyperparams_smoke.yaml --scheduler tcp://127.0.0.1:8786
    # -> 3/3 runs ok; table: results/smoke/sweeps/hyperparams_smoke/sweep.csv
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Union

from ..core.paths import results_root
from ..experiments.grids import SweepError, expand, load_grid, run_id  # noqa: F401 - part of the sweep API

GLUE_PREFIX = "application/papermill.record/"  # myst_nb.glue(..., display=False) mime prefix
TABLE_COLUMNS = ("run_id", "duration_s", "status", "error", "started", "finished", "notebook")


# -- one run, on a worker -----------------------------------------------------------------
def execute_run(chapter: str, params: Dict[str, Any], profile: Optional[str],
                results_dir: Optional[str], rid: str) -> Dict[str, Any]:
    """Run the chapter once (on a Dask worker) and return status and the executed notebook.

    The notebook comes back as text so the client writes it: workers need not share the
    sweep's output folder.  A failing chapter is a result, not an exception."""
    import tempfile
    from .run import ChapterError, run_chapter
    started, t0 = time.time(), time.perf_counter()
    status, error, text = "ok", "", None
    with tempfile.TemporaryDirectory(prefix="cnnreport-sweep-") as tmp:
        out = Path(tmp) / f"{rid}.ipynb"
        try:
            run_chapter(chapter, params=params, output=str(out), profile=profile, progress=False,
                        results_dir=results_dir)
        except ChapterError as e:  # its message names a temporary path: keep the first line
            status, error = "failed", str(e).splitlines()[0]
            if e.notebook is not None and Path(e.notebook).is_file():
                text = Path(e.notebook).read_text()
        except Exception as e:  # noqa: BLE001 - any failure is recorded, the sweep goes on
            status, error = "failed", f"{type(e).__name__}: {e}"
        if text is None and out.is_file():
            text = out.read_text()
    return {"status": status, "error": error, "duration_s": round(time.perf_counter() - t0, 2),
            "started": started, "finished": time.time(), "notebook_text": text,
            "host": os.uname().nodename, "pid": os.getpid()}


def glued_values(nb) -> Dict[str, Any]:
    """Values glued with ``myst_nb.glue`` in an executed notebook (name -> value).

    glue() displays the object's mime bundle with ``metadata.scrapbook.name``; with
    ``display=False`` the mime types carry the prefix ``application/papermill.record/``.
    The ``text/plain`` repr is read back as a Python literal where possible, and strings
    that hold a number (``Chapter.glue`` formats numbers as text) become numbers."""
    import ast
    values: Dict[str, Any] = {}
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []):
            name = (o.get("metadata") or {}).get("scrapbook", {}).get("name")
            if not name:
                continue
            data = {k[len(GLUE_PREFIX):] if k.startswith(GLUE_PREFIX) else k: v
                    for k, v in (o.get("data") or {}).items()}
            if "application/json" in data:
                values[name] = data["application/json"]
                continue
            text = data.get("text/plain")
            text = "".join(text) if isinstance(text, list) else text
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError, TypeError):
                value = text
            values[name] = _number(value)
    return values


def _number(v: Any) -> Any:
    if isinstance(v, str):
        with contextlib.suppress(ValueError):
            return int(v) if v.strip().lstrip("-").isdigit() else float(v)
    return v


# -- where it runs --------------------------------------------------------------------------
def gpu_ids() -> List[str]:
    """CUDA devices this process may use: CUDA_VISIBLE_DEVICES if set, else nvidia-smi -L."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip() and d.strip() != "-1"]
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU ")]


@contextlib.contextmanager
def dask_client(scheduler: Optional[str] = None, workers: Optional[int] = None,
                threads_per_run: int = 1) -> Iterator[Any]:
    """A client of the given scheduler, ``$DASK_SCHEDULER_ADDRESS``, or a new local cluster
    (closed afterwards).  Yields ``(client, resources)``: the per-run resource request."""
    import logging
    from distributed import Client, LocalCluster, Nanny, Scheduler, SpecCluster
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        with Client(address) as client:
            yield client, None
        return
    threads = str(threads_per_run)  # torch reads OMP_NUM_THREADS; the kernel inherits the env
    env = {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    gpus = gpu_ids()
    quiet = {"silence_logs": logging.ERROR}
    if gpus:
        gpus = gpus[:workers] if workers else gpus
        specs = {f"gpu{g}": {"cls": Nanny, "options": {
            "nthreads": 1, "resources": {"GPU": 1}, "env": {**env, "CUDA_VISIBLE_DEVICES": g}}}
            for g in gpus}
        cluster = SpecCluster(workers=specs, scheduler={"cls": Scheduler, "options": {
            "dashboard_address": ":0"}}, **quiet)
        resources = {"GPU": 1}
    else:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        n = workers or max(1, (cpus or 1) // max(1, threads_per_run))
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, env=env,
                               dashboard_address=":0", **quiet)
        resources = None
    try:
        with Client(cluster) as client:
            yield client, resources
    finally:
        cluster.close()


# -- the sweep --------------------------------------------------------------------------------
def _chapter_and_params(chapter: Union[str, Path], grid, profile: Optional[str]):
    """Resolve the chapter, expand the grid and check every run's values against the
    chapter's parameters cell, so a bad value fails the sweep before any job is submitted."""
    from ..experiments.params import ParameterError, declared, load_file
    from .run import repo_root
    src = Path(chapter).resolve()
    if not src.is_file():
        raise SweepError(f"chapter {chapter} does not exist")
    root = repo_root(src.parent)
    try:
        decl = declared(src)
        defaults = {}
        if profile:
            pfile = root / "params" / profile / f"{src.stem}.yaml"
            defaults = load_file(pfile) if pfile.is_file() else {}
            if "profile" in decl:
                defaults["profile"] = profile
    except ParameterError as e:
        raise SweepError(str(e)) from None
    sets = expand(load_grid(grid), defaults)
    if profile and "profile" in decl:  # the flag wins over base and runs
        sets = [{**p, "profile": profile} for p in sets]
    problems = _run_problems(decl, sets, src.stem)
    if problems:
        raise SweepError(f"{src.name}: {len(problems)} bad value(s), nothing was submitted:\n  "
                         + "\n  ".join(problems))
    return src, root, sets


def _run_problems(decl, sets: Sequence[Mapping[str, Any]], name: str) -> List[str]:
    """Each distinct bad value once, with the runs it occurs in (a grid repeats a bad base
    value in every run)."""
    from ..experiments.params import check
    where: Dict[str, List[str]] = {}
    for i, p in enumerate(sets, 1):
        for line in check(decl, p, name):
            where.setdefault(line, []).append(f"{i} ({run_id(p)})")
    return [f"{line}  [run {', '.join(runs) if len(runs) < 4 else f'{runs[0]} and {len(runs) - 1} more'}]"
            for line, runs in where.items()]


def _row(rid: str, params: Mapping[str, Any], res: Mapping[str, Any], notebook: str) -> Dict[str, Any]:
    glued = res.get("glued") or {}
    row: Dict[str, Any] = {"run_id": rid, **params}
    for k, v in glued.items():  # a glued name that clashes with a column keeps a prefix
        row[f"glue.{k}" if k in row or k in TABLE_COLUMNS else k] = v
    row.update({k: res.get(k) for k in ("duration_s", "status", "error", "started", "finished")})
    row["notebook"] = notebook
    return row


def sweep(chapter: Union[str, Path], grid_or_path: Union[str, Path, Mapping[str, Any]], *,
          profile: Optional[str] = None, scheduler: Optional[str] = None,
          workers: Optional[int] = None, threads_per_run: int = 1,
          out: Union[str, Path, None] = None, force: bool = False, progress: bool = True,
          results_dir: Optional[str] = None):
    """Run ``chapter`` once per parameter set of ``grid_or_path`` on Dask; return the table.

    The DataFrame (also ``<out>/sweep.csv``) has one row per run in grid order;
    ``df.attrs`` holds ``out`` (the folder) and ``failed`` (how many runs failed).
    Runs whose marker in ``<out>/runs`` says ok are not run again unless ``force``."""
    import nbformat
    import pandas as pd
    from distributed import as_completed
    from tqdm.auto import tqdm
    from ..core.cache import atomic_write_bytes

    src, root, sets = _chapter_and_params(chapter, grid_or_path, profile)
    label = profile or next((p["profile"] for p in sets if p.get("profile")), "quick")
    name = Path(grid_or_path).stem if isinstance(grid_or_path, (str, Path)) else "sweep"
    out = Path(out) if out else results_root(str(label), root, from_env=False) / "sweeps" / name
    markers, notebooks = out / "runs", out / "notebooks"
    ids = [run_id(p) for p in sets]
    done: Dict[str, Dict[str, Any]] = {}
    for rid in ids:
        m = markers / f"{rid}.json"
        if m.is_file():
            with contextlib.suppress(ValueError):
                done[rid] = json.loads(m.read_text())
    todo = [(rid, p) for rid, p in zip(ids, sets)
            if force or done.get(rid, {}).get("status") != "ok"]

    def table():
        rows = [_row(rid, p, done[rid], str(notebooks / f"{rid}.ipynb")) for rid, p in zip(ids, sets)
                if rid in done]
        df = pd.DataFrame(rows)
        atomic_write_bytes(out / "sweep.csv", df.to_csv(index=False).encode())
        df.attrs.update(out=str(out), failed=int((df.get("status") == "failed").sum()) if len(df) else 0)
        return df

    if not todo:
        return table()
    with dask_client(scheduler, workers, threads_per_run) as (client, resources):
        futures = {client.submit(execute_run, str(src), p, profile, results_dir, rid, key=f"sweep-{rid}",
                                 pure=False, retries=0, resources=resources): (rid, p) for rid, p in todo}
        bar = tqdm(total=len(futures), desc=f"sweep {src.stem}", unit="run", disable=not progress)
        n_failed = 0
        for fut in as_completed(futures):
            rid, p = futures[fut]
            try:
                res = fut.result()
            except Exception as e:  # noqa: BLE001 - a worker died (killed, out of memory)
                res = {"status": "failed", "error": f"{type(e).__name__}: {e}", "duration_s": None}
            text = res.pop("notebook_text", None)
            if text is not None:
                atomic_write_bytes(notebooks / f"{rid}.ipynb", text.encode())
                res["glued"] = glued_values(nbformat.reads(text, as_version=4))
            res["params"] = p
            atomic_write_bytes(markers / f"{rid}.json", json.dumps(res, default=str, indent=1).encode())
            done[rid] = res
            n_failed += res["status"] != "ok"
            table()  # rewritten after every run: an interrupted sweep leaves a usable table
            bar.set_postfix(failed=n_failed)
            bar.update(1)
        bar.close()
    return table()


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="cnnreport sweep",
                                description="Run a chapter over a grid of parameters on Dask.")
    p.add_argument("chapter", help="the chapter source, e.g. book/hyperparams.md")
    p.add_argument("--grid", required=True, help="YAML with base:, grid: and/or runs:")
    p.add_argument("--profile", help="start from params/<profile>/<chapter>.yaml and label the results")
    p.add_argument("--scheduler", help="address of a running Dask scheduler (default: "
                                       "$DASK_SCHEDULER_ADDRESS, else a new LocalCluster)")
    p.add_argument("--workers", type=int, help="local workers (default: CPUs // threads per run, or GPUs)")
    p.add_argument("--threads-per-run", type=int, default=1, help="CPU threads per run (local cluster)")
    p.add_argument("--out", help="output folder (default results/<profile>/sweeps/<grid name>)")
    p.add_argument("--results", help="results store for the runs (default results/<profile>)")
    p.add_argument("--force", action="store_true", help="run every run again, even those done")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    try:
        df = sweep(a.chapter, a.grid, profile=a.profile, scheduler=a.scheduler, workers=a.workers,
                   threads_per_run=a.threads_per_run, out=a.out, force=a.force,
                   progress=not a.quiet, results_dir=a.results)
    except (SweepError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    ok = int((df["status"] == "ok").sum())
    print(f"{ok}/{len(df)} runs ok; table: {df.attrs['out']}/sweep.csv")
    for _, r in df[df["status"] != "ok"].iterrows():
        print(f"failed {r['run_id']}: {r['error']}\n  notebook: {r['notebook']}", file=sys.stderr)
    return 1 if df.attrs["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
