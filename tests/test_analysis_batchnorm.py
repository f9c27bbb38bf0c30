"""The measures behind the BatchNorm chapter's audit rows on report 000's figures."""
import math

import numpy as np
import pytest

from cnnreport.analysis import batchnorm as A


def hist(train, test):
    return {"train_loss": list(train), "test_loss_curve": list(test)}


def test_loss_gap_reads_the_right_epoch():
    h = hist([2.0, 1.0, 0.5], [2.1, 1.3, 1.4])
    assert math.isclose(A.loss_gap(h), 0.9)            # last epoch
    assert math.isclose(A.loss_gap(h, 2), 0.3)
    assert math.isnan(A.loss_gap(h, 4)) and math.isnan(A.loss_gap(h, 0))
    assert math.isnan(A.loss_gap({}))


def test_common_epochs_is_the_shortest_history():
    a, b = hist([1] * 5, [1] * 5), hist([1] * 3, [1] * 4)
    assert A.common_epochs(a, b) == 3 and A.common_epochs() == 0


def test_first_epoch_reaching_and_best_within():
    curve = [0.5, 0.87, None, 0.885, 0.9]
    assert A.first_epoch_reaching(curve, 0.88) == 4
    assert A.first_epoch_reaching(curve, 0.95) is None
    assert A.best_within(curve, 3) == 0.87
    assert math.isnan(A.best_within([], 20))


def test_window_widths_split_early_and_late():
    band = {"min": np.zeros(6), "max": np.array([4.0, 2.0, np.nan, 1.0, 1.0, 1.0])}
    early, late = A.window_widths(band, 3)
    assert early == 3.0 and late == 1.0               # the NaN step is skipped
    early, late = A.window_widths(band, 10)
    assert math.isnan(late)                           # no step after the split
    assert A.window_widths(band, 3, n=4) == (3.0, 1.0)


def test_logit_spread_tells_a_constant_net_from_a_responsive_one():
    import torch
    from torch import nn
    torch.manual_seed(0)
    x = torch.randn(32, 5)
    lin = nn.Linear(5, 3)
    assert A.logit_spread(lin, x) > 0.1
    with torch.no_grad():
        lin.weight.zero_()
    assert A.logit_spread(lin, x) == 0.0              # answers every input alike
    bn = nn.Sequential(nn.Linear(5, 3), nn.BatchNorm1d(3)).eval()
    before = bn[1].running_mean.clone()
    assert abs(A.logit_spread(bn, x) - 1.0) < 0.05   # batch statistics: unit spread
    assert not bn.training and torch.equal(bn[1].running_mean, before)  # state restored


def band(lo, hi):
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    return {"min": lo, "max": hi, "mean": (lo + hi) / 2, "n_runs": 4}


def test_band_summary_compares_over_the_common_steps():
    plain = band([1.0, 1.0, 1.0, 0.0], [3.0, 3.0, 2.0, 9.0])   # one step longer than BN's band
    bn = band([1.0, 0.5, 0.5], [2.0, 1.5, 2.5])
    s = A.band_summary({"VGG-A": [plain, None], "VGG-A-BN": [bn, bn]}, early_steps=2)
    assert s["ready"] == [0] and s["steps"] == 3                  # seed 1 lacks a plain band
    assert math.isclose(s["measures"]["VGG-A"]["width"], 5 / 3)   # the 4th step is not compared
    assert math.isclose(s["measures"]["VGG-A-BN"]["top"], 2.0)
    assert math.isclose(s["share_narrower"], 200 / 3)             # steps 1 and 2 of 3
    assert math.isclose(s["share_lower"], 200 / 3)               # step 3: equal means, not lower
    assert s["windows"]["VGG-A"] == (2.0, 1.0)
    none = A.band_summary({"VGG-A": [None], "VGG-A-BN": [bn]}, early_steps=2)
    assert none["ready"] == [] and none["steps"] is None and math.isnan(none["share_lower"])


def test_small_readings():
    assert A.fmt_or_na(float("nan")) == "n/a" and A.fmt_or_na(None) == "n/a"
    assert A.fmt_or_na(0.12345) == "0.123" and A.fmt_or_na(7, "{}") == "7"
    assert A.epochs_text([4, None]) == "4, never"
    assert A.number_list([0.001, 0.0005]) == "0.001, 0.0005"
    assert A.profile_value(32, 32) == "32"
    assert A.profile_value(1, 200) == "1 here; 200 at full"
    assert A.round_numbers(81.7712) == 81.77 and A.round_numbers("pending") == "pending"


