"""The hyperparameter chapter's rules (report 002): each made to hold, be contradicted and be
inconclusive by synthetic seeds, and the curve measures they read."""
import math

import pytest

from cnnreport.core import stats as S
from cnnreport.analysis import hyperparams as H
from cnnreport.analysis.curves import per_seed, rise_above_min
from cnnreport.core.store import Result

HI, MID, LO = [92.0, 92.1, 92.05], [91.0, 91.1, 91.05], [90.0, 90.1, 90.05]
WIDE = [89.0, 93.0, 91.0]   # a mean between the others, but seeds too far apart to rank it


def test_rise_above_min_in_percent_of_the_lowest_value():
    assert rise_above_min([1.0, 0.5, 0.6]) == pytest.approx(20.0)
    assert rise_above_min([1.0, 0.8, 0.5]) == 0.0                      # ends at its minimum
    assert rise_above_min([1.0, None, 0.5, float("nan"), 0.55]) == pytest.approx(10.0)
    assert math.isnan(rise_above_min([0.5])) and math.isnan(rise_above_min([0.0, 0.0]))


def test_per_seed_keeps_finished_runs_and_finite_values():
    ok = Result(key="a", config={}, status="ok", history={"val_loss": [1.0, 0.5, 0.6]})
    flat = Result(key="b", config={}, status="ok", history={"val_loss": [0.4]})
    div = Result(key="c", config={}, status="diverged", history={"val_loss": [1.0, 2.0]})
    values = per_seed([ok, flat, div], lambda r: rise_above_min(r.history["val_loss"]))
    assert values == [pytest.approx(20.0)]


def test_seed_noise_pools_the_noise_runs_and_waits_for_every_seed():
    found = H.seed_noise({"run 2": [4.0, 5.0, 6.0], "run 15": [5.0, 5.0, 5.0]}, "gap")
    assert found.known and found.df == 4 and found.sd == pytest.approx(math.sqrt(0.5))
    waiting = H.seed_noise({"run 2": [4.0, 5.0]}, "gap", waiting=["a pending seed"])
    assert not waiting.known and waiting.waiting == ("a pending seed",) and waiting.source == "gap"


@pytest.mark.parametrize("diverged, accs, outcome", [
    (3, [], S.HOLDS),                    # every seed stopped at chance
    (1, [10.0, 12.5], S.HOLDS),          # or ends at chance
    (0, [88.0, 90.0, 89.0], S.CONTRADICTED),
    (1, [10.0, 89.0], S.INCONCLUSIVE),   # one seed learned
])
def test_at_chance(diverged, accs, outcome):
    v = H.at_chance(diverged, accs)
    assert v.outcome == outcome and v.n == diverged + len(accs)
    assert f"{diverged} of {v.n} seed(s) stopped at chance" in v.measured


def test_at_chance_without_a_run():
    assert H.at_chance(0, []).outcome == S.NOT_REPRODUCED


@pytest.mark.parametrize("groups, outcome", [
    ({"run 6": HI, "run 4": LO, "run 7": MID}, S.HOLDS),
    ({"run 6": MID, "run 4": LO, "run 7": HI}, S.CONTRADICTED),
    ({"run 6": HI, "run 4": LO, "run 7": WIDE}, S.INCONCLUSIVE),
])
def test_best_setting(groups, outcome):
    v = H.best_setting("run 6", groups)
    assert v.outcome == outcome and "run 6 − run 4" in v.measured and "run 6 − run 7" in v.measured


def test_best_setting_leaves_out_a_run_without_a_finished_seed():
    v = H.best_setting("run 6", {"run 3": [], "run 6": HI, "run 4": LO})
    assert v.outcome == S.HOLDS and "run 3 left out" in v.reason and "run 3" not in v.measured
    alone = H.best_setting("run 6", {"run 3": [], "run 6": HI})
    assert alone.outcome == S.HOLDS and "run 3 left out" in alone.measured
    assert H.best_setting("run 6", {"run 6": [], "run 4": LO}).outcome == S.NOT_REPRODUCED
    with pytest.raises(ValueError):
        H.best_setting("run 9", {"run 6": HI})


