"""The architecture chapter's rules, each made to hold, be contradicted and be inconclusive
by synthetic seeds, and the sizes, curve speeds and confusion counts they read."""
import math

import pytest

from cnnreport.core import stats as S
from cnnreport.analysis import archs as A
from cnnreport.analysis.noise import REPORT001_BASE_QUOTES
from cnnreport.core.store import Result

HIGH, LOW = [92.0, 92.1, 91.9], [90.0, 90.2, 89.9]
WIDE_A, WIDE_B = [90.0, 92.0, 91.0], [91.0, 90.0, 91.5]
CPU = {"device": "cpu", "device_type": "cpu", "precision": "bf16", "channels_last": True, "compile": False,
       "threads": 2, "cpu_flags": {"amx_bf16": True, "avx512_bf16": True}}
GPU = {"device": "NVIDIA H200", "device_type": "cuda", "precision": "bf16", "channels_last": True,
       "compile": False, "threads": 16}


def test_fp32_mib_is_report001s_megabyte():
    # Report 001 lists its ResNet-18 (11,173,962 parameters) as 42.7 MB.
    assert round(A.fp32_mib(11_173_962), 1) == 42.6
    assert abs(A.fp32_mib(11_173_962) - 42.7) < 0.1
    assert abs(A.fp32_mib(11_173_962) * 2 ** 20 / 1e6 - 44.7) < 0.1  # decimal MB would read 44.7
    assert math.isclose(A.params_for_mib(A.fp32_mib(2_474_314)), 2_474_314)


def test_ratios():
    size = {"ResNet-18": 42.7, "Res9": 8.7, "simp_Res9": 3.41}
    r = A.ratios(size, "simp_Res9")
    assert math.isclose(r["ResNet-18"], 42.7 / 3.41) and r["simp_Res9"] == 1.0
    assert math.isnan(A.ratios({"a": 1.0, "b": 0.0}, "b")["a"])


def test_param_count_matches_by_construction_or_is_not_reproduced():
    assert A.param_count(1_147_466, 1_147_466).outcome == S.BY_CONSTRUCTION
    off = A.param_count(1_147_476, 1_147_466)
    assert off.outcome == S.NOT_REPRODUCED and "+10" in off.reason


def test_sizes_by_construction_states_the_offsets():
    v = A.sizes_by_construction({"big": 42.63, "small": 3.25}, {"big": 42.7, "small": 3.41}, "chosen layouts")
    assert v.outcome == S.BY_CONSTRUCTION and "-5% against 3.41" in v.measured and "chosen layouts" in v.reason


@pytest.mark.parametrize("better, worse, lower, outcome", [
    (HIGH, LOW, False, S.HOLDS), (LOW, HIGH, False, S.CONTRADICTED), (WIDE_A, WIDE_B, False, S.INCONCLUSIVE),
    (LOW, HIGH, True, S.HOLDS), (HIGH, LOW, True, S.CONTRADICTED)])
def test_compare_measure(better, worse, lower, outcome):
    v = A.compare_measure(("A", better), ("B", worse), lower=lower, unit=" nats")
    assert v.outcome == outcome and v.n == 6 and "A − B" in v.measured and "nats" in v.measured


def test_compare_measure_waits_with_one_seed_and_fails_without_a_run():
    assert A.compare_measure(("A", [1.0]), ("B", [0.5])).outcome == S.WAITING
    known = S.noise([[1.0, 1.1, 0.9]], source="noise")
    assert A.compare_measure(("A", [3.0]), ("B", [1.0]), noise=known).outcome == S.HOLDS
    assert A.compare_measure(("A", []), ("B", LOW)).outcome == S.NOT_REPRODUCED
    assert "points" in A.compare_measure(("A", HIGH), ("B", LOW), unit="%").measured  # % differ by points


def test_all_lower():
    assert A.all_lower({"ref": HIGH, "a": LOW, "b": LOW}, "ref").outcome == S.HOLDS
    assert A.all_lower({"ref": LOW, "a": HIGH, "b": LOW}, "ref").outcome == S.CONTRADICTED
    assert A.all_lower({"ref": WIDE_A, "a": WIDE_B}, "ref").outcome == S.INCONCLUSIVE


def _timed(key, seconds, env=CPU, status="ok"):
    return Result(key=key, config={}, status=status, history={"epoch_time": list(seconds)}, environment=dict(env))


