"""The rules of the architecture and kernel-size chapters, and the measures they read:
model sizes in the reports' units, timing ratios between runs of one machine, how fast a
curve rises, per-class accuracy and confusion, and where a report's repeated quotes of one
recipe fall against our seeds.

Every rule takes measurements (lists of values, one per seed, or the per-seed Results
they come from) and returns a :class:`~cnnreport.analysis.verdicts.Verdict`, composed of
the generic rules of :mod:`cnnreport.analysis.verdicts`; the 95% intervals over seeds are
:mod:`cnnreport.core.stats`'.

Report 001 lists weight files in MB; its ResNet-18 (11,173,962 parameters) is 42.7 MB,
which is the size of the float32 weights in MiB (2**20 bytes): :func:`fp32_mib`.
Everything here is plain Python and numpy, so it is tested without torch.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..core import stats as S
from . import verdicts as V
from . import readings as R
from ..core.stats import is_finite

MIB = 2 ** 20
# A row whose runs exist but cannot be compared (times from different machines): the page's
# word for it, which at a shortened profile it uses for every measured row too.
NOT_COMPARABLE = "not comparable at this profile"




# -- sizes -------------------------------------------------------------------------------------

def fp32_mib(n_params: int) -> float:
    """Size of ``n_params`` float32 weights in MiB, the unit report 001 calls MB."""
    return 4.0 * n_params / MIB


def params_for_mib(mib: float) -> float:
    """How many float32 parameters a weight file of ``mib`` MiB holds."""
    return mib * MIB / 4.0


def ratios(values: Mapping[str, float], base: str) -> Dict[str, float]:
    """Each value divided by ``values[base]`` (NaN where either is missing or zero)."""
    b = values.get(base)
    out = {}
    for k, v in values.items():
        out[k] = float(v) / float(b) if is_finite(v) and is_finite(b) and b != 0 else float("nan")
    return out


def param_count(ours: int, claimed: int) -> V.Verdict:
    """A report's exact parameter count against the model we built from its layers: it
    matches by construction when the counts are equal; any difference means our model is
    not the report's, and the row is not reproduced."""
    if int(ours) == int(claimed):
        return V.by_construction(f"{int(ours):,}", "the model is built from the report's layers, "
                                 "and its count is the report's exactly (tests/test_models.py asserts it)")
    return V.Verdict(S.NOT_REPRODUCED, f"{int(ours):,}",
                     f"our model has {int(ours) - int(claimed):+,} parameters against the report's count", 0)


def sizes_by_construction(ours_mib: Mapping[str, float], claimed_mb: Mapping[str, float], how: str) -> V.Verdict:
    """Weight sizes that hold because we chose the layouts to match them: our MiB beside
    the report's MB (each with its offset), the ratios to the smallest, and ``how`` they
    were chosen."""
    smallest = min(claimed_mb, key=claimed_mb.get)
    r_ours, r_rep = ratios(ours_mib, smallest), ratios(claimed_mb, smallest)
    parts = [f"{k} {ours_mib[k]:.2f} MiB ({100 * (ours_mib[k] / claimed_mb[k] - 1):+.0f}% against "
             f"{claimed_mb[k]:g}; {r_ours[k]:.1f}x {smallest}, the report {r_rep[k]:.1f}x)" for k in claimed_mb]
    return V.by_construction("; ".join(parts), how)


# -- comparisons of measures other than accuracy ---------------------------------------------

def _iv_text(iv: S.Interval, unit: str, digits: int) -> str:
    if not math.isfinite(iv.mean):
        return "n/a"
    if not iv.known:
        return f"{iv.mean:.{digits}f}{unit} (n={iv.n}, no interval yet)"
    return f"{iv.mean:.{digits}f} ± {iv.half:.{digits}f}{unit} (95%, n={iv.n}{', pooled sd' if iv.pooled else ''})"


