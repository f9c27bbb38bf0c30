"""The tables, readings and rules behind the NumPy chapter's verdicts on report 004: each
rule on synthetic numbers that make it hold, be contradicted and be inconclusive."""
import math

import pytest

from cnnreport.core import stats as S
from cnnreport.analysis import scratch as SC
from cnnreport.core.store import Result


def run(key, test_acc, train, val, train_loss=(), train_time=1.0):
    return Result(key=key, config={}, status="ok", test_acc=test_acc, final_test_acc=test_acc,
                  history={"train_acc": list(train), "val_acc": list(val), "train_loss": list(train_loss)},
                  train_time=train_time)


def grid():
    configs, results = {}, {}
    # two (lr, hidden) pairs, each at two weight decays; the larger decay narrows the gap
    for lr, h, wd, test, train, val in ((0.1, 500, 1e-3, 0.95, 0.99, 0.94), (0.1, 500, 1e-2, 0.96, 0.97, 0.95),
                                        (0.1, 1000, 1e-3, 0.955, 0.99, 0.95), (0.1, 1000, 1e-2, 0.965, 0.98, 0.96)):
        label = f"lr {lr:g}, hidden {h}, wd {wd:g}"
        configs[label] = {"lr": lr, "hidden": [h], "weight_decay": wd}
        results[label] = run(label, test, [0.5, train], [0.5, val])
    return configs, results


def test_grid_table_rows_and_gap():
    configs, results = grid()
    t = SC.grid_table(configs, results, {(0.1, 500, 1e-3): 95.81})
    row = t.loc["lr 0.1, hidden 500, wd 0.001"]
    assert math.isclose(row["test acc (%)"], 95.0) and math.isclose(row["best val acc (%)"], 94.0)
    assert math.isclose(row["gap (points)"], 5.0) and row["report 004 (%)"] == 95.81
    assert math.isnan(t.loc["lr 0.1, hidden 1000, wd 0.01", "report 004 (%)"])
    assert math.isnan(SC.percent(None)) and SC.percent(0.5) == 50.0


def test_weight_decay_effect_text_and_cells():
    t = SC.grid_table(*grid(), {})
    wd = SC.weight_decay_effect(t)
    assert (wd["falling"], wd["groups"]) == (2, 2) and "holds" not in wd
    assert math.isclose(wd["gap"][1e-3], 4.5) and math.isclose(wd["gap"][1e-2], 2.0)
    assert wd["text"].startswith("wd 0.001: gap 4.50, train 99.00%")
    assert wd["text"].endswith("in 2 of 2 (lr, hidden) pairs")
    cells = SC.cells(t, "test acc (%)")
    assert cells[(0.1, 500, 1e-3)] == [95.0] and len(cells) == 4
    assert [round(g, 6) for g in SC.hidden_gains_by_pair(cells)] == [0.5, 0.5]  # 500 -> 1000 at each wd


def test_last_epoch_reading_is_the_tables_test_column():
    r = run("a", 0.95, [0.5], [0.5])
    r.final_test_acc, r.final_test_loss, r.test_loss = 0.93, 0.2, 0.1
    assert SC.last_epoch_test(r) == 0.93 and SC.last_epoch_losses([r]) == [0.2]
    r.final_test_acc = r.final_test_loss = None  # a record with the selected epoch only
    assert SC.last_epoch_test(r) == 0.95 and SC.last_epoch_losses([r]) == [0.1]
    t = SC.grid_table({"a": {"lr": 0.1, "hidden": [5], "weight_decay": 0.0}}, {"a": run("a", 0.9, [0.5], [0.5])}, {})
    assert math.isclose(t.loc["a", "test acc (%)"], 90.0)


def test_drop_text():
    r = run("g", 0.9, [], [], train_loss=[1.0, 0.8, 0.7, 0.3])
    assert SC.drop_text({"γ = 0.1": r}, [2]) == "γ = 0.1: epoch 3 0.1000"
    assert SC.drop_text({"γ = 0.1": r}, []) == "no decay inside the run at this profile"


# -- rules: each holds, is contradicted and is inconclusive on synthetic numbers ------------------
NOISE = S.noise([[94.0, 94.05, 94.1], [92.0, 92.05, 92.1]], source="synthetic")  # sd 0.05, df 4


def test_within_holds_contradicted_inconclusive():
    assert SC.within(("a", [98.1, 98.15, 98.2]), ("b", [98.1, 98.12, 98.14]), 0.3).outcome == S.HOLDS
    assert SC.within(("a", [98.9, 99.0, 99.1]), ("b", [98.0, 98.05, 98.1]), 0.3).outcome == S.CONTRADICTED
    assert SC.within(("a", [97.5, 98.2, 98.9]), ("b", [98.0, 98.1, 98.2]), 0.3).outcome == S.INCONCLUSIVE
    assert SC.within(("a", [98.0]), ("b", [98.1]), 0.3).outcome == S.WAITING  # one seed, no noise
    assert SC.within(("a", []), ("b", [98.1]), 0.3).outcome == S.NOT_REPRODUCED