def _timing_runs(slow, fast, envs=(CPU, CPU, CPU)):
    return {"slow": [_timed(f"s{i}", [t], e) for i, (t, e) in enumerate(zip(slow, envs))],
            "fast": [_timed(f"f{i}", [t], e) for i, (t, e) in enumerate(zip(fast, envs))]}


def test_timing_claim_holds_is_contradicted_or_inconclusive_on_one_machine():
    holds = A.timing_claim(_timing_runs([2.0, 2.1, 1.9], [1.0, 1.0, 1.0]), [("slow", "fast")])
    assert holds.outcome == S.HOLDS and "on cpu, bf16" in holds.measured and "2 threads" in holds.measured
    assert A.timing_claim(_timing_runs([2.0, 2.1, 1.9], [1.0, 1.0, 1.0]), [("slow", "fast")],
                          faster=True).outcome == S.CONTRADICTED
    assert A.timing_claim(_timing_runs([1.0, 1.5, 0.7], [1.0, 1.0, 1.0]),
                          [("slow", "fast")]).outcome == S.INCONCLUSIVE


def test_timing_claim_compares_only_runs_of_one_machine():
    mixed = _timing_runs([2.0, 2.1, 1.9], [1.0, 1.0, 1.0], envs=(CPU, GPU, dict(CPU, precision="fp32")))
    assert A.timing_claim(mixed, [("slow", "fast")]).outcome == A.NOT_COMPARABLE   # one seed per machine
    crossed = _timing_runs([2.0, 2.1], [1.0, 1.0], envs=(CPU, CPU))
    crossed["fast"][1].environment = dict(GPU)                                       # a pair split over machines
    assert A.timing_claim(crossed, [("slow", "fast")]).outcome == A.NOT_COMPARABLE
    most = _timing_runs([2.0, 2.1, 5.0, 5.2], [1.0, 1.0, 9.0, 2.5], envs=(CPU, CPU, GPU, CPU))
    v = A.timing_claim(most, [("slow", "fast")])   # the CPU's three seeds; the GPU's (ratio 0.56) is left out
    assert v.outcome == S.HOLDS and "on cpu" in v.measured and v.n == 6
    pending = _timing_runs([2.0, 2.1], [1.0, 1.0])
    pending["slow"][0].status = "pending"
    assert A.timing_claim(pending, [("slow", "fast")]).outcome == A.NOT_COMPARABLE


def test_timing_claim_of_three_models_needs_both_ratios():
    runs = {"a": [_timed(f"a{i}", [1.0]) for i in range(3)],
            "b": [_timed(f"b{i}", [t]) for i, t in enumerate([2, 2.1, 1.9])],
            "c": [_timed(f"c{i}", [t]) for i, t in enumerate([1.0, 1.1, 0.9])]}
    v = A.timing_claim(runs, [("b", "a"), ("c", "b")])
    assert v.outcome == S.CONTRADICTED and "b / a" in v.measured and "c / b" in v.measured


def test_machine_text():
    assert A.machine_text(A.machine(_timed("x", [1.0]))) == \
        "cpu, bf16, channels-last, 2 threads, CPU flags amx_bf16+avx512_bf16"
    assert A.machine_text(A.machine(_timed("y", [1.0], GPU))).startswith("NVIDIA H200, bf16")


def test_an_amx_machine_is_one_machine_whether_or_not_its_record_holds_the_fp32_flags():
    newer = dict(CPU, cpu_flags={"amx_bf16": True, "avx512_bf16": True, "avx512f": True, "avx2": True})
    assert A.machine(_timed("old", [1.0])) == A.machine(_timed("new", [1.0], newer))
    avx2 = dict(CPU, precision="fp32", channels_last=False,
                cpu_flags={"amx_bf16": False, "avx512_bf16": False, "avx512f": False, "avx2": True})
    assert A.machine_text(A.machine(_timed("e", [1.0], avx2))) == "cpu, fp32, 2 threads, CPU flags avx2"