def compare_measure(better: V.Named, worse: V.Named, lower: bool = False, unit: str = "", digits: int = 2,
                    noise: Optional[S.Noise] = None, margin: float = 0.0) -> V.Verdict:
    """The claim that ``better``'s measure is higher than ``worse``'s (``lower``: lower),
    each a ``(label, values over seeds)`` pair, in ``unit``: holds when the 95% interval
    of the difference excludes zero (or ``margin``) in the claimed direction, is
    contradicted when it excludes it the other way, else inconclusive.  The same rule as
    :func:`~cnnreport.analysis.verdicts.comparison`, for losses, epochs, widths or seconds
    (that one writes accuracies in %).  One value without ``noise`` waits."""
    a, b = S.finite(better[1]), S.finite(worse[1])
    n = len(a) + len(b)
    if not a or not b:
        missing = better[0] if not a else worse[0]
        return V.Verdict(S.NOT_REPRODUCED, f"{missing}: no finished run", f"{missing} has no finished run", n)
    ia, ib = S.interval(a, noise=noise), S.interval(b, noise=noise)
    raw = S.difference(ia, ib)                      # better - worse, as shown
    claimed = S.Interval((-raw.mean if lower else raw.mean) - margin, raw.half, raw.n, raw.pooled)
    outcome = S.compare(claimed)
    du = " points" if unit == "%" else unit  # a difference of percentages is in points
    diff = (f"{raw.mean:+.{digits}f} ± {raw.half:.{digits}f}{du}" if raw.known
            else f"{raw.mean:+.{digits}f}{du} (no interval yet)")
    text = (f"{better[0]} {_iv_text(ia, unit, digits)}; {worse[0]} {_iv_text(ib, unit, digits)}; "
            f"{better[0]} − {worse[0]} {diff}")
    side = "below" if lower else "above"
    other = "above" if lower else "below"
    past = f"{-margin if lower else margin:+g}{du}" if margin else "zero"
    reason = {S.HOLDS: f"the 95% interval of the difference lies {side} {past}, as claimed",
              S.CONTRADICTED: f"the 95% interval of the difference lies {other} {past}, against the claim",
              S.INCONCLUSIVE: f"the 95% interval of the difference contains {past}: inconclusive at these seeds",
              S.WAITING: "one seed, and no noise estimate for this measure"}[outcome]
    return V.Verdict(outcome, text, reason, n)


def all_lower(groups: Mapping[str, Sequence[float]], reference: str, unit: str = "", digits: int = 3,
              noise: Optional[S.Noise] = None) -> V.Verdict:
    """The claim that every group other than ``reference`` has a lower value than it (e.g.
    the smaller models' early training loss below ResNet-18's)."""
    return V.all_of({f"{k} < {reference}": compare_measure((k, v), (reference, groups[reference]), lower=True,
                                                          unit=unit, digits=digits, noise=noise)
                     for k, v in groups.items() if k != reference})


# -- time --------------------------------------------------------------------------------------

# What makes two runs' times comparable: the same device, precision and execution
# settings.  The load on the machine while a run trained is not recorded for these runs;
# the threads it used are.
MACHINE_KEYS = ("device", "device_type", "precision", "channels_last", "compile", "threads")


def machine(result: Any) -> Tuple:
    """The machine a run trained on, as recorded in ``Result.environment``: the fields of
    :data:`MACHINE_KEYS` and the CPU's bf16 flags (with its fp32 vector flags where it has no
    bf16 path, as they then set its speed; older records hold the bf16 flags alone)."""
    env = getattr(result, "environment", None) or {}
    recorded = env.get("cpu_flags") or {}
    bf16 = {f: on for f, on in recorded.items() if "bf16" in f}
    flags = tuple(sorted((recorded if not any(bf16.values()) else bf16).items()))
    return tuple(env.get(k) for k in MACHINE_KEYS) + (flags,)


def machine_text(sig: Tuple) -> str:
    """A machine signature (:func:`machine`) in words."""
    env = dict(zip(MACHINE_KEYS, sig))
    flags = [f for f, on in sig[len(MACHINE_KEYS)] if on]
    words = [str(env["device"] or env["device_type"] or "unknown device"), str(env["precision"] or "unknown precision")]
    if env["channels_last"]:
        words.append("channels-last")
    if env["compile"]:
        words.append("compiled")
    if env["threads"]:
        words.append(f"{env['threads']} threads")
    if flags:
        words.append("CPU flags " + "+".join(flags))
    elif env["device_type"] == "cpu" or env["device"] == "cpu":
        words.append("CPU flags " + ("none of " + "+".join(f for f, _ in sig[len(MACHINE_KEYS)])
                                     if sig[len(MACHINE_KEYS)] else "not recorded"))
    return ", ".join(words)