# -- the rules, on synthetic seeds -------------------------------------------------------------

from cnnreport.core import stats as S  # noqa: E402
from cnnreport.core.store import Result  # noqa: E402

HIGH, LOW = [0.92, 0.921, 0.919], [0.90, 0.902, 0.899]
WIDE_A, WIDE_B = [0.90, 0.92, 0.91], [0.91, 0.90, 0.915]


def seed(width_plain, width_bn, top_plain, top_bn, narrower=1.0, lower=1.0, windows=(2.0, 1.0)):
    m = lambda w, t: {"width": w, "top": t, "bottom": 0.0}  # noqa: E731
    return {"steps": 10, "measures": {"plain": m(width_plain, top_plain), "bn": m(width_bn, top_bn)},
            "narrower": narrower, "lower_mean": lower, "windows": {"plain": windows, "bn": windows}}


def test_band_per_seed_keeps_the_ready_seeds_in_order():
    plain, bn = band([1.0, 1.0], [3.0, 3.0]), band([1.0, 0.5], [2.0, 1.5])
    ps = A.band_per_seed({"VGG-A": [None, plain, plain], "VGG-A-BN": [bn, bn, bn]}, early_steps=1)
    assert [p["index"] for p in ps] == [1, 2] and ps[0]["steps"] == 2
    s = A.band_summary({"VGG-A": [None, plain], "VGG-A-BN": [bn, bn]}, early_steps=1)
    assert s["ready"] == [1] and len(s["per_seed"]) == 1


def test_band_narrower_and_lower():
    good = [seed(2.0, 1.0, 3.0, 2.0), seed(2.1, 1.1, 3.1, 2.1), seed(1.9, 0.9, 2.9, 1.9)]
    assert A.band_narrower_and_lower(good).outcome == S.HOLDS
    bad = [seed(1.0, 2.0, 3.0, 2.0), seed(1.1, 2.1, 3.1, 2.1), seed(0.9, 1.9, 2.9, 1.9)]
    assert A.band_narrower_and_lower(bad).outcome == S.CONTRADICTED
    mixed = [seed(2.0, 1.0, 3.0, 2.0), seed(1.0, 2.0, 3.1, 2.1), seed(1.5, 1.6, 2.9, 1.9)]
    assert A.band_narrower_and_lower(mixed).outcome == S.INCONCLUSIVE
    assert A.band_narrower_and_lower(good[:1]).outcome == S.WAITING      # one seed: no spread


def test_band_every_step():
    assert A.band_every_step([seed(0, 0, 0, 0, 0.99, 0.98), seed(0, 0, 0, 0, 0.985, 0.99),
                              seed(0, 0, 0, 0, 0.99, 0.985)]).outcome == S.HOLDS
    assert A.band_every_step([seed(0, 0, 0, 0, 0.6, 0.99), seed(0, 0, 0, 0, 0.62, 0.99),
                              seed(0, 0, 0, 0, 0.61, 0.985)]).outcome == S.CONTRADICTED
    assert A.band_every_step([seed(0, 0, 0, 0, 0.99, 0.99), seed(0, 0, 0, 0, 0.90, 0.99),
                              seed(0, 0, 0, 0, 0.97, 0.99)]).outcome == S.INCONCLUSIVE


def test_widest_early():
    assert A.widest_early([seed(0, 0, 0, 0, windows=w) for w in ((2.0, 1.0), (2.1, 1.0), (1.9, 1.1))], 4000
                          ).outcome == S.HOLDS
    assert A.widest_early([seed(0, 0, 0, 0, windows=w) for w in ((1.0, 2.0), (1.0, 2.1), (1.1, 1.9))], 4000
                          ).outcome == S.CONTRADICTED
    assert A.widest_early([seed(0, 0, 0, 0, windows=w) for w in ((2.0, 1.0), (1.0, 2.0), (1.5, 1.4))], 4000
                          ).outcome == S.INCONCLUSIVE
    short = A.widest_early([seed(0, 0, 0, 0, windows=(2.0, float("nan")))], 4000)
    assert short.outcome == S.WAITING


def test_smoother_needs_every_measure():
    lower = {"VGG-A-BN": LOW, "VGG-A": HIGH}
    assert A.smoother({"loss range": lower, "beta": lower}).outcome == S.HOLDS
    assert A.smoother({"loss range": lower, "beta": {"VGG-A-BN": HIGH, "VGG-A": LOW}}).outcome == S.CONTRADICTED
    assert A.smoother({"loss range": lower, "beta": {"VGG-A-BN": WIDE_A, "VGG-A": WIDE_B}}
                      ).outcome == S.INCONCLUSIVE


