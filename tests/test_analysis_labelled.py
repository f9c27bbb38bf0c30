"""Numbers over seeds of labelled runs, as the schedule and activation chapters read them."""
import math

from cnnreport.analysis import labelled as LB
from cnnreport.core.store import Result


def run(key, test_acc=0.5, status="ok", **history):
    return Result(key=key, config={}, status=status, test_acc=test_acc, final_test_acc=test_acc,
                  history=history)


def test_label_means_skip_unfinished_runs():
    runs = {"a": [run("a0", test_acc_curve=[0.8, 0.75, 0.82]), run("a1", test_acc_curve=[0.5, 0.4])],
            "b": [run("b0", status="pending")]}
    setbacks = LB.mean_setbacks(runs)
    assert math.isclose(setbacks["a"], 7.5)          # drops of 5 and 10 points
    assert math.isnan(setbacks["b"])                 # no finished seed
    assert LB.label_means(runs, lambda r: 2.0)["a"] == 2.0
    reb = LB.mean_rebounds({"a": [run("a0", val_loss=[1.0, 0.8, 0.9])]})
    assert math.isclose(reb["a"], 0.1)
    early = LB.mean_early_loss({"a": [run("a0", train_loss=[4.0, 2.0, 1.0, 1.0])]})
    assert early == {"a": 4.0}


def test_bar_numbers_give_a_spread_only_with_several_runs():
    runs = {"one": [run("o", 0.9)], "two": [run("t0", 0.8), run("t1", 0.6)]}
    means, spreads = LB.bar_numbers(runs)
    assert [round(m, 6) for m in means] == [90.0, 70.0]
    assert spreads[0] is None and math.isclose(spreads[1], math.sqrt(200))
    means, _ = LB.bar_numbers(runs, ["two"])
    assert [round(m, 6) for m in means] == [70.0]


def test_val_at_and_gains_read_the_right_epoch():
    rs = [run("r0", val_acc=[0.5, 0.6, 0.8]), run("r1", val_acc=[0.4, 0.6, 0.7]), run("p", status="pending")]
    assert [round(v, 6) for v in LB.val_at(rs, 1)] == [50.0, 40.0]
    assert [round(v, 6) for v in LB.val_at(rs, -1)] == [80.0, 70.0]
    assert math.isclose(LB.epoch_gain(rs[0], 3), 20.0)
    assert math.isnan(LB.epoch_gain(rs[0], 4)) and math.isnan(LB.epoch_gain(rs[0], 1))
    assert math.isclose(LB.mean_gain(rs, 3), 15.0)
    assert math.isnan(LB.mean_gain(rs, 5))


def test_rankings_put_nan_last_and_keep_ties_in_order():
    v = {"a": 1.0, "b": float("nan"), "c": 3.0, "d": 1.0}
    assert LB.ranked(v) == ["c", "a", "d", "b"]
    assert LB.ranked(v, highest_first=False) == ["a", "d", "c", "b"]
    assert LB.highest(v) == "c" and LB.lowest(v) == "a"
    assert LB.highest({"x": float("nan"), "y": float("nan")}) == "x"


def test_above_all_others_needs_every_number():
    assert LB.above_all_others({"a": 1.0, "b": 3.0, "c": 2.0}, "b")
    assert not LB.above_all_others({"a": 3.0, "b": 3.0}, "b")          # a tie is not above
    assert not LB.above_all_others({"a": float("nan"), "b": 3.0}, "b")
    assert not LB.above_all_others({"b": 3.0}, "b")


def test_acc_cell_says_pending_only_while_runs_wait():
    assert math.isclose(LB.acc_cell([run("a", 0.9), run("b", status="pending")]), 90.0)
    assert LB.acc_cell([run("b", status="pending")]) == "pending"
    assert math.isnan(LB.acc_cell([run("d", status="diverged")]))