def machines_sentence(results: Sequence) -> str:
    """Where the finished runs among ``results`` trained, as one sentence: how many on each
    machine signature (:func:`machine`, in words), most first; "" when none finished."""
    import collections
    counts = collections.Counter(machine(r) for r in R.done(results))
    if not counts:
        return ""
    total = sum(counts.values())
    runs = f"The {total} finished run{'s' if total != 1 else ''} read here"
    if len(counts) == 1:
        return f"{runs} trained on {machine_text(next(iter(counts)))}."
    parts = [f"{n} on {machine_text(sig)}" for sig, n in sorted(counts.items(), key=lambda kv: -kv[1])]
    return f"{runs} trained: " + "; ".join(parts) + "."


def seconds_per_epoch(results: Sequence) -> float:
    """Mean training seconds per epoch over the finished runs (``Result.done``) that
    recorded epoch times: each run's mean epoch time, then their mean; NaN if none."""
    t = [_run_seconds(r) for r in R.done(results)]
    t = [x for x in t if is_finite(x)]
    return sum(t) / len(t) if t else float("nan")


def seconds_on_one_machine(results: Sequence) -> Tuple[float, str, int]:
    """(mean seconds per epoch, machine in words, runs) over the finished runs of the machine
    that trained most of ``results`` (:func:`machine`): times from several machines do not
    average into one.  (nan, "", 0) when no finished run recorded epoch times."""
    import collections
    groups: Dict[Tuple, List] = collections.defaultdict(list)
    for r in R.done(results):
        if is_finite(_run_seconds(r)):
            groups[machine(r)].append(r)
    if not groups:
        return float("nan"), "", 0
    sig, runs = max(groups.items(), key=lambda kv: len(kv[1]))
    return seconds_per_epoch(runs), machine_text(sig), len(runs)


def _run_seconds(result: Any) -> float:
    e = [float(x) for x in (result.history.get("epoch_time") or []) if is_finite(x)]
    return sum(e) / len(e) if e else float("nan")


def timing_claim(runs: Mapping[str, Sequence[Any]], pairs: Sequence[Tuple[str, str]], faster: bool = False
                 ) -> V.Verdict:
    """The claim that for each ``(a, b)`` of ``pairs`` model ``a`` takes more (``faster``:
    less) training time per epoch than ``b``, as the ratio a / b of seed-matched runs.

    Times only compare on one machine: a seed counts when every model of the claim has a
    finished run of it on one machine (:func:`machine`), and the machine with the most
    such seeds is used.  Each ratio's 95% interval over those seeds must lie above 1
    (``faster``: below 1).  With fewer than two such seeds the times are not comparable."""
    labels = list(dict.fromkeys(k for p in pairs for k in p))
    n_seeds = min(len(runs[k]) for k in labels)
    by_machine: Dict[Tuple, List[Dict[str, float]]] = {}
    for i in range(n_seeds):
        rs = {k: runs[k][i] for k in labels}
        if not all(getattr(r, "status", None) == "ok" for r in rs.values()):
            continue
        secs = {k: _run_seconds(r) for k, r in rs.items()}
        sigs = {machine(r) for r in rs.values()}
        if len(sigs) == 1 and all(is_finite(v) for v in secs.values()):
            by_machine.setdefault(sigs.pop(), []).append(secs)
    if not by_machine:
        return V.Verdict(NOT_COMPARABLE, "no seed with every model's run on one machine",
                         "times of runs on different machines (device, precision, threads) do not compare", 0)
    sig, seeds = max(by_machine.items(), key=lambda kv: len(kv[1]))
    where = machine_text(sig)
    if len(seeds) < 2:
        return V.Verdict(NOT_COMPARABLE, f"one seed's runs on {where}",
                         "a ratio's interval needs two or more seeds whose runs share one machine", len(labels))
    parts = {f"{a} / {b}": V.threshold([s[a] / s[b] for s in seeds], 1.0, below=faster, unit="x")
             for a, b in pairs}
    found = parts[next(iter(parts))] if len(parts) == 1 else V.all_of(parts)
    per_epoch = ", ".join(f"{k} {sum(s[k] for s in seeds) / len(seeds):.2f} s" for k in labels)
    head = next(iter(parts)) + ": " if len(parts) == 1 else ""
    return V.Verdict(found.outcome, f"{head}{found.measured}; seconds per epoch {per_epoch}; on {where}",
                     f"{found.reason}; {len(seeds)} seed(s) whose runs all trained on {where} (the machine's "
                     f"load is not recorded)", len(seeds) * len(labels))


