"""The verdict rules of the hyperparameter chapter: report 002's claims about its 33 runs of
an AlexNet-style and a VGG-style net on Fashion-MNIST.

Every rule takes measurements over seeds (test accuracies in %, train-minus-validation
gaps in points, test losses, measures of the validation-loss curve) and returns a
:class:`~cnnreport.analysis.verdicts.Verdict` composed from the generic rules of
:mod:`cnnreport.analysis.verdicts` and :mod:`cnnreport.analysis.schedules`, so each rests
on 95% intervals over seeds and none picks a best setting by its mean.

A one-seed accuracy borrows the pooled sd of report 002's noise runs (the chapter passes
it as ``noise``); a gap, a test loss or a final validation accuracy borrows the pooled sd
of the same measure over the same noise runs (:func:`seed_noise`).  A shape of a curve
(how far a loss ends above its lowest, its late jitter) borrows nothing: with one seed
its rule waits, and the plan makes every seed of its runs tier 1
(:data:`cnnreport.experiments.hyperparams.EVERY_SEED`).

Words of the report that need a number are read as follows (our lines, stated in each
row): "barely matters", "matters little" and "no clear difference" mean every difference
lies within :data:`SMALL` points; a loss "does not converge" when its last value lies more
than :data:`NO_SETTLE` % above its lowest; a run "learned nothing" when it was stopped at
chance or ends at or below :data:`CHANCE_BOUND` % test accuracy.
"""
from __future__ import annotations

from itertools import combinations
from typing import Mapping, Optional, Sequence, Tuple

from ..core import stats as S
from . import verdicts as V
from .schedules import exceeds, most_of, pairs_exceed

SMALL = 0.5          # points: the widest difference that still "barely matters"
NO_SETTLE = 10.0     # %: a loss that ends further above its lowest value has not converged
CHANCE_BOUND = 15.0  # % test accuracy: chance on ten classes is 10%


def seed_noise(groups: Mapping[str, Sequence[float]], source: str, waiting: Sequence = ()) -> S.Noise:
    """The pooled seed sd of one measure over noise runs (``groups``: run -> its values over
    seeds), for a one-seed measurement of that measure to borrow.  While a noise run is
    still ``waiting`` no partial estimate is given, as for the accuracies' noise."""
    if waiting:
        return S.Noise(source=source, waiting=tuple(waiting))
    return S.noise(list(groups.values()), source=source)


def at_chance(diverged: int, accs: Sequence[float], bound: float = CHANCE_BOUND) -> V.Verdict:
    """Report 002's run 3, "Adam at lr 0.01 learns nothing" (10.00% at loss ln 10): every
    seed must have been stopped by the trainer's stuck-at-chance rule (``diverged`` of them)
    or end at or below ``bound`` % test accuracy (``accs``: the finished seeds').  Holds when
    every seed learned nothing, is contradicted when every seed learned, else inconclusive.
    Chance and learning lie tens of points apart, far beyond any seed noise, so each seed is
    judged alone."""
    finished = S.finite(accs)
    n = int(diverged) + len(finished)
    if n == 0:
        return V.Verdict(S.NOT_REPRODUCED, "no run", "no seed finished or diverged", 0)
    low = [a for a in finished if a <= bound]
    learned = [a for a in finished if a > bound]
    stuck = int(diverged) + len(low)
    parts = [f"{int(diverged)} of {n} seed(s) stopped at chance"]
    if low:
        parts.append(f"{len(low)} ended at or below {bound:g}% ({', '.join(f'{a:.2f}%' for a in low)})")
    if learned:
        parts.append(f"{len(learned)} learned ({', '.join(f'{a:.2f}%' for a in learned)})")
    if stuck == n:
        outcome, reason = S.HOLDS, f"every seed learned nothing (stopped at chance or at most {bound:g}% test accuracy)"
    elif stuck == 0:
        outcome, reason = S.CONTRADICTED, f"every seed learned (above {bound:g}% test accuracy)"
    else:
        outcome, reason = S.INCONCLUSIVE, f"{stuck} of {n} seeds learned nothing, the others learned"
    return V.Verdict(outcome, "; ".join(parts), reason, n)