def test_best_setting_borrows_the_noise_for_one_seed():
    one = {"run 6": [92.0], "run 4": [90.0]}
    assert H.best_setting("run 6", one).outcome == S.WAITING
    assert H.best_setting("run 6", one, S.noise([[91.0, 91.2, 91.1]])).outcome == S.HOLDS


@pytest.mark.parametrize("a, b, outcome", [
    ([91.70, 91.80, 91.75], [91.65, 91.75, 91.70], S.HOLDS),          # 0.05 apart, tightly
    (HI, LO, S.CONTRADICTED),                                           # 2 points apart
    ([91.0, 92.5, 91.75], [91.5, 91.6, 91.55], S.INCONCLUSIVE),         # could be either
])
def test_close(a, b, outcome):
    v = H.close(("run 15", a), ("run 2", b), 0.5)
    assert v.outcome == outcome and v.measured.startswith("run 15 − run 2")


def test_close_passes_on_a_missing_run_and_a_waiting_one():
    assert H.close(("a", []), ("b", HI)).outcome == S.NOT_REPRODUCED
    assert H.close(("a", [91.0]), ("b", [91.1])).outcome == S.WAITING


def test_all_close_takes_every_pair():
    tight = {"p 0.4": [91.6, 91.7, 91.65], "p 0.5": [91.7, 91.8, 91.75], "p 0.6": [91.5, 91.6, 91.55]}
    assert H.all_close(tight).outcome == S.HOLDS
    assert H.all_close({**tight, "p 0.7": LO}).outcome == S.CONTRADICTED
    assert H.all_close({**tight, "p 0.7": [90.5, 92.5, 91.5]}).outcome == S.INCONCLUSIVE


RISE_BIG, RISE_SMALL = [40.0, 45.0, 42.0], [1.0, 2.0, 1.5]


@pytest.mark.parametrize("unsettled, settled, outcome", [
    (RISE_BIG, RISE_SMALL, S.HOLDS),
    (RISE_SMALL, RISE_SMALL, S.CONTRADICTED),       # lr 0.05 settles as well
    ([2.0, 40.0, 20.0], RISE_SMALL, S.INCONCLUSIVE),
])
def test_loss_unsettled(unsettled, settled, outcome):
    v = H.loss_unsettled(("run 17", unsettled), [("run 2", settled), ("run 18", settled)])
    assert v.outcome == outcome and "run 17 ends more than 10% above its lowest" in v.measured


@pytest.mark.parametrize("better, worse, outcome", [
    ({"run 6": RISE_SMALL, "run 7": RISE_SMALL}, {"run 4": RISE_BIG, "run 5": RISE_BIG}, S.HOLDS),
    ({"run 6": RISE_BIG, "run 7": RISE_SMALL}, {"run 4": RISE_SMALL, "run 5": RISE_BIG}, S.CONTRADICTED),
    ({"run 6": RISE_SMALL, "run 7": [1.0, 40.0, 20.0]}, {"run 4": RISE_BIG, "run 5": RISE_BIG}, S.INCONCLUSIVE),
])
def test_converges_better(better, worse, outcome):
    v = H.converges_better(better, worse)
    assert v.outcome == outcome and "run 4 − run 6" in v.measured and "run 5 − run 7" in v.measured


@pytest.mark.parametrize("gaps, outcome", [
    ([("batch 64", [7.7, 7.9, 7.8]), ("batch 128", [6.1, 6.2, 6.0]), ("batch 256", [3.9, 4.0, 4.1])], S.HOLDS),
    ([("batch 64", [3.9, 4.0, 4.1]), ("batch 128", [6.1, 6.2, 6.0]), ("batch 256", [3.0, 3.1, 3.2])],
     S.CONTRADICTED),
    ([("batch 64", [7.7, 7.9, 7.8]), ("batch 128", [4.0, 8.0, 6.0]), ("batch 256", [3.9, 4.0, 4.1])],
     S.INCONCLUSIVE),
])
def test_gap_shrinks(gaps, outcome):
    assert H.gap_shrinks(gaps).outcome == outcome


