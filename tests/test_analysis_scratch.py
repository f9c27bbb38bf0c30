"""The tables and readings behind the NumPy chapter's verdicts on report 004."""
import math

from cnnreport.analysis import scratch as SC
from cnnreport.store import Result


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


def test_weight_decay_effect_and_hidden_gains():
    t = SC.grid_table(*grid(), {})
    wd = SC.weight_decay_effect(t)
    assert wd["holds"] is True and (wd["falling"], wd["groups"]) == (2, 2)
    assert math.isclose(wd["gap"][1e-3], 4.5) and math.isclose(wd["gap"][1e-2], 2.0)
    assert wd["text"].startswith("wd 0.001: gap 4.50, train 99.00%")
    assert wd["text"].endswith("in 2 of 2 (lr, hidden) pairs")
    gains = SC.hidden_gains(t)
    assert [round(g, 6) for g in gains] == [0.5, 0.5]   # 500 -> 1000 at each weight decay


def test_drop_text_and_spread_words():
    r = run("g", 0.9, [], [], train_loss=[1.0, 0.8, 0.7, 0.3])
    assert SC.drop_text({"γ = 0.1": r}, [2]) == "γ = 0.1: epoch 3 0.1000"
    assert SC.drop_text({"γ = 0.1": r}, []) == "no decay inside the run at this profile"
    assert SC.beyond_spread(0.5, 0.2) == "well beyond"
    assert SC.beyond_spread(-0.3, 0.2) == "not clearly beyond"


def test_bench_text():
    speed = {"mlp": {"numpy": {"s_per_epoch_median": 12.34}, "torch": {"s_per_epoch_median": 5.0}}}
    assert SC.bench_text(speed, "mlp") == "12.3 s for NumPy and 5.0 s for PyTorch"
    assert SC.bench_text(speed, "lenet") == "n/a"
