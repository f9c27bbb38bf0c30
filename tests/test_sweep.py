"""The sweep runner on a real Dask cluster with a tiny chapter (no training, ~40 s).

The chapter sleeps, glues a value and raises for one parameter value, so each test
checks the machinery: parallel papermill runs, the results table, failures, resume and
an existing scheduler.
"""
import json
import textwrap

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from cnnreport.build.sweep import SweepError, main, run_id, sweep  # noqa: E402

CHAPTER = """\
    ---
    jupytext:
      text_representation: {extension: .md, format_name: myst}
    kernelspec: {display_name: Python 3, language: python, name: python3}
    ---

    # Tiny

    ```{code-cell} ipython3
    :tags: [parameters]

    x: int = 1              # the value glued, doubled
    delay: float = 1.0      # seconds of sleep, so that runs overlap
    fail_on: int = 3        # this x raises
    profile: str = "smoke"  # results label
    ```

    ```{code-cell} ipython3
    import os
    import time
    from myst_nb import glue
    glue("cuda", os.environ.get("CUDA_VISIBLE_DEVICES", "unset"), display=False)
    glue("threads", os.environ.get("OMP_NUM_THREADS", "unset"), display=False)
    time.sleep(delay)
    if x == fail_on:
        raise ValueError(f"boom at x={x}")
    glue("double", str(2 * x), display=False)
    glue("note", f"x is {x}", display=False)
    ```
"""


@pytest.fixture
def chapter(tmp_path):
    (tmp_path / "_config.yml").write_text("title: tiny\n")  # run_chapter looks for the repo root
    src = tmp_path / "tiny.md"
    src.write_text(textwrap.dedent(CHAPTER))
    return src


@pytest.fixture(scope="module")
def cluster():
    """A cluster started outside the sweep: the sweep must use it and leave it running."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as c:
        yield c


def test_parallel_runs_fill_one_table(chapter, tmp_path):
    """The sweep's own LocalCluster (2 worker processes) runs two chapters at once."""
    out = tmp_path / "out"
    df = sweep(chapter, {"base": {"delay": 2.0}, "grid": {"x": [1, 2]}}, workers=2, out=out,
               progress=False)
    assert list(df["x"]) == [1, 2] and list(df["status"]) == ["ok", "ok"]
    assert list(df["double"]) == [2, 4] and list(df["note"]) == ["x is 1", "x is 2"]
    assert max(df["started"]) < min(df["finished"]), "the two runs did not overlap in time"
    assert (df["duration_s"] >= 2.0).all()
    assert list(df["threads"]) == [1, 1]  # one torch thread per run on the local cluster
    on_disk = pd.read_csv(out / "sweep.csv")
    assert list(on_disk["run_id"]) == [run_id({"delay": 2.0, "x": x}) for x in (1, 2)]
    for nb in df["notebook"]:
        assert '"double"' in open(nb).read()


def test_failing_run_is_recorded_and_the_sweep_goes_on(chapter, tmp_path, cluster):
    out = tmp_path / "out"
    grid = tmp_path / "g.yaml"
    grid.write_text("base: {delay: 0.1}\nruns: [{x: 3}]\ngrid: {x: [1, 2]}\n")
    code = main([str(chapter), "--grid", str(grid), "--out", str(out), "-q",
                 "--scheduler", cluster.scheduler_address])
    assert code == 1
    df = pd.read_csv(out / "sweep.csv")
    assert list(df["x"]) == [3, 1, 2]  # explicit runs first, then the grid
    assert list(df["status"]) == ["failed", "ok", "ok"]
    assert "ValueError: boom at x=3" in df.loc[0, "error"]
    kept = (out / "notebooks" / f"{df.loc[0, 'run_id']}.ipynb").read_text()
    assert "Traceback" in kept or '"traceback"' in kept


