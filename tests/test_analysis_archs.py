"""Sizes, orderings, curve speeds and quote bands the architecture and kernel chapters judge by."""
import math

from cnnreport.analysis import archs as A
from cnnreport.analysis.noise import REPORT001_BASE_QUOTES


def test_fp32_mib_is_report001s_megabyte():
    # Report 001 lists its ResNet-18 (11,173,962 parameters) as 42.7 MB.
    assert round(A.fp32_mib(11_173_962), 1) == 42.6
    assert abs(A.fp32_mib(11_173_962) - 42.7) < 0.1
    assert abs(A.fp32_mib(11_173_962) * 2 ** 20 / 1e6 - 44.7) < 0.1  # decimal MB would read 44.7
    assert math.isclose(A.params_for_mib(A.fp32_mib(2_474_314)), 2_474_314)


def test_ratios_and_order():
    size = {"ResNet-18": 42.7, "Res9": 8.7, "simp_Res9": 3.41}
    r = A.ratios(size, "simp_Res9")
    assert math.isclose(r["ResNet-18"], 42.7 / 3.41) and r["simp_Res9"] == 1.0
    assert A.strictly_ordered(size, ["ResNet-18", "Res9", "simp_Res9"]) is True
    assert A.strictly_ordered(size, ["Res9", "ResNet-18"]) is False
    assert A.strictly_ordered({"a": 1.0, "b": float("nan")}, ["a", "b"]) is None
    assert A.strictly_ordered({"a": 1.0}, ["a", "b"]) is None
    assert math.isnan(A.ratios({"a": 1.0, "b": 0.0}, "b")["a"])


def test_gaps_and_pairwise_differences():
    acc = {"ResNet-18": 91.21, "Res9": 89.83, "simp_Res9": 87.80}
    g = A.gaps(acc, ["ResNet-18", "Res9", "simp_Res9"])
    assert [round(x, 2) for x in g] == [1.38, 2.03]
    pairs = A.pairwise_differences({"a": 1.0, "b": 3.0, "c": 2.0, "d": float("nan")})
    assert [(a, b) for a, b, _ in pairs] == [("b", "a"), ("b", "c"), ("c", "a")]
    assert pairs[0][2] == 2.0


def test_top_k_skips_missing_values():
    names = ["airplane", "automobile", "cat", "ship", "truck"]
    assert A.top_k([0.9, 0.95, 0.6, float("nan"), 0.93], names, 3) == ["automobile", "truck", "airplane"]


def test_curve_speed_measures():
    slow = [0.3, 0.5, 0.6, 0.7, 0.8]
    fast = [0.7, 0.85, 0.9, 0.9, 0.92]
    assert A.first_epoch_reaching(fast, 0.8) == 2
    assert A.first_epoch_reaching(slow, 0.95) is None
    assert A.epochs_to_fraction_of_best(slow, 0.9) == 5  # 0.72 first reached at epoch 5
    assert A.epochs_to_fraction_of_best(fast, 0.9) == 2
    assert A.epochs_to_fraction_of_best([float("nan")], 0.9) is None
    assert math.isclose(A.early_mean([2.0, 1.0, 0.5, 0.1], 2), 1.5)
    assert A.mean_curve([[1.0, 2.0, 3.0], [3.0, 4.0]]) == [2.0, 3.0]


def test_quotes_in_band():
    assert A.quotes_in_band(REPORT001_BASE_QUOTES, [88.0]) is None  # one run: no spread
    tight = A.quotes_in_band(REPORT001_BASE_QUOTES, [88.5, 88.6, 88.7])
    assert tight["n_inside"] < 4 and not tight["inside"][1]  # 90.58 is far outside a 0.1-point spread
    assert math.isclose(tight["quote_range"], 2.78)
    wide = A.quotes_in_band(REPORT001_BASE_QUOTES, [87.0, 89.0, 91.0])
    assert wide["n_inside"] == 4 and math.isclose(wide["our_range"], 4.0)


def _result(key, status="ok", epoch_time=(), per_class=(), confusion=()):
    from cnnreport.store import Result
    return Result(key=key, config={"model": "basic_cnn"}, status=status,
                  history={"epoch_time": list(epoch_time)}, per_class_acc=list(per_class),
                  confusion=[list(r) for r in confusion])


def test_seconds_per_epoch_averages_finished_runs_only():
    runs = [_result("a", epoch_time=[1.0, 3.0]), _result("b", epoch_time=[4.0]),
            _result("c", status="diverged", epoch_time=[100.0]), _result("d", status="pending"),
            _result("e")]                                     # finished but no epoch times
    assert A.seconds_per_epoch(runs) == 3.0                   # mean of 2.0 and 4.0
    assert math.isnan(A.seconds_per_epoch([_result("p", status="pending")]))
    assert math.isnan(A.seconds_per_epoch([]))


def test_mean_per_class_over_finished_runs():
    import pytest
    runs = [_result("a", per_class=[0.5, 1.0]), _result("b", per_class=[0.7, 0.8]),
            _result("c", status="diverged", per_class=[0.0, 0.0]), _result("d")]
    assert A.mean_per_class(runs) == [pytest.approx(0.6), pytest.approx(0.9)]
    assert A.mean_per_class([_result("d", status="pending")]) == []


def test_most_confused_pair_counts_both_directions():
    classes = ["cat", "dog", "ship"]
    conf = [[50, 6, 5],
            [7, 50, 0],
            [9, 0, 50]]        # cat->ship 5 + ship->cat 9 = 14 beats cat/dog 6 + 7 = 13
    assert A.most_confused_pair(conf, classes) == {"cat", "ship"}
    conf[1][0] = 9            # now cat/dog 15
    assert A.most_confused_pair(conf, classes) == {"cat", "dog"}