GAP_LOW, GAP_HIGH = [4.1, 4.2, 4.3], [6.6, 6.7, 6.8]


@pytest.mark.parametrize("accs, gaps, outcome", [
    ({"run 20": LO, "run 22": HI, "run 23": MID}, {"run 22": GAP_LOW, "run 23": GAP_HIGH}, S.HOLDS),
    ({"run 20": LO, "run 22": HI, "run 23": MID}, {"run 22": GAP_HIGH, "run 23": GAP_LOW}, S.CONTRADICTED),
    ({"run 20": LO, "run 22": HI, "run 23": WIDE}, {"run 22": GAP_LOW, "run 23": GAP_HIGH}, S.INCONCLUSIVE),
])
def test_epochs_best(accs, gaps, outcome):
    v = H.epochs_best(accs, "run 22", "run 23", gaps)
    assert v.outcome == outcome and "run 23 overfits more than run 22" in v.reason


def test_best_and_flat_needs_a_real_yet_small_lead():
    flat = {"run 2": [91.9, 92.0, 91.95], "run 27": [91.6, 91.7, 91.65], "run 26": [91.6, 91.65, 91.7]}
    assert H.best_and_flat(flat, "run 2").outcome == S.HOLDS
    assert H.best_and_flat({**flat, "run 25": [93.0, 93.1, 93.05]}, "run 2").outcome == S.CONTRADICTED  # 0.7 best
    assert H.best_and_flat({"run 2": [91.9, 92.0, 91.95], "run 27": [91.5, 91.9, 91.7]},
                           "run 2").outcome == S.INCONCLUSIVE


@pytest.mark.parametrize("adam_with, outcome", [(HI, S.HOLDS), (LO, S.CONTRADICTED), (WIDE, S.INCONCLUSIVE)])
def test_improves_both(adam_with, outcome):
    v = H.improves_both({"SGD": (("run 2", HI), ("run 1", LO)), "Adam": (("run 9", adam_with), ("run 6", MID))})
    assert v.outcome == outcome and "SGD: run 2 > run 1" in v.reason


@pytest.mark.parametrize("off, on, outcome", [
    ([0.020, 0.022, 0.021], [0.005, 0.006, 0.0055], S.HOLDS),
    ([0.005, 0.006, 0.0055], [0.020, 0.022, 0.021], S.CONTRADICTED),
    ([0.005, 0.030, 0.015], [0.010, 0.011, 0.012], S.INCONCLUSIVE),
])
def test_damps_oscillation(off, on, outcome):
    v = H.damps_oscillation(("run 1", off), ("run 2", on))
    assert v.outcome == outcome and "% (95%" not in v.measured   # a jitter is not in percent


@pytest.mark.parametrize("val_with, rise_with, outcome", [
    (HI, RISE_SMALL, S.HOLDS),
    (LO, RISE_SMALL, S.CONTRADICTED),                 # lower validation accuracy with the scheduler
    (HI, [1.0, 40.0, 20.0], S.INCONCLUSIVE),
])
def test_curves_improve(val_with, rise_with, outcome):
    v = H.curves_improve(("run 9", val_with), ("run 6", MID), rise_with, RISE_BIG)
    assert v.outcome == outcome


def test_curves_improve_waits_for_a_one_seed_curve_shape_but_not_for_the_accuracy():
    v = H.curves_improve(("run 9", [92.0]), ("run 6", [91.0]), [0.0], [20.0], S.noise([[91.0, 91.1, 91.05]]))
    assert v.outcome == S.WAITING and "higher with the scheduler: holds" in v.reason


@pytest.mark.parametrize("gaps, losses, outcome", [
    ((("run 15", GAP_HIGH), ("run 2", GAP_LOW)), (("run 15", [0.27, 0.271, 0.272]), ("run 2", [0.26, 0.261, 0.262])),
     S.HOLDS),
    ((("run 15", GAP_LOW), ("run 2", GAP_HIGH)), (("run 15", [0.27, 0.271, 0.272]), ("run 2", [0.26, 0.261, 0.262])),
     S.CONTRADICTED),
    ((("run 15", GAP_HIGH), ("run 2", GAP_LOW)), (("run 15", [0.25, 0.29, 0.27]), ("run 2", [0.26, 0.261, 0.262])),
     S.INCONCLUSIVE),
])
def test_generalises_better(gaps, losses, outcome):
    v = H.generalises_better(gaps, losses)
    assert v.outcome == outcome and "smaller gap" in v.reason and "smaller test loss" in v.reason