def test_gap_rules():
    assert A.clear_gap([0.5, 0.52, 0.48]).outcome == S.HOLDS
    assert A.clear_gap([0.02, 0.03, 0.01]).outcome == S.CONTRADICTED
    assert A.clear_gap([0.05, 0.2, 0.1]).outcome == S.INCONCLUSIVE
    assert A.narrows_gap(HIGH, LOW).outcome == S.HOLDS
    assert A.narrows_gap(LOW, HIGH).outcome == S.CONTRADICTED
    assert A.narrows_gap(WIDE_A, WIDE_B).outcome == S.INCONCLUSIVE


def test_passes_within():
    assert A.passes_within([89.0, 89.2, 88.9], 88).outcome == S.HOLDS
    assert A.passes_within([86.0, 86.2, 85.9], 88).outcome == S.CONTRADICTED
    assert A.passes_within([87.0, 89.0, 88.0], 88).outcome == S.INCONCLUSIVE


def res(acc=0.5, status="ok", train_loss=(1.0,), train_acc=(0.6,)):
    return Result(key="k", config={}, status=status, test_acc=acc, final_test_acc=acc,
                  history={"train_loss": list(train_loss), "train_acc": list(train_acc)})


def test_paired_differences_pair_seeds_that_both_finished():
    a = [res(0.9), res(0.8), res(0.7, status="diverged")]
    b = [res(0.5), res(0.6, status="pending"), res(0.1)]
    assert A.paired_differences(a, b, lambda r: 100 * r.final_test_acc) == [pytest.approx(40.0)]


def test_helps_most():
    assert A.helps_most([("2e-3", [10.0, 10.5, 9.8]), ("5e-4", [3.0, 3.2, 2.9]), ("1e-4", [0.1, 0.0, 0.2])]
                        ).outcome == S.HOLDS
    assert A.helps_most([("2e-3", [0.1, 0.0, 0.2]), ("5e-4", [3.0, 3.2, 2.9]), ("1e-4", [10.0, 10.5, 9.8])]
                        ).outcome == S.CONTRADICTED
    assert A.helps_most([("2e-3", [3.0, 5.0, 4.0]), ("5e-4", [4.0, 3.0, 4.5]), ("1e-4", [0.1, 0.0, 0.2])]
                        ).outcome == S.INCONCLUSIVE


def test_ended_at_chance():
    assert not A.ended_at_chance(res())
    assert A.ended_at_chance(res(train_loss=(2.30,), train_acc=(0.1,)))
    assert A.ended_at_chance(res(status="diverged"))


def test_larger_lr_without_diverging():
    fine = [res(), res(), res()]
    assert A.larger_lr_without_diverging(fine, [86.0, 86.2, 85.9], [76.0, 76.3, 75.8], 2e-3).outcome == S.HOLDS
    stuck = [res(), res(train_loss=(2.31,), train_acc=(0.1,)), res()]
    v = A.larger_lr_without_diverging(stuck, [86.0, 86.2, 85.9], [76.0, 76.3, 75.8], 2e-3)
    assert v.outcome == S.CONTRADICTED and "1 of 3" in v.measured
    assert A.larger_lr_without_diverging(fine, [86.0, 87.0, 85.0], [86.5, 85.0, 86.0], 2e-3
                                         ).outcome == S.INCONCLUSIVE
    assert A.larger_lr_without_diverging([], [], [], 2e-3).outcome == S.WAITING


def test_early_training_and_trains_faster():
    runs = [res(train_loss=(2.0, 1.0, 0.1), train_acc=(0.2, 0.4, 0.9)), res(status="pending")]
    accs, losses = A.early_training(runs, 2)
    assert accs == [pytest.approx(30.0)] and losses == [pytest.approx(1.5)]
    fast = ([80.0, 80.5, 79.8], [0.50, 0.51, 0.49])
    slow = ([70.0, 70.5, 69.8], [0.80, 0.81, 0.79])
    assert A.trains_faster({"2e-3": (fast, slow), "1e-4": (fast, slow)}).outcome == S.HOLDS
    assert A.trains_faster({"2e-3": (fast, slow), "1e-4": (slow, fast)}).outcome == S.CONTRADICTED
    noisy = ([72.0, 80.0, 66.0], [0.85, 0.5, 0.8])
    assert A.trains_faster({"2e-3": (fast, slow), "1e-4": (noisy, slow)}).outcome == S.INCONCLUSIVE
