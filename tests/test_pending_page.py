"""At the full profile a CPU trains nothing: pages render with pending runs, and the page
of pending runs renders whatever is stored."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cnnreport.compute import plan as P

ROOT = Path(__file__).resolve().parents[1]


def _run_chapter(name, profile, results, out, extra_env=None):
    env = {k: v for k, v in os.environ.items() if k not in ("CNNREPORT_TRAIN", "CNNREPORT_RESULTS")}
    env.update(CUDA_VISIBLE_DEVICES="", **(extra_env or {}))
    cmd = [sys.executable, "-m", "cnnreport.build.run", f"book/{name}.md", "-f", f"params/{profile}/{name}.yaml",
           "--results", str(results), "-o", str(out), "-q"]
    t0 = time.time()
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    return p, time.time() - t0


def test_a_full_chapter_renders_on_a_cpu_with_pending_runs_and_trains_nothing(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    p, seconds = _run_chapter("architectures", "full", results, tmp_path / "architectures.ipynb")
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    written = [f for f in results.rglob("*") if f.is_file() and "audit" not in f.parts]
    assert not written, f"a full run was trained or stored on a CPU: {written}"
    rows = json.loads((results / "audit" / "architectures.json").read_text())
    rows = rows["rows"] if isinstance(rows, dict) else rows
    pending = [r for r in rows if r["verdict"] == "pending"]
    # every claim measured on runs waits for them; rows that need no run (a visual judgement,
    # a method flaw, parameter counts) keep their own verdicts
    assert len(pending) >= len(rows) // 2, [r["verdict"] for r in rows]
    assert all("python -m cnnreport queue --profile full --chapters architectures" in r["reason"] for r in pending)
    assert not any(r["verdict"] == "pending" for r in rows if "waits for" not in r["reason"])
    assert seconds < 240, f"rendering a chapter with nothing stored took {seconds:.0f}s"


def _fake_store_everything(profile, results):
    """A stored file for every run of the plan (their content is not read by the page)."""
    plan = P.build(profile, results=results)
    for e in plan.entries:
        path = Path(e.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"key": e.config_key, "config": e.config, "status": "ok"}))
    return plan


@pytest.mark.slow
def test_the_pending_page_renders_with_nothing_and_with_everything_stored(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    out = tmp_path / "pending.ipynb"
    p, _ = _run_chapter("pending", "smoke", results, out)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    text = out.read_text()
    assert "pending, about" in text and "python -m cnnreport queue --profile smoke" in text
    plan = _fake_store_everything("smoke", results)
    assert not P.refresh(plan).pending()
    p, _ = _run_chapter("pending", "smoke", results, out)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    assert "Nothing is pending at the smoke profile" in out.read_text()
