"""The interval and the three outcomes of each rule, each made to happen by synthetic numbers."""
import math

import pytest

from cnnreport.core import stats as S


def test_t_quantiles_and_the_interval():
    assert S.t975(1) == 12.706 and S.t975(2) == 4.303 and S.t975(1000) == 1.96
    with pytest.raises(ValueError):
        S.t975(0)
    iv = S.interval([90.0, 91.0, 92.0])
    assert iv.mean == 91.0 and iv.half == pytest.approx(4.303 * 1.0 / math.sqrt(3)) and iv.n == 3
    assert "n=3" in iv.text()


def test_one_seed_borrows_the_pooled_noise_or_waits():
    assert not S.interval([90.0]).known and S.compare(S.difference(S.interval([90.0]), S.interval([89.0]))) == S.WAITING
    sd = S.pooled_sd([[1.0, 3.0], [10.0, 12.0, 14.0]])  # variances 2 and 4 with df 1 and 2
    assert sd == pytest.approx(math.sqrt((2 + 8) / 3))
    iv = S.interval([90.0], noise_sd=0.5, noise_df=3)
    assert iv.pooled and iv.half == pytest.approx(3.182 * 0.5)


@pytest.mark.parametrize("a, b, outcome", [
    ([92.0, 92.2, 91.9], [90.0, 90.1, 89.8], S.HOLDS),
    ([90.0, 90.1, 89.8], [92.0, 92.2, 91.9], S.CONTRADICTED),
    ([90.0, 92.0, 91.0], [90.5, 91.5, 90.0], S.INCONCLUSIVE),
])
def test_comparison_outcomes(a, b, outcome):
    assert S.compare(S.difference(S.interval(a), S.interval(b))) == outcome


def test_an_ordering_holds_only_when_every_adjacent_pair_holds():
    win = S.Interval(1.0, 0.2, 3)
    tie = S.Interval(0.1, 0.5, 3)
    loss = S.Interval(-1.0, 0.2, 3)
    assert S.ordering([win, win]) == S.HOLDS
    assert S.ordering([win, tie]) == S.INCONCLUSIVE
    assert S.ordering([win, loss]) == S.CONTRADICTED
    assert S.ordering([win, S.Interval(1.0, float("nan"), 1)]) == S.WAITING


@pytest.mark.parametrize("values, claim, tol, outcome", [
    ([91.0, 91.2, 90.9], 91.5, 0.5, S.REPRODUCED),
    ([91.0, 91.2, 90.9], 93.0, 0.5, S.NOT_REPRODUCED),
    ([88.0, 94.0, 91.0], 91.0, 0.5, S.INCONCLUSIVE),
    # a wide interval that still excludes the claim: the seeds' noise cannot explain the gap
    ([88.0, 94.0, 91.0], 75.0, 0.5, S.NOT_REPRODUCED),
    ([88.0, 94.0, 91.0], 105.0, 0.5, S.NOT_REPRODUCED),
])
def test_number_outcomes(values, claim, tol, outcome):
    assert S.number(S.interval(values), claim, tol) == outcome


def test_finite_helpers_drop_missing_values():
    assert S.finite([1.0, None, float("nan"), float("inf"), 2.0]) == [1.0, 2.0]
    assert S.finite_mean([None, 4.0, 6.0]) == 5.0 and math.isnan(S.finite_mean([]))
    assert math.isnan(S.sample_sd([1.0]))


def test_a_claim_of_parts_needs_every_part():
    assert S.joint([S.HOLDS, S.HOLDS]) == S.HOLDS
    assert S.joint([S.HOLDS, S.INCONCLUSIVE]) == S.INCONCLUSIVE
    assert S.joint([S.INCONCLUSIVE, S.CONTRADICTED]) == S.CONTRADICTED
    assert S.joint([S.HOLDS, S.WAITING]) == S.WAITING and S.joint([]) == S.WAITING