def test_activation_claim():
    good = {"Sigmoid": [91.0], "ReLU": [94.3], "LeakyReLU": [94.2]}
    assert SC.activation_claim(good, 0.5, NOISE).outcome == S.HOLDS
    worst_relu = {"Sigmoid": [94.0], "ReLU": [90.0], "LeakyReLU": [94.2]}
    assert SC.activation_claim(worst_relu, 0.5, NOISE).outcome == S.CONTRADICTED
    # ReLU and LeakyReLU 0.4 apart: their interval (±0.2 at this noise) reaches past ±0.5
    assert SC.activation_claim({"Sigmoid": [91.0], "ReLU": [94.6], "LeakyReLU": [94.2]}, 0.5,
                               NOISE).outcome == S.INCONCLUSIVE
    assert SC.activation_claim(good, 0.5, None).outcome == S.WAITING


def grid_acc(lr001_gap, spread=0.0):
    """A 3 lr x 3 hidden x 1 wd grid: lr 0.1 and 0.01 lie ``lr001_gap`` above lr 0.001."""
    out = {}
    for i, h in enumerate((500, 1000, 2000)):
        base = 92.0 + 0.3 * i
        out[(0.001, h, 1e-3)] = [base]
        out[(0.01, h, 1e-3)] = [base + lr001_gap + spread * (i - 1)]
        out[(0.1, h, 1e-3)] = [base + lr001_gap + 0.1 + spread * (1 - i)]
    return out


def test_lr_clearly_worst():
    assert SC.lr_clearly_worst(grid_acc(2.0), 0.001, 1.0).outcome == S.HOLDS
    assert SC.lr_clearly_worst(grid_acc(-1.0), 0.001, 1.0).outcome == S.CONTRADICTED
    assert SC.lr_clearly_worst(grid_acc(1.5, spread=2.0), 0.001, 1.0).outcome == S.INCONCLUSIVE
    no_worst = {k: v for k, v in grid_acc(2.0).items() if k[0] != 0.001}
    assert SC.lr_clearly_worst(no_worst).outcome == S.INCONCLUSIVE  # nothing to compare at this profile