def best_setting(best: str, groups: Mapping[str, Sequence[float]], noise: Optional[S.Noise] = None,
                 unit: str = " points", digits: int = 2) -> V.Verdict:
    """The claim "``best`` is the best of ``groups``" (run -> values over seeds), ``best``
    against each other run on the interval of the difference.  A run with no finished seed
    (every seed diverged) is no rival and is left out, and the row says so; ``best`` itself
    without one is not reproduced."""
    if best not in groups:
        raise ValueError(f"best_setting needs {best!r} among the groups, got {list(groups)}")
    if not S.finite(groups[best]):
        return V.Verdict(S.NOT_REPRODUCED, f"{best}: no finished run", f"{best} has no finished run", 0)
    rivals = {k: v for k, v in groups.items() if S.finite(v)}
    dropped = [k for k in groups if k not in rivals]
    if len(rivals) < 2:
        return V.Verdict(S.HOLDS, f"{best}: no rival has a finished run ({', '.join(dropped)} left out)",
                         f"every other run ({', '.join(dropped)}) diverged", len(S.finite(groups[best])))
    found = V.best_of(best, rivals, noise, unit, digits)
    if not dropped:
        return found
    return V.Verdict(found.outcome, found.measured,
                     f"{found.reason}; {', '.join(dropped)} left out: no finished run (diverged)", found.n)


def close(a: V.Named, b: V.Named, margin: float = SMALL, noise: Optional[S.Noise] = None,
          unit: str = " points", digits: int = 2) -> V.Verdict:
    """The claim that ``a`` and ``b`` differ by less than ``margin``: holds when the whole
    95% interval of their difference lies inside ±``margin`` (each one-sided comparison
    with margin −``margin`` holds), is contradicted when it lies wholly outside (one side's
    comparison with margin +``margin`` holds), else inconclusive."""
    inside = [V.comparison(a, b, noise, -margin, unit, digits), V.comparison(b, a, noise, -margin, unit, digits)]
    outside = [V.comparison(a, b, noise, margin, unit, digits), V.comparison(b, a, noise, margin, unit, digits)]
    first = inside[0]
    if first.outcome in (S.NOT_REPRODUCED, S.WAITING):
        return first
    d = S.difference(S.interval(a[1], noise=noise), S.interval(b[1], noise=noise))
    measured = (f"{a[0]} − {b[0]} {d.mean:+.{digits}f} ± {d.half:.{digits}f}{unit} "
                f"(95%, n={d.n}{', pooled noise sd' if d.pooled else ''})")
    if all(v.outcome == S.HOLDS for v in inside):
        outcome, reason = S.HOLDS, f"the 95% interval of the difference lies within ±{margin:g}{unit}"
    elif any(v.outcome == S.HOLDS for v in outside):
        outcome, reason = S.CONTRADICTED, f"the 95% interval of the difference lies beyond ±{margin:g}{unit}"
    else:
        outcome = S.INCONCLUSIVE
        reason = f"the 95% interval of the difference reaches past ±{margin:g}{unit}: inconclusive at these seeds"
    return V.Verdict(outcome, measured, reason, first.n)


def all_close(groups: Mapping[str, Sequence[float]], margin: float = SMALL, noise: Optional[S.Noise] = None
              ) -> V.Verdict:
    """The claim that a setting "barely matters": every two of ``groups`` (setting ->
    accuracies over seeds) differ by less than ``margin`` points (:func:`close`)."""
    return V.all_of({f"{x} vs {y}": close((x, groups[x]), (y, groups[y]), margin, noise)
                     for x, y in combinations(groups, 2)})


# -- report 002's claims -------------------------------------------------------------------

def loss_unsettled(unsettled: V.Named, settled: Sequence[V.Named], bound: float = NO_SETTLE) -> V.Verdict:
    """"At lr 0.05 the loss does not converge; at 0.01 and 0.008 it converges": per seed,
    how far the validation loss ends above its lowest value (%,
    :func:`~cnnreport.analysis.curves.rise_above_min`) must lie above ``bound`` for the
    ``unsettled`` run and below it for each ``settled`` one."""
    parts = {f"{unsettled[0]} ends more than {bound:g}% above its lowest":
             V.threshold(unsettled[1], bound, below=False, unit="%", digits=1)}
    for lab, rises in settled:
        parts[f"{lab} ends less than {bound:g}% above its lowest"] = V.threshold(rises, bound, below=True, unit="%",
                                                                                 digits=1)
    return V.all_of(parts)


