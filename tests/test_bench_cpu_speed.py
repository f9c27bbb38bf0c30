"""bench/cpu_speed.py builds its four contenders from the plan and they train (no timing asserted)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
cpu_speed = pytest.importorskip("cpu_speed")


def test_every_contender_steps_and_rows_cover_the_plans_models():
    rows = cpu_speed.plan_rows()
    models = {r["model"] for r in rows}
    assert {"alexnet_fmnist", "resnet9", "basic_cnn"} <= models
    lenet = next(r for r in rows if r["model"] == "lenet")
    contenders = {"plain_fp32": cpu_speed.plain_contender(lenet, False),
                  "plain_bf16": cpu_speed.plain_contender(lenet, True),
                  "ours_fp32": cpu_speed.ours_contender(lenet, "fp32"),
                  "ours_bf16": cpu_speed.ours_contender(lenet, "bf16")}
    rates = cpu_speed.interleaved(contenders, steps=1, rounds=1)
    assert set(rates) == set(contenders) and all(v > 0 for v in rates.values())


def test_jobs_side_by_side_sums_the_rates_of_one_thread_processes():
    lenet = next(r for r in cpu_speed.plan_rows() if r["model"] == "lenet")
    assert cpu_speed.jobs_side_by_side(lenet, "fp32", jobs=2, steps=2, settle=10.0) > 0