def hidden_grid(gains):
    """(lr, wd) pairs, each with hidden 500 and 2000 differing by one of ``gains``."""
    out = {}
    for j, g in enumerate(gains):
        lr, wd = (0.1, 0.01, 0.001)[j % 3], (1e-2, 1e-3, 1e-4)[j // 3]
        out[(lr, 500, wd)], out[(lr, 2000, wd)] = [94.0], [94.0 + g]
    return out


def test_hidden_helps_little():
    assert SC.hidden_helps_little(hidden_grid([0.3, 0.4, 0.5, 0.35, 0.45])).outcome == S.HOLDS
    assert SC.hidden_helps_little(hidden_grid([-0.3, -0.4, -0.5, -0.35])).outcome == S.CONTRADICTED
    assert SC.hidden_helps_little(hidden_grid([2.0, 2.5, 3.0, 2.2])).outcome == S.CONTRADICTED  # not "little"
    assert SC.hidden_helps_little(hidden_grid([-1.0, 1.5, 0.2, -0.5])).outcome == S.INCONCLUSIVE
    assert SC.hidden_helps_little({(0.1, 500, 1e-3): [94.0]}).outcome == S.INCONCLUSIVE  # one hidden size


def gap_grid(falls):
    """(lr, hidden) pairs at wd 1e-4 and 1e-3: the gap at 1e-3 is the one at 1e-4 less a fall."""
    out = {}
    for j, f in enumerate(falls):
        lr, h = (0.1, 0.01, 0.001)[j % 3], (500, 1000, 2000)[j // 3]
        out[(lr, h, 1e-4)], out[(lr, h, 1e-3)] = [4.0], [4.0 - f]
    return out


def test_decay_narrows_gap():
    assert SC.decay_narrows_gap(gap_grid([0.2, 0.3, 0.25, 0.2])).outcome == S.HOLDS
    assert SC.decay_narrows_gap(gap_grid([-0.2, -0.3, -0.25, -0.2])).outcome == S.CONTRADICTED
    assert SC.decay_narrows_gap(gap_grid([0.5, -0.6, 0.2, -0.1])).outcome == S.INCONCLUSIVE
    assert SC.decay_narrows_gap({(0.1, 500, 1e-3): [3.0]}).outcome == S.INCONCLUSIVE  # one weight decay


def test_steep_drop():
    control = ("γ = 1", [0.010, 0.012, 0.011])
    steep = {"γ = 0.5": [0.05, 0.055, 0.052], "γ = 0.1": [0.08, 0.085, 0.082]}
    assert SC.steep_drop(steep, control).outcome == S.HOLDS
    assert SC.steep_drop({"γ = 0.1": [0.001, 0.002, 0.0015]}, control).outcome == S.CONTRADICTED
    assert SC.steep_drop({"γ = 0.1": [0.005, 0.06, 0.01]}, control).outcome == S.INCONCLUSIVE
    assert SC.steep_drop({"γ = 0.1": []}, ("γ = 1", [])).outcome == S.INCONCLUSIVE  # no epoch after it


def test_jump_at_decay():
    assert SC.jump_at_decay([2.0, 2.3, 2.1], [0.1, 0.2, 0.0]).outcome == S.HOLDS
    assert SC.jump_at_decay([0.0, 0.1, -0.1], [1.0, 1.2, 1.1]).outcome == S.CONTRADICTED
    assert SC.jump_at_decay([2.0, -1.0, 0.5], [0.1, 0.9, -0.5]).outcome == S.INCONCLUSIVE
    assert SC.jump_at_decay([], []).outcome == S.INCONCLUSIVE


def test_rise_share_and_fast_then_flat():
    assert math.isclose(SC.rise_share([0.955, 0.97, 1.0]), 95.0)
    assert math.isnan(SC.rise_share([0.9])) and math.isnan(SC.rise_share([0.05, 0.08]))
    fast = [[0.95, 0.97, 0.975], [0.955, 0.97, 0.976], [0.952, 0.969, 0.974]]
    slow = [[0.40, 0.80, 0.97], [0.42, 0.79, 0.97], [0.41, 0.81, 0.96]]
    assert SC.fast_then_flat(fast).outcome == S.HOLDS
    assert SC.fast_then_flat(slow).outcome == S.CONTRADICTED
    assert SC.fast_then_flat([[0.95, 0.97], [0.60, 0.97], [0.85, 0.97]]).outcome == S.INCONCLUSIVE
    assert SC.fast_then_flat([[0.9]]).outcome == S.INCONCLUSIVE  # too short to say


def timed(seconds, machine="box", load=1.0):
    return [{"seconds": s, "machine": machine, "load": load} for s in seconds]


def test_time_ratio():
    mlp = timed([100.0, 102.0, 98.0])
    assert SC.time_ratio(timed([48.0, 49.0, 47.0]), mlp, 0.48, 0.1).outcome == S.REPRODUCED
    assert SC.time_ratio(timed([120.0, 122.0, 118.0]), mlp, 0.48, 0.1).outcome == S.NOT_REPRODUCED
    assert SC.time_ratio(timed([20.0, 80.0, 50.0]), mlp, 0.48, 0.1).outcome == S.INCONCLUSIVE
    other = SC.time_ratio(timed([48.0, 49.0, 47.0], machine="laptop"), mlp, 0.48, 0.1)
    assert other.outcome == S.INCONCLUSIVE and "different machines" in other.reason
    busy = SC.time_ratio(timed([48.0, 49.0, 47.0], load=4.0), mlp, 0.48, 0.1)
    assert busy.outcome == S.INCONCLUSIVE and "load" in busy.reason


def test_timings_and_machine_of_a_numpy_run():
    r = run("a", 0.9, [0.5], [0.5])
    r.config = {"dtype": "float32"}
    r.environment = {"platform": "Linux-x", "cpu_count": 2, "threads": {"OPENBLAS_NUM_THREADS": "1"},
                     "loadavg": [1.5, 1.0, 1.0]}
    r.extra = {"cpu_time": 12.5}
    assert SC.timings([r]) == [{"seconds": 12.5, "machine": "Linux-x, 2 CPUs, BLAS threads 1, float32",
                                "load": 1.5}]


def test_matches_or_beats():
    assert SC.matches_or_beats(("CNN", [98.3, 98.35, 98.4]), ("MLP", [98.3, 98.32, 98.34]), 0.2).outcome == S.HOLDS
    assert SC.matches_or_beats(("CNN", [97.5, 97.55, 97.6]), ("MLP", [98.3, 98.32, 98.34]),
                               0.2).outcome == S.CONTRADICTED
    assert SC.matches_or_beats(("CNN", [97.6, 98.3, 99.0]), ("MLP", [98.3, 98.32, 98.34]),
                               0.2).outcome == S.INCONCLUSIVE


def test_seed_noise_waits_for_every_run():
    full = SC.seed_noise({"a": [94.0, 94.2, 94.4], "b": [92.0, 92.1, 92.3]}, what="search")
    assert full.known and full.df == 4 and full.source.startswith("search: a, b")
    partial = SC.seed_noise({"a": [94.0, 94.2], "b": [92.0, 92.1, 92.3]}, waiting=["a run"])
    assert not partial.known and partial.waiting == ("a run",)


def test_values_text():
    assert SC.values_text({"Sigmoid": 90.123, "SGD": float("nan")}) == "Sigmoid 90.12%, SGD pending"


def test_bench_text():
    speed = {"mlp": {"numpy": {"s_per_epoch_median": 12.34}, "torch": {"s_per_epoch_median": 5.0}}}
    assert SC.bench_text(speed, "mlp") == "12.3 s for NumPy and 5.0 s for PyTorch"
    assert SC.bench_text(speed, "lenet") == "n/a"