def test_machines_sentence_counts_finished_runs_per_machine():
    avx2 = dict(CPU, precision="fp32", channels_last=False, cpu_flags={"amx_bf16": False, "avx2": True})
    runs = [_timed("a", [1.0]), _timed("b", [1.0]), _timed("c", [1.0], avx2), _timed("d", [1.0], status="pending")]
    assert A.machines_sentence(runs) == ("The 3 finished runs read here trained: 2 on cpu, bf16, channels-last, "
                                         "2 threads, CPU flags amx_bf16+avx512_bf16; 1 on cpu, fp32, 2 threads, "
                                         "CPU flags avx2.")
    assert A.machines_sentence(runs[3:]) == ""
    assert A.machines_sentence(runs[:1]) == ("The 1 finished run read here trained on cpu, bf16, channels-last, "
                                             "2 threads, CPU flags amx_bf16+avx512_bf16.")
    unrecorded = dict(CPU, cpu_flags=None)
    assert A.machine_text(A.machine(_timed("u", [1.0], unrecorded))).endswith("2 threads, CPU flags not recorded")


def test_seconds_on_one_machine_keep_the_machine_of_most_runs():
    avx2 = dict(CPU, precision="fp32", cpu_flags={"amx_bf16": False, "avx2": True})
    runs = [_timed("a", [1.0]), _timed("b", [3.0]), _timed("c", [50.0], avx2), _timed("d", [9.0], status="pending")]
    secs, where, n = A.seconds_on_one_machine(runs)
    assert (secs, n) == (2.0, 2) and where.startswith("cpu, bf16") and "amx_bf16" in where
    assert A.seconds_on_one_machine(runs[3:])[2] == 0


def test_seconds_per_epoch_averages_finished_runs_only():
    runs = [_timed("a", [1.0, 3.0]), _timed("b", [4.0]), _timed("c", [100.0], status="diverged"),
            _timed("d", [], status="pending"), _timed("e", [])]
    assert A.seconds_per_epoch(runs) == 3.0                   # mean of 2.0 and 4.0
    assert math.isnan(A.seconds_per_epoch([_timed("p", [], status="pending")]))
    assert math.isnan(A.seconds_per_epoch([]))


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


FAST = [[70.0, 85, 90, 90], [71.0, 86, 90, 91], [69.0, 85, 89, 90]]
SLOW = [[30.0, 50, 60, 80], [31.0, 52, 62, 81], [29.0, 49, 61, 79]]


def test_converges_faster():
    assert A.converges_faster(("fast", FAST), ("slow", SLOW)).outcome == S.HOLDS
    assert A.converges_faster(("fast", SLOW), ("slow", FAST)).outcome == S.CONTRADICTED
    mixed = [[50.0, 85, 90, 90], [20.0, 86, 90, 91], [80.0, 85, 89, 90]]
    assert A.converges_faster(("fast", mixed), ("slow", [[50.0, 60, 85, 90]] * 3)).outcome == S.INCONCLUSIVE


def test_reaches_within():
    assert A.reaches_within([[50, 70, 81, 82, 83]] * 2 + [[50, 70, 79, 85, 84]], 80, 5).outcome == S.HOLDS
    assert A.reaches_within([[50, 60, 70, 75, 76]] * 3, 80, 5).outcome == S.CONTRADICTED
    assert A.reaches_within([[70, 75, 78, 79, 79], [80, 85, 86, 87, 88], [81, 82, 83, 84, 85]], 80, 5
                            ).outcome == S.INCONCLUSIVE
    short = A.reaches_within([[50, 85]], 80, 5)
    assert short.outcome == S.WAITING and "fewer than 5" in short.measured


def test_within_range():
    assert A.within_range([70.0, 70.5, 69.5], 65, 75).outcome == S.HOLDS
    assert A.within_range([80.0, 80.5, 79.5], 65, 75).outcome == S.CONTRADICTED
    assert A.within_range([66.0, 64.0, 65.5], 65, 75).outcome == S.INCONCLUSIVE


CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
NAMED = ("airplane", "automobile", "ship")


def _per_class(values, jitter=(0.0, 0.5, -0.5)):
    return [[values[c] + j for c in CLASSES] for j in jitter]


BASE = {"airplane": 95, "automobile": 96, "bird": 80, "cat": 70, "deer": 82, "dog": 75, "frog": 85,
        "horse": 86, "ship": 94, "truck": 96.5}    # truck joins the three: allowed by "such as"