def test_resume_runs_only_failed_and_missing(chapter, tmp_path, cluster):
    """A sweep interrupted after two runs (x=1 ok, x=3 failed) is run again with x=4 added."""
    out = tmp_path / "out"
    base = {"delay": 0.1, "fail_on": 3}
    p1, p3 = {**base, "x": 1}, {**base, "x": 3}
    (out / "runs").mkdir(parents=True)
    # A sentinel glued value proves x=1 is not executed again.
    (out / "runs" / f"{run_id(p1)}.json").write_text(json.dumps(
        {"status": "ok", "error": "", "duration_s": 9.0, "glued": {"double": 99}, "params": p1}))
    (out / "runs" / f"{run_id(p3)}.json").write_text(json.dumps(
        {"status": "failed", "error": "ValueError: boom", "duration_s": 1.0, "params": p3}))
    grid = {"base": {"delay": 0.1}, "grid": {"x": [1, 3, 4], "fail_on": [3]}}
    df = sweep(chapter, grid, scheduler=cluster.scheduler_address, out=out, progress=False)
    by_x = df.set_index("x")
    assert by_x.loc[1, "double"] == 99 and by_x.loc[1, "duration_s"] == 9.0
    assert not (out / "notebooks" / f"{run_id(p1)}.ipynb").exists()
    assert by_x.loc[3, "status"] == "failed" and (out / "notebooks" / f"{run_id(p3)}.ipynb").exists()
    assert by_x.loc[4, "status"] == "ok" and by_x.loc[4, "double"] == 8
    # Once more: only the still-failing x=3 runs again; x=4 keeps its first timestamps.
    again = sweep(chapter, grid, scheduler=cluster.scheduler_address, out=out, progress=False).set_index("x")
    assert again.attrs["failed"] == 1
    assert again.loc[4, "started"] == by_x.loc[4, "started"]
    assert again.loc[3, "started"] > by_x.loc[3, "started"]


def test_existing_scheduler_by_argument_and_env(chapter, tmp_path, cluster, monkeypatch):
    df = sweep(chapter, {"runs": [{"x": 5, "delay": 0.1}]}, scheduler=cluster.scheduler_address,
               out=tmp_path / "a", progress=False)
    assert df.loc[0, "status"] == "ok" and df.loc[0, "double"] == 10
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    df = sweep(chapter, {"runs": [{"x": 6, "delay": 0.1}]}, out=tmp_path / "b", progress=False)
    assert df.loc[0, "double"] == 12
    with distributed.Client(cluster.scheduler_address) as c:  # the sweep left it running
        assert len(c.scheduler_info()["workers"]) == 2


def test_one_worker_per_gpu_pinned(chapter, tmp_path, monkeypatch):
    """With two (pretended) GPUs, each worker sees only its own through CUDA_VISIBLE_DEVICES."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    df = sweep(chapter, {"base": {"delay": 2.0}, "grid": {"x": [1, 2]}}, out=tmp_path / "o",
               progress=False)
    assert sorted(df["cuda"]) == [0, 1]


@pytest.mark.parametrize("grid, message", [
    ({"grid": {"y": [1]}}, "y = 1: not a parameter of tiny"),
    ({"grid": {"x": [1, "two"]}}, "x = 'two': expected int"),
    ({"grid": {"x": 1}}, "must be a non-empty list"),
    ({"grid": {"x": []}}, "must be a non-empty list"),
    ({"base": {"x": 1}}, "nothing to run"),
    ({"runs": [1, 2]}, "list of mappings"),
    ({"grids": {"x": [1]}}, "unknown key(s) ['grids']"),
])
def test_clear_errors_before_anything_runs(chapter, tmp_path, grid, message):
    with pytest.raises(SweepError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        sweep(chapter, grid, out=tmp_path / "o", progress=False)


def test_missing_chapter_and_grid_file(chapter, tmp_path, capsys):
    with pytest.raises(SweepError, match="does not exist"):
        sweep(tmp_path / "nope.md", {"grid": {"x": [1]}})
    assert main([str(chapter), "--grid", str(tmp_path / "none.yaml")]) == 2
    assert "grid file" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    assert main([str(chapter), "--grid", str(bad)]) == 2


def test_bad_values_stop_the_sweep_before_dask(chapter, tmp_path, monkeypatch):
    """Every run is checked against the parameters cell before a job is submitted: one line
    per distinct bad value, with the runs it occurs in."""
    import cnnreport.build.sweep as S

    def no_cluster(*a, **k):
        raise AssertionError("a Dask client was started for a sweep with bad values")
    monkeypatch.setattr(S, "dask_client", no_cluster)
    with pytest.raises(SweepError) as e:
        sweep(chapter, {"base": {"delay": "slow"}, "grid": {"x": [1, 2.5, 3]}}, out=tmp_path / "o",
              progress=False)
    text = str(e.value)
    assert "2 bad value(s), nothing was submitted" in text
    assert "delay = 'slow': expected float" in text and "[run 1 (" in text and ", 3 (" in text
    assert "x = 2.5: expected int" in text and "[run 2 (" in text