def converges_better(better: Mapping[str, Sequence[float]], worse: Mapping[str, Sequence[float]]) -> V.Verdict:
    """"Runs 6 and 7 converge better than runs 4 and 5": per seed, how far the validation
    loss ends above its lowest value (%); each run of ``worse`` must exceed each run of
    ``better`` on the interval of the difference."""
    return pairs_exceed([((w, worse[w]), (b, better[b])) for w in worse for b in better], unit="%", digits=1)


def gap_shrinks(gaps: Sequence[V.Named], noise: Optional[S.Noise] = None) -> V.Verdict:
    """A train-minus-validation gap that falls along the claimed order of a setting
    (``gaps``: (setting, gaps in points over seeds), largest claimed first): every adjacent
    pair must hold."""
    return V.ordering(list(gaps), noise)


def epochs_best(accs: Mapping[str, Sequence[float]], best: str, longest: str, gaps: Mapping[str, Sequence[float]],
                noise: Optional[S.Noise] = None, gap_noise: Optional[S.Noise] = None) -> V.Verdict:
    """"At batch 256, 20 and 25 epochs undertrain, 40 overfit, 30 is best": ``best`` (30
    epochs) has the highest accuracy of ``accs`` (run -> accuracies), and the ``longest``
    run overfits more than it, a larger gap (``gaps``: run -> gaps in points)."""
    return V.all_of({f"{best} the most accurate": best_setting(best, accs, noise),
                     f"{longest} overfits more than {best} (larger gap)":
                         V.ordering([(longest, gaps[longest]), (best, gaps[best])], gap_noise)})


def best_and_flat(accs: Mapping[str, Sequence[float]], best: str, margin: float = SMALL,
                  noise: Optional[S.Noise] = None) -> V.Verdict:
    """"The dropout probability barely matters, and 0.5 is the most accurate": ``best``
    beats each other setting, and every two settings lie within ``margin`` points.  Both
    parts together need differences that are real yet small, which is what the claim says."""
    return V.all_of({f"{best} the most accurate": best_setting(best, accs, noise),
                     f"every two within {margin:g} points": all_close(accs, margin, noise)})


def improves_both(pairs: Mapping[str, Tuple[V.Named, V.Named]], noise: Optional[S.Noise] = None) -> V.Verdict:
    """A change claimed to help in several settings at once (``pairs``: setting -> (with,
    without), each a (label, accuracies) pair): it must beat the run without it in each."""
    return V.all_of({f"{k}: {w[0]} > {wo[0]}": V.comparison(w, wo, noise) for k, (w, wo) in pairs.items()})


def damps_oscillation(without: V.Named, with_: V.Named) -> V.Verdict:
    """"The scheduler reduces the oscillation of the loss": the late jitter of the
    validation loss (:func:`~cnnreport.analysis.curves.late_roughness`, per seed) must be
    larger without it than with it."""
    return exceeds(without, with_, unit="", digits=4)


def curves_improve(val_with: V.Named, val_without: V.Named, rise_with: Sequence[float],
                   rise_without: Sequence[float], noise: Optional[S.Noise] = None) -> V.Verdict:
    """"With Adam the scheduler visibly improves the validation curves, both the accuracy
    and the convergence of the loss": with the scheduler the last validation accuracy must
    be higher (``val_*``: (label, accuracies in %)), and the validation loss must end less
    far above its lowest value (``rise_*``: % per seed)."""
    return V.all_of({"validation accuracy at the last epoch higher with the scheduler":
                         V.comparison(val_with, val_without, noise),
                     "validation loss ends closer to its lowest with the scheduler":
                         exceeds((val_without[0], rise_without), (val_with[0], rise_with), unit="%", digits=1)})


def generalises_better(gaps: Tuple[V.Named, V.Named], losses: Tuple[V.Named, V.Named],
                       gap_noise: Optional[S.Noise] = None, loss_noise: Optional[S.Noise] = None) -> V.Verdict:
    """"SGD generalises slightly better than Adam": the run claimed better has both the
    smaller train-minus-validation gap and the smaller test loss (``gaps`` and ``losses``:
    (worse, better), each a (label, values over seeds) pair)."""
    (gw, gb), (lw, lb) = gaps, losses
    return V.all_of({"smaller gap": exceeds(gw, gb, gap_noise, unit=" points", digits=2),
                     "smaller test loss": exceeds(lw, lb, loss_noise, unit="", digits=4)})