@pytest.mark.parametrize("sgd_vgg, outcome", [
    ([91.75, 91.85, 91.8], S.HOLDS), (LO, S.CONTRADICTED), ([90.5, 93.0, 91.75], S.INCONCLUSIVE)])
def test_pairs_close(sgd_vgg, outcome):
    tight = [91.7, 91.8, 91.75]
    v = H.pairs_close({"Adam": (("run 15", tight), ("run 28", tight)), "SGD": (("run 2", tight), ("run 33", sgd_vgg))})
    assert v.outcome == outcome


@pytest.mark.parametrize("gaps, outcome", [
    ({"run 24": GAP_HIGH, "run 2": GAP_LOW, "run 22": [4.0, 4.1, 4.2]}, S.HOLDS),
    ({"run 24": GAP_LOW, "run 2": GAP_HIGH, "run 22": [4.0, 4.1, 4.2]}, S.CONTRADICTED),
    ({"run 24": [3.0, 9.0, 6.0], "run 2": GAP_LOW, "run 22": [4.0, 4.1, 4.2]}, S.INCONCLUSIVE),
])
def test_overfits_most(gaps, outcome):
    v = H.overfits_most(gaps, "run 24")
    assert v.outcome == outcome and "points" in v.measured


def test_run_settings_and_claimed_listing():
    p = {"model": "alexnet_fmnist", "loss": "cross_entropy", "optimizer": "adam", "lr": 0.001, "batch_size": 128,
         "epochs": 20, "dropout": 0.5, "scheduler": False}
    assert H.run_settings(p) == "AlexNet, Adam lr 0.001, batch 128, 20 epochs, dropout 0.5, no scheduler"
    mse = {**p, "model": "vgg_fmnist", "loss": "mse", "optimizer": "sgd", "scheduler": True}
    assert H.run_settings(mse) == "VGG, MSE, SGD lr 0.001, batch 128, 20 epochs, dropout 0.5, scheduler"
    report = {4: (90.52, 0.3845, 5.90), 5: (90.99, 0.3409, 6.67)}
    assert H.claimed_listing(report, [4, 5]) == "run 4 90.52, run 5 90.99"
    assert H.claimed_listing(report, [5], 1, "{:.4f}") == "run 5 0.3409"


def test_control_shifts_and_their_reading():
    noise = S.noise([[89.0, 89.1, 89.2], [91.0, 91.1, 91.2]], "noise runs")  # sd 0.1, df 4
    shifts = H.control_shifts([89.25], {"fp32": [89.23], "momentum 0.9": [92.46], "default init": [80.60],
                                        "weight decay": []}, noise)
    half = 2.776 * 0.1 * 2 ** 0.5
    assert shifts["momentum 0.9"].mean == pytest.approx(3.21) and shifts["momentum 0.9"].half == pytest.approx(half, rel=1e-3)
    assert not shifts["weight decay"].known
    text = H.control_reading(shifts, 89.25, 91.69)
    assert "Our run lies 2.44 points below the report's 91.69%." in text
    assert "momentum 0.9 moves it by +3.21 points, towards the report: it lands 0.77 points above" in text
    assert "default init moves it by -8.65 points, away from the report" in text
    assert "Within the noise: fp32 (-0.02 points)." in text
    assert "Not measured yet: weight decay." in text
    # without noise runs nothing is judged: every control waits
    waiting = H.control_reading(H.control_shifts([89.25], {"fp32": [89.23]}, None), 89.25, 91.69)
    assert "Beyond" not in waiting and "Not measured yet: fp32." in waiting
    assert H.control_reading({}, float("nan"), 91.69).startswith("Our run is not measured yet")