# -- curves ------------------------------------------------------------------------------------

def mean_curve(curves: Sequence[Sequence[float]]) -> List[float]:
    """The per-epoch mean of several curves over the epochs they all have (NaN skipped)."""
    if not curves:
        return []
    n = min(len(c) for c in curves)
    out = []
    for i in range(n):
        vs = [float(c[i]) for c in curves if is_finite(c[i])]
        out.append(sum(vs) / len(vs) if vs else float("nan"))
    return out


def first_epoch_reaching(curve: Sequence[float], threshold: float) -> Optional[int]:
    """The first epoch (1-based) whose value is at least ``threshold``; None if none is."""
    for i, v in enumerate(curve):
        if is_finite(v) and v >= threshold:
            return i + 1
    return None


def epochs_to_fraction_of_best(curve: Sequence[float], fraction: float) -> Optional[int]:
    """The first epoch (1-based) at which a curve reaches ``fraction`` of its own maximum:
    a measure of how fast a run gets near where it ends up, whatever that level is."""
    ok = [float(v) for v in curve if is_finite(v)]
    if not ok:
        return None
    return first_epoch_reaching(curve, fraction * max(ok))


def early_mean(curve: Sequence[float], epochs: int) -> float:
    """The mean of a curve's first ``epochs`` finite values (NaN if none)."""
    vs = [float(v) for v in list(curve)[:epochs] if is_finite(v)]
    return sum(vs) / len(vs) if vs else float("nan")


def converges_faster(fast: V.Named, slow: V.Named, fraction: float = 0.9) -> V.Verdict:
    """Report 000's "BasicCNN converges slowly, ImprovedCNN fast from the start", from the
    per-epoch test-accuracy curves (in %, one per seed) of the ``fast`` and ``slow`` model:
    the fast one is ahead after the first epoch, and the slow one needs more epochs to
    reach ``fraction`` of its own best.  Both parts must hold."""
    first = {k: [float(c[0]) for c in cs if c and is_finite(c[0])] for k, cs in (fast, slow)}
    reach = {k: [float(e) for e in (epochs_to_fraction_of_best(c, fraction) for c in cs) if e is not None]
             for k, cs in (fast, slow)}
    f, s = fast[0], slow[0]
    return V.all_of({
        f"{f} ahead after epoch 1": compare_measure((f, first[f]), (s, first[s]), unit="%"),
        f"{s} slower to {100 * fraction:.0f}% of its best": compare_measure((s, reach[s]), (f, reach[f]),
                                                                          unit=" epochs", digits=1),
    })


def reaches_within(curves: Sequence[Sequence[float]], level: float, epochs: int,
                   noise: Optional[S.Noise] = None) -> V.Verdict:
    """The claim that a run passes ``level`` within its first ``epochs`` epochs: the best
    value of each seed's curve over those epochs (in %), whose 95% interval must lie above
    ``level``.  A run shorter than ``epochs`` cannot show it and the rule waits."""
    if any(len(c) < epochs for c in curves):
        return V.Verdict(S.WAITING, f"runs of fewer than {epochs} epochs", f"the claim needs {epochs} epochs",
                         len(curves))
    best = [max(float(v) for v in list(c)[:epochs] if is_finite(v)) for c in curves
            if any(is_finite(v) for v in list(c)[:epochs])]
    found = V.threshold(best, level, below=False, noise=noise)
    firsts = ", ".join("never" if e is None else str(e) for e in (first_epoch_reaching(c, level) for c in curves))
    return V.Verdict(found.outcome, f"best of epochs 1-{epochs}: {found.measured}; first epoch at {level:g}%: "
                     f"{firsts or 'n/a'}", found.reason, found.n)


def within_range(values: Sequence[float], lo: float, hi: float, noise: Optional[S.Noise] = None) -> V.Verdict:
    """The claim that a measurement lies between ``lo`` and ``hi`` (e.g. "stalls at
    65-75%"): its 95% interval must lie above ``lo`` and below ``hi``."""
    return V.all_of({f"above {lo:g}%": V.threshold(values, lo, below=False, noise=noise),
                     f"below {hi:g}%": V.threshold(values, hi, below=True, noise=noise)})


# -- classes -----------------------------------------------------------------------------------

