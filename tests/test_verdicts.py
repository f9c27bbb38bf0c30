"""Each verdict rule, made to hold, be contradicted and be inconclusive by synthetic seeds."""
import pytest

from cnnreport.core import stats as S
from cnnreport.analysis import verdicts as V

HIGH, LOW = [92.0, 92.1, 91.9], [90.0, 90.2, 89.9]
WIDE_A, WIDE_B = [90.0, 92.0, 91.0], [91.0, 90.0, 91.5]
NOISE = S.noise([[90.0, 90.1, 89.9], [85.0, 85.2]], source="two noise configs")


@pytest.mark.parametrize("values, claim, outcome", [
    ([91.0, 91.1, 90.9], 91.4, S.REPRODUCED),
    ([91.0, 91.1, 90.9], 94.0, S.NOT_REPRODUCED),
    ([88.0, 91.0, 94.0], 91.0, S.INCONCLUSIVE),
    ([88.0, 91.0, 94.0], 70.0, S.NOT_REPRODUCED),  # wide, but the claim is far outside it
    ([91.0], 91.2, S.REPRODUCED),     # one seed with the pooled noise
])
def test_number_claim(values, claim, outcome):
    v = V.number_claim(values, claim, 0.5, NOISE)
    assert v.outcome == outcome and v.n == len(values)


def test_number_claim_gives_distances_between_percentages_in_points():
    far = V.number_claim([91.0, 91.1, 90.9], 94.0, 0.5, NOISE)
    assert far.measured.endswith("% (95%, n=3)") and far.reason.startswith("94% lies 2.25 points outside")
    assert "widened by ±0.5 points (mean -3.00 points from the claim)" in far.reason
    wide = V.number_claim([88.0, 91.0, 94.0], 91.0, 0.5, NOISE)
    assert "exceeds the tolerance ±0.5 points" in wide.reason
    assert V.number_claim([91.0, 91.1, 90.9], 91.4, 0.5, NOISE).reason.startswith("91.4% lies within")
    # a unit other than % is its own unit of distance
    ratio = V.number_claim([2.0, 2.1, 1.9], 3.0, 0.5, unit="x")
    assert "lies 0.25x outside the interval widened by ±0.5x (mean -1.00x from the claim)" in ratio.reason


def test_one_seed_without_noise_waits_and_nothing_finished_is_not_reproduced():
    assert V.number_claim([91.0], 91.0, 0.5).outcome == S.WAITING
    assert V.number_claim([91.0], 91.0, 0.5, S.Noise(source="x")).outcome == S.WAITING
    assert V.number_claim([], 91.0, 0.5).outcome == S.NOT_REPRODUCED


def test_noise_pools_only_repeated_groups():
    n = S.noise([[1.0, 3.0], [5.0], [10.0, 12.0, 14.0]])
    assert n.known and n.groups == 2 and n.df == 3
    assert not S.noise([[1.0], [2.0]]).known


@pytest.mark.parametrize("a, b, outcome", [(HIGH, LOW, S.HOLDS), (LOW, HIGH, S.CONTRADICTED),
                                            (WIDE_A, WIDE_B, S.INCONCLUSIVE)])
def test_comparison(a, b, outcome):
    v = V.comparison(("A", a), ("B", b))
    assert v.outcome == outcome and "A − B" in v.measured and v.n == 6


def test_comparison_margin_demands_a_larger_gap():
    assert V.comparison(("A", HIGH), ("B", LOW), margin=1.0).outcome == S.HOLDS
    assert V.comparison(("A", HIGH), ("B", LOW), margin=5.0).outcome == S.CONTRADICTED


def test_ordering_and_best_of():
    mid = [91.0, 91.1, 90.9]
    assert V.ordering([("a", HIGH), ("b", mid), ("c", LOW)]).outcome == S.HOLDS
    assert V.ordering([("a", HIGH), ("c", LOW), ("b", mid)]).outcome == S.CONTRADICTED
    assert V.ordering([("a", HIGH), ("b", [91.9, 92.0, 92.1]), ("c", LOW)]).outcome == S.INCONCLUSIVE
    assert V.best_of("a", {"a": HIGH, "b": mid, "c": LOW}).outcome == S.HOLDS
    assert V.best_of("c", {"a": HIGH, "b": mid, "c": LOW}).outcome == S.CONTRADICTED
    assert V.best_of("a", {"a": WIDE_A, "b": WIDE_B}).outcome == S.INCONCLUSIVE
    assert V.best_of("a", {"a": HIGH, "b": []}).outcome == S.NOT_REPRODUCED
    with pytest.raises(ValueError):
        V.best_of("z", {"a": HIGH})


def test_all_of_needs_every_part():
    hold, contra = V.comparison(("A", HIGH), ("B", LOW)), V.comparison(("A", LOW), ("B", HIGH))
    tie = V.comparison(("A", WIDE_A), ("B", WIDE_B))
    assert V.all_of({"alexnet": hold, "vgg": hold}).outcome == S.HOLDS
    assert V.all_of({"alexnet": hold, "vgg": contra}).outcome == S.CONTRADICTED
    assert V.all_of({"alexnet": hold, "vgg": tie}).outcome == S.INCONCLUSIVE
    waits = V.number_claim([1.0], 1.0, 0.5)
    assert V.all_of({"alexnet": hold, "vgg": waits}).outcome == S.WAITING


def test_threshold():
    assert V.threshold(LOW, 95.0).outcome == S.HOLDS
    assert V.threshold(LOW, 85.0).outcome == S.CONTRADICTED
    assert V.threshold(WIDE_A, 91.0).outcome == S.INCONCLUSIVE
    assert V.threshold(HIGH, 91.0, below=False).outcome == S.HOLDS


def test_rows_no_run_can_judge():
    assert V.by_construction("1.2 M", "layer widths chosen to match").outcome == S.BY_CONSTRUCTION
    assert V.by_eye("Figure 3").outcome == S.BY_EYE