def test_classes_among_best():
    assert A.classes_among_best(_per_class(BASE), CLASSES, NAMED, extra=1).outcome == S.HOLDS
    assert A.classes_among_best(_per_class(BASE), CLASSES, NAMED, extra=0).outcome == S.CONTRADICTED
    low_ship = dict(BASE, ship=78)                 # below truck, horse, frog and deer
    assert A.classes_among_best(_per_class(low_ship), CLASSES, NAMED).outcome == S.CONTRADICTED
    rows = _per_class(BASE)
    for row, v in zip(rows, (99.0, 78.0, 88.0)):  # ship's seeds spread over the others
        row[CLASSES.index("ship")] = v
    assert A.classes_among_best(rows, CLASSES, NAMED).outcome == S.INCONCLUSIVE
    assert A.classes_among_best([], [], NAMED).outcome == S.NOT_REPRODUCED


def _confusion(cat_dog, other=0):
    c = [[90 if i == j else 1 for j in range(10)] for i in range(10)]
    c[3][5] = c[5][3] = cat_dog
    c[0][8] = c[8][0] = other      # airplane / ship
    return c


def test_most_confused_pair_counts_both_directions():
    classes = ["cat", "dog", "ship"]
    conf = [[50, 6, 5],
            [7, 50, 0],
            [9, 0, 50]]        # cat->ship 5 + ship->cat 9 = 14 beats cat/dog 6 + 7 = 13
    assert A.most_confused_pair(conf, classes) == {"cat", "ship"}
    conf[1][0] = 9            # now cat/dog 15
    assert A.most_confused_pair(conf, classes) == {"cat", "dog"}


def test_most_confused():
    holds = A.most_confused([_confusion(15), _confusion(16), _confusion(14)], CLASSES, ("cat", "dog"))
    assert holds.outcome == S.HOLDS and holds.measured.startswith("cat/dog")
    assert A.most_confused([_confusion(5, 15), _confusion(6, 16), _confusion(5, 14)], CLASSES,
                           ("dog", "cat")).outcome == S.CONTRADICTED
    assert A.most_confused([_confusion(15, 3), _confusion(4, 15), _confusion(10, 9)], CLASSES,
                           ("cat", "dog")).outcome == S.INCONCLUSIVE
    assert A.most_confused([], [], ("cat", "dog")).outcome == S.NOT_REPRODUCED


def test_pair_confusion_and_per_class_readings():
    assert math.isclose(A.pair_confusion(_confusion(15), 3, 5), 100 * 30 / (2 * (90 + 8 + 15)))
    runs = [Result(key="a", config={}, per_class_acc=[0.5, 1.0]), Result(key="b", config={}, per_class_acc=[0.7, 0.8]),
            Result(key="c", config={}, status="diverged", per_class_acc=[0.0, 0.0]), Result(key="d", config={})]
    assert A.mean_per_class(runs) == [pytest.approx(0.6), pytest.approx(0.9)]
    assert A.per_class_by_seed(runs) == [[50.0, 100.0], [70.0, 80.0]]
    assert A.mean_per_class([Result(key="p", config={}, status="pending")]) == []


def test_quotes_within_noise():
    wide = A.quotes_within_noise(REPORT001_BASE_QUOTES, [87.0, 89.0, 91.0])
    assert wide.outcome == S.HOLDS and "4 of 4" in wide.measured
    tight = A.quotes_within_noise(REPORT001_BASE_QUOTES, [88.5, 88.6, 88.7])
    assert tight.outcome == S.CONTRADICTED and "90.58" in tight.reason
    # a shift of every quote is not noise: only their spread around their own mean counts
    shifted = A.quotes_within_noise([q + 5 for q in REPORT001_BASE_QUOTES], [87.0, 89.0, 91.0])
    assert shifted.outcome == S.HOLDS
    assert A.quotes_within_noise(REPORT001_BASE_QUOTES, [88.0]).outcome == S.WAITING
    band = A.quote_band(REPORT001_BASE_QUOTES, [87.0, 89.0, 91.0])
    assert math.isclose(band["half"], S.t975(2) * 2.0 * math.sqrt(0.75))


def test_shown_by_eye_needs_something_to_show():
    assert A.shown_by_eye([[0.1]], "the filter grid", "edges").outcome == S.BY_EYE
    assert A.shown_by_eye([], "the filter grid", "edges").outcome == S.NOT_REPRODUCED
    assert A.shown_by_eye(None, "the filter grid", "edges").outcome == S.NOT_REPRODUCED


def test_pairwise_differences():
    pairs = A.pairwise_differences({"a": 1.0, "b": 3.0, "c": 2.0, "d": float("nan")})
    assert [(a, b) for a, b, _ in pairs] == [("b", "a"), ("b", "c"), ("c", "a")]
    assert pairs[0][2] == 2.0