def mean_per_class(results: Sequence, final: bool = True) -> List[float]:
    """Per-class test accuracy averaged over the finished runs that recorded it; [] if none.
    ``final``: of the last epoch's weights, as report 000's code reads them
    (:func:`cnnreport.analysis.readings.per_class`)."""
    rows = [R.per_class(r, final) for r in R.done(results) if R.per_class(r, final)]
    return [sum(col) / len(col) for col in zip(*rows)] if rows else []


def per_class_by_seed(results: Sequence, final: bool = True) -> List[List[float]]:
    """Each finished run's per-class test accuracy in %, one list per seed (``final`` as in
    :func:`mean_per_class`)."""
    return [[100 * float(v) for v in R.per_class(r, final)] for r in R.done(results) if R.per_class(r, final)]


def classes_among_best(per_seed: Sequence[Sequence[float]], classes: Sequence[str], named: Sequence[str],
                       extra: int = 1) -> V.Verdict:
    """The claim that the ``named`` classes are recognised best, allowing ``extra`` other
    classes among them (a report's "such as"): per-class accuracies in %, one list per seed.

    Each named class is compared with every class not named (95% interval of the
    difference over seeds).  It is among the best when it beats all of them but at most
    ``extra``; it is not when it lies below more than ``extra`` of them (then the named
    classes cannot all be among the best ``len(named) + extra``).  Every named class must
    hold."""
    if not per_seed or not set(named) <= set(classes):
        return V.Verdict(S.NOT_REPRODUCED, "no finished run", "no per-class accuracy recorded", 0)
    col = {c: [float(row[i]) for row in per_seed] for i, c in enumerate(classes)}
    others = [c for c in classes if c not in named]
    parts = {}
    for c in named:
        found = {d: V.comparison((c, col[c]), (d, col[d])) for d in others}
        outcomes = [v.outcome for v in found.values()]
        held, below = outcomes.count(S.HOLDS), outcomes.count(S.CONTRADICTED)
        iv = S.interval(col[c])
        if S.WAITING in outcomes:
            outcome = S.WAITING
        elif held >= len(others) - extra:
            outcome = S.HOLDS
        elif below > extra:
            outcome = S.CONTRADICTED
        else:
            outcome = S.INCONCLUSIVE
        rival = max(others, key=lambda d: S.finite_mean(col[d])) if others else None
        text = (f"{_iv_text(iv, '%', 1)}, above {held} and below {below} of the {len(others)} other classes"
                + (f" (the best of them: {rival} {_iv_text(S.interval(col[rival]), '%', 1)})" if rival else ""))
        parts[c] = V.Verdict(outcome, text, outcome, len(per_seed))
    found = V.all_of(parts)
    return V.Verdict(found.outcome, found.measured,
                     f"each named class must beat all but {extra} of the other classes (95% interval of each "
                     f"difference); {found.reason}", len(per_seed))


def pair_confusion(confusion: Sequence[Sequence[float]], i: int, j: int) -> float:
    """How often classes ``i`` and ``j`` are taken for each other, in % of their test
    images (rows true, columns predicted; both directions)."""
    n = sum(confusion[i]) + sum(confusion[j])
    return 100.0 * (confusion[i][j] + confusion[j][i]) / n if n else float("nan")


def most_confused_pair(confusion: Sequence[Sequence[float]], classes: Sequence[str]) -> set:
    """The two classes most often taken for each other in a confusion matrix (rows true,
    columns predicted), counting both directions: ``{classes[i], classes[j]}``."""
    k = len(classes)
    best = max(((i, j) for i in range(k) for j in range(i + 1, k)), key=lambda p: pair_confusion(confusion, *p))
    return {classes[best[0]], classes[best[1]]}


def most_confused(confusions: Sequence[Sequence[Sequence[float]]], classes: Sequence[str],
                  pair: Tuple[str, str]) -> V.Verdict:
    """The claim that ``pair`` is the most confused pair of classes: per seed, the share of
    the two classes' test images taken for the other (:func:`pair_confusion`); the pair
    must beat every other pair (95% interval of each difference over seeds)."""
    if not confusions:
        return V.Verdict(S.NOT_REPRODUCED, "no finished run", "no confusion matrix recorded", 0)
    k = len(classes)
    label = lambda i, j: f"{classes[i]}/{classes[j]}"  # noqa: E731
    idx = (classes.index(pair[0]), classes.index(pair[1]))
    mine = label(*sorted(idx))
    groups = {label(i, j): [pair_confusion(c, i, j) for c in confusions] for i in range(k) for j in range(i + 1, k)}
    outcomes = [V.comparison((mine, groups[mine]), (g, v)).outcome for g, v in groups.items() if g != mine]
    outcome = S.joint(outcomes)
    rivals = sorted((g for g in groups if g != mine), key=lambda g: -S.finite_mean(groups[g]))[:3]
    text = (f"{mine} {_iv_text(S.interval(groups[mine]), '%', 2)} of the two classes' test images; "
            f"most confused of the others: " + ", ".join(f"{g} {_iv_text(S.interval(groups[g]), '%', 2)}"
                                                        for g in rivals))
    reason = (f"{mine} above {outcomes.count(S.HOLDS)} and below {outcomes.count(S.CONTRADICTED)} of the "
              f"{len(outcomes)} other pairs (95% interval of each difference); it must be above all of them")
    return V.Verdict(outcome, text, reason, len(confusions))


