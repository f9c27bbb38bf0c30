"""The kernel-size chapter's rules, each made to hold, be contradicted and be inconclusive
by synthetic seeds, and the per-run measures they read."""
import pytest

from cnnreport.core import stats as S
from cnnreport.analysis import kernels as K
from cnnreport.core.store import Result

HIGH, MID, LOW = [92.0, 92.1, 91.9], [91.0, 91.1, 90.9], [90.0, 90.2, 89.9]
WIDE_A, WIDE_B = [90.0, 92.0, 91.0], [91.0, 90.0, 91.5]
BLOCKS = ("[3x3]", "[7x7]", "[3x3, 3x3, 3x3]", "[3x3, 3x3]")


def test_early_epochs_is_the_first_fifth():
    assert K.early_epochs(50) == 10 and K.early_epochs(2) == 1 and K.early_epochs(1) == 1


def _run(train_acc, final_test=None, status="ok"):
    return Result(key="k", config={}, status=status, history={"train_acc": list(train_acc)},
                  final_test_acc=final_test, test_acc=final_test)


def test_early_train_acc_and_gaps_read_finished_runs():
    runs = [_run([0.2, 0.4, 0.6], 0.5), _run([0.4, 0.6, 0.8], 0.7), _run([0.9], 0.1, status="diverged")]
    assert K.early_train_acc(runs, 2) == [pytest.approx(30.0), pytest.approx(50.0)]
    assert K.train_test_gaps(runs) == [pytest.approx(10.0), pytest.approx(10.0)]
    assert K.train_test_gaps([_run([], 0.5)]) == []


@pytest.mark.parametrize("accs, outcome", [
    ({"[3x3]": HIGH, "[7x7]": LOW, "[3x3, 3x3, 3x3]": MID, "[3x3, 3x3]": MID}, S.HOLDS),
    ({"[3x3]": MID, "[7x7]": LOW, "[3x3, 3x3, 3x3]": HIGH, "[3x3, 3x3]": MID}, S.CONTRADICTED),
    ({"[3x3]": WIDE_A, "[7x7]": LOW, "[3x3, 3x3, 3x3]": WIDE_B, "[3x3, 3x3]": MID}, S.INCONCLUSIVE),
])
def test_best_and_worst(accs, outcome):
    v = K.best_and_worst(accs, "[3x3]", "[7x7]")
    assert v.outcome == outcome and v.n == 2 * 5 * 3          # five pairs of two blocks of three seeds


def test_best_and_worst_with_one_seed_borrows_noise():
    accs = {b: [v] for b, v in zip(BLOCKS, (92.0, 85.0, 89.0, 88.0))}
    assert K.best_and_worst(accs, "[3x3]", "[7x7]").outcome == S.WAITING
    noise = S.noise([[88.0, 88.2, 87.9]], source="base recipe")
    assert K.best_and_worst(accs, "[3x3]", "[7x7]", noise).outcome == S.HOLDS


@pytest.mark.parametrize("gap7, gap3, outcome", [([8.0, 8.2, 7.9], [6.0, 6.1, 5.9], S.HOLDS),
                                                  ([6.0, 6.1, 5.9], [8.0, 8.2, 7.9], S.CONTRADICTED),
                                                  (WIDE_A, WIDE_B, S.INCONCLUSIVE)])
def test_overfits_more(gap7, gap3, outcome):
    assert K.overfits_more({"[7x7]": gap7, "[3x3]": gap3}, "[7x7]", "[3x3]").outcome == outcome


@pytest.mark.parametrize("one, three, outcome", [(HIGH, LOW, S.HOLDS), (LOW, HIGH, S.CONTRADICTED),
                                                  (WIDE_A, WIDE_B, S.INCONCLUSIVE)])
def test_converges_slower(one, three, outcome):
    early = {"[3x3]": one, "[3x3, 3x3, 3x3]": three}
    assert K.converges_slower(early, "[3x3, 3x3, 3x3]", "[3x3]").outcome == outcome


@pytest.mark.parametrize("early_two, acc_two, outcome", [
    (HIGH, HIGH, S.HOLDS),            # faster than three 3x3s, tests above one
    (HIGH, LOW, S.CONTRADICTED),      # the depth does not pay
    (LOW, HIGH, S.CONTRADICTED),      # converges no faster than the deepest
    (WIDE_A, HIGH, S.INCONCLUSIVE),
])
def test_compromise(early_two, acc_two, outcome):
    early = {"[3x3, 3x3]": early_two, "[3x3, 3x3, 3x3]": WIDE_B if early_two is WIDE_A else MID}
    accs = {"[3x3, 3x3]": acc_two, "[3x3]": MID}
    v = K.compromise(early, accs, "[3x3, 3x3]", "[3x3]", "[3x3, 3x3, 3x3]")
    assert v.outcome == outcome and "tests above [3x3]" in v.measured