def pairs_close(pairs: Mapping[str, Tuple[V.Named, V.Named]], margin: float = SMALL,
                noise: Optional[S.Noise] = None) -> V.Verdict:
    """A difference claimed small in several settings at once (``pairs``: setting -> two
    (label, accuracies) pairs): each within ``margin`` points (:func:`close`)."""
    return V.all_of({k: close(a, b, margin, noise) for k, (a, b) in pairs.items()})


def overfits_most(gaps: Mapping[str, Sequence[float]], claimed: str, noise: Optional[S.Noise] = None) -> V.Verdict:
    """"The small batch overfits": the ``claimed`` run's train-minus-validation gap (points
    over seeds) must exceed each other run's."""
    return most_of(claimed, gaps, noise, unit=" points", digits=2)


def run_settings(p: Mapping[str, object]) -> str:
    """A run of report 002's table in words: "AlexNet, Adam lr 0.001, batch 128, 20 epochs,
    dropout 0.5, no scheduler" (the loss only when it is not cross-entropy)."""
    net = {"alexnet_fmnist": "AlexNet", "vgg_fmnist": "VGG"}.get(str(p["model"]), str(p["model"]))
    lr = float(p["lr"])  # type: ignore[arg-type]
    words = [net, f"{'SGD' if p['optimizer'] == 'sgd' else 'Adam'} lr {lr:g}", f"batch {p['batch_size']}",
             f"{p['epochs']} epochs", f"dropout {float(p['dropout']):g}",  # type: ignore[arg-type]
             "scheduler" if p["scheduler"] else "no scheduler"]
    if p.get("loss", "cross_entropy") != "cross_entropy":
        words.insert(1, str(p["loss"]).upper())
    return ", ".join(words)


def claimed_listing(report: Mapping[int, Sequence[float]], runs: Sequence[int], column: int = 0,
                    fmt: str = "{:.2f}") -> str:
    """Report 002's own numbers of some runs, "run 4 90.52, run 5 90.99" (``column``: 0 the
    test accuracy in %, 1 the test loss, 2 the gap in points)."""
    return ", ".join(f"run {n} {fmt.format(report[n][column])}" for n in runs)


def control_shifts(main: Sequence[float], controls: Mapping[str, Sequence[float]],
                   noise: Optional[S.Noise]) -> dict:
    """How far each control run moves the main run: ``{control: interval of control − main}``
    in points, each side one seed borrowing the noise runs' pooled sd (so the half-width is
    t · sd · √2). A control with no finished seed, or unknown noise, gets an interval that
    is not ``known``."""
    return {name: S.difference(S.interval(values, noise=noise), S.interval(main, noise=noise))
            for name, values in controls.items()}


def control_reading(shifts: Mapping[str, S.Interval], main_acc: float, claimed: float) -> str:
    """What the controls of a run say about its gap to the report's number ``claimed`` (%):
    which move it beyond the seeds' noise (the 95% interval of the shift excludes zero), in
    which direction, and where that lands against the report; which stay within the noise.
    Controls still without an interval are named as waiting."""
    if not S.is_finite(main_acc):
        return "Our run is not measured yet, so its controls cannot be read against it."
    beyond, within, waiting = [], [], []
    for name, d in shifts.items():
        if not d.known:
            waiting.append(name)
            continue
        if S.compare(d) == S.INCONCLUSIVE:
            within.append(f"{name} ({d.mean:+.2f} points)")
            continue
        lands = main_acc + d.mean - claimed
        toward = (d.mean > 0) == (claimed > main_acc)
        beyond.append(f"{name} moves it by {d.mean:+.2f} points, "
                      + (f"towards the report: it lands {abs(lands):.2f} points "
                         f"{'above' if lands > 0 else 'below'} the report's {claimed:.2f}%" if toward
                         else "away from the report"))
    half = next((d.half for d in shifts.values() if d.known), float("nan"))
    gap = main_acc - claimed
    parts = [f"Our run lies {abs(gap):.2f} points {'below' if gap < 0 else 'above'} the report's {claimed:.2f}%."]
    if beyond or within:
        parts.append(f"A one-seed shift beyond the seeds' noise has a 95% interval clear of zero "
                     f"(±{half:.2f} points here).")
    if beyond:
        parts.append("Beyond the noise: " + "; ".join(beyond) + ".")
    if within:
        parts.append("Within the noise: " + ", ".join(within) + ".")
    if waiting:
        parts.append(f"Not measured yet: {', '.join(waiting)}.")
    return " ".join(parts)