def shown_by_eye(shown: Any, figure: str, what: str) -> V.Verdict:
    """A claim a reader judges from ``figure`` (:func:`~cnnreport.analysis.verdicts.by_eye`)
    once there is something to show (``shown``: the figure's data, e.g. a run's first-layer
    filters); without a finished run there is nothing to judge (a pending run makes the
    page's row pending)."""
    if shown is None or (hasattr(shown, "__len__") and len(shown) == 0):
        return V.Verdict(S.NOT_REPRODUCED, "no finished run", f"{figure} has no finished run to show", 0)
    return V.by_eye(figure, what)


# -- report 001's repeated quotes --------------------------------------------------------------

def quote_band(quotes: Sequence[float], ours: Sequence[float]) -> Optional[Dict[str, Any]]:
    """How far one recipe's quotes may lie from their own mean if they were runs of it:
    the 95% band ``t(0.975, n-1) · s · √(1 - 1/m)`` around the quotes' mean, with ``s`` the
    sample sd of our ``n`` seeds and ``m`` the number of quotes (a quote's deviation from
    the quotes' mean has variance σ²(1 - 1/m)).  None with fewer than two of our runs."""
    v = S.finite(ours)
    q = [float(x) for x in quotes]
    if len(v) < 2 or len(q) < 2:
        return None
    sd = S.sample_sd(v)
    centre = sum(q) / len(q)
    half = S.t975(len(v) - 1) * sd * math.sqrt(1 - 1 / len(q))
    inside = [abs(x - centre) <= half for x in q]
    return {"centre": centre, "half": half, "lo": centre - half, "hi": centre + half, "sd": sd, "n": len(v),
            "inside": inside, "n_inside": sum(inside)}


def quotes_within_noise(quotes: Sequence[float], ours: Sequence[float]) -> V.Verdict:
    """The claim that a report's quotes of one recipe differ only by run-to-run noise: it
    holds when every quote lies within :func:`quote_band` of our seeds' spread, and is
    contradicted when one lies outside.  Their mean is not compared with ours (a setting
    that shifts every run is not noise); with fewer than two seeds the rule waits."""
    b = quote_band(quotes, ours)
    if b is None:
        return V.Verdict(S.WAITING, f"{len(S.finite(ours))} seed(s)", "a spread needs two or more seeds",
                         len(S.finite(ours)))
    outcome = S.HOLDS if b["n_inside"] == len(quotes) else S.CONTRADICTED
    out = [f"{q:g}" for q, ok in zip(quotes, b["inside"]) if not ok]
    text = (f"our seeds' sd {b['sd']:.2f} points (n={b['n']}); band {b['lo']:.2f}-{b['hi']:.2f}% around the "
            f"quotes' mean {b['centre']:.2f}; {b['n_inside']} of {len(quotes)} quotes inside")
    reason = ("every quote lies within the 95% band one recipe's runs would fill" if outcome == S.HOLDS
              else f"{', '.join(out)} lies outside the 95% band one recipe's runs would fill")
    return V.Verdict(outcome, text, reason, b["n"])


def pairwise_differences(values: Mapping[str, float]) -> List[Tuple[str, str, float]]:
    """Every pair (a, b, values[a] - values[b]) with a ranked above b, largest gap first."""
    ok = sorted(((k, float(v)) for k, v in values.items() if is_finite(v)), key=lambda kv: -kv[1])
    pairs = [(a, b, va - vb) for i, (a, va) in enumerate(ok) for b, vb in ok[i + 1:]]
    return sorted(pairs, key=lambda t: -t[2])
