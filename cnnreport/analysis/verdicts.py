"""The verdict rules: pure functions from measurements to an outcome with its numbers.

Every audit row of the book is one of these rules applied to the accuracies (or other
measurements) of finished runs.  They know nothing of chapters, stores or profiles: the
page layer (:mod:`cnnreport.pages.audit`) decides whether a row is pending or not comparable at
its profile, and otherwise shows the :class:`Verdict` a rule returns.

The statistics are :mod:`cnnreport.core.stats`: a measurement over n seeds has the 95%
Student-t interval; a one-seed measurement borrows the pooled sd of its report's noise
runs (a :class:`~cnnreport.core.stats.Noise`), and without it the verdict waits.

* :func:`number_claim` -- a number the report gives (reproduced / not reproduced /
  inconclusive);
* :func:`comparison` -- "A beats B" (holds / contradicted / inconclusive);
* :func:`ordering` -- "A > B > C", each adjacent pair must hold;
* :func:`best_of` -- "A is the best of these", A against each other one;
* :func:`all_of` -- a claim made for several nets or settings at once;
* :func:`threshold` -- a measured quantity on the claimed side of a stated bound;
* :func:`by_construction`, :func:`by_eye` -- rows no measurement can judge.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence, Tuple

from ..core import stats as S

Named = Tuple[str, Sequence[float]]   # (label, values over seeds)

# The rules in words, for readers: the audit page lists them from here (with their titles),
# so the text a reader sees is the text next to the functions that apply it.
RULES = {
    "interval": ("The interval.",
                 "A measurement over n seeds is mean ± t(0.975, n−1) · sd / √n, a two-sided 95% "
                 "Student-t interval. With one seed, the sd is the pooled sd of the same report's "
                 "*noise runs* (a few of its runs trained at three seeds, for the same model); until "
                 "those are stored the row is *pending*, never judged on invented noise."),
    "comparison": ("A comparison",
                   "(\"A beats B\") *holds* when the 95% interval of the difference excludes zero in "
                   "the claimed direction, is *contradicted* when it excludes zero the other way, and "
                   "is *inconclusive* otherwise."),
    "ordering": ("An ordering or a best-of",
                 "(\"A > B > C\", \"A is the best setting\") holds when every claimed pair holds; "
                 "one contradicted pair contradicts it, else it is inconclusive."),
    "number": ("A number claim",
               "is *not reproduced* when it lies outside our 95% interval widened by the tolerance, "
               "however wide the interval: the seeds' noise is already in the interval. Inside it, "
               "the claim is *inconclusive* when the interval's half-width exceeds the tolerance (we "
               "cannot pin the number down at these seeds), otherwise *reproduced*. The tolerance is "
               "the stated one, or half the range of the report's own repeated numbers where it gives "
               "some. Distances between two accuracies are in percentage points (\"points\")."),
}


@dataclass(frozen=True)
class Verdict:
    """What a rule found: the outcome (a :mod:`cnnreport.core.stats` name), the measurement as
    text (intervals with n), the reason with the rule's numbers, and the runs it read."""
    outcome: str
    measured: str
    reason: str
    n: int = 0


def _iv(values: Sequence[float], noise: Optional[S.Noise]) -> S.Interval:
    return S.interval(values, noise=noise)


def _waiting_reason(noise: Optional[S.Noise]) -> str:
    what = noise.text() if noise is not None else "no noise runs named"
    return f"one seed, and its noise estimate is not available: {what}"


def _iv_text(iv: S.Interval, unit: str, digits: int) -> str:
    if not math.isfinite(iv.mean):
        return "no finished run"
    if not iv.known:
        return f"{iv.mean:.{digits}f}{unit} (n={iv.n}, no interval yet)"
    return (f"{iv.mean:.{digits}f} ± {iv.half:.{digits}f}{unit} "
            f"(95%, n={iv.n}{', pooled noise sd' if iv.pooled else ''})")


def _measured(values: Sequence[float], noise: Optional[S.Noise], unit: str, digits: int,
              none: str) -> Tuple[S.Interval, str, int, Optional[Verdict]]:
    """(interval, its text, n, the verdict when there is nothing to judge yet or at all)."""
    iv = _iv(values, noise)
    text = _iv_text(iv, unit, digits)
    n = len(S.finite(values))
    if n == 0:
        return iv, text, 0, Verdict(S.NOT_REPRODUCED, text, none, 0)
    if not iv.known:
        return iv, text, n, Verdict(S.WAITING, text, _waiting_reason(noise), n)
    return iv, text, n, None


def number_claim(values: Sequence[float], claim: float, tolerance: float, noise: Optional[S.Noise] = None,
                 unit: str = "%", digits: int = 2) -> Verdict:
    """The report's number ``claim`` against our ``values`` (one per seed) with a
    ``tolerance`` in the same unit.  The reason gives the distances between percentages in
    points, so "1%" never reads as a relative change."""
    iv, text, n, early = _measured(values, noise, unit, digits, "no run finished (diverged)")
    if early:
        return early
    outcome = S.number(iv, claim, tolerance)
    def apart(text: str) -> str:  # a distance between two values: percentages differ in points
        return text + ((" point" if text.lstrip("+-") == "1" else " points") if unit == "%" else unit)
    tol = apart(f"{tolerance:g}")
    if outcome == S.INCONCLUSIVE:
        reason = (f"interval half-width {apart(f'{iv.half:.2f}')} exceeds the tolerance ±{tol}: "
                  f"too few seeds to pin the number down")
    elif outcome == S.REPRODUCED:
        reason = f"{claim:g}{unit} lies within the interval widened by ±{tol}"
    else:
        gap = (iv.lo - tolerance - claim) if claim < iv.lo - tolerance else (claim - iv.hi - tolerance)
        reason = (f"{claim:g}{unit} lies {apart(f'{gap:.2f}')} outside the interval widened by ±{tol} "
                  f"(mean {apart(f'{iv.mean - claim:+.2f}')} from the claim)")
    return Verdict(outcome, text, reason, n)


def _diff(a: Sequence[float], b: Sequence[float], noise: Optional[S.Noise]) -> S.Interval:
    return S.difference(_iv(a, noise), _iv(b, noise))


def _pair_text(better: Named, worse: Named, d: S.Interval, unit: str, digits: int) -> str:
    diff = (f"{d.mean:+.{digits}f} ± {d.half:.{digits}f}{unit}" if d.known
            else (f"{d.mean:+.{digits}f}{unit} (no interval yet)" if math.isfinite(d.mean) else "n/a"))
    return f"{better[0]} − {worse[0]} {diff}"


def _pair(better: Named, worse: Named, noise: Optional[S.Noise], margin: float) -> Tuple[str, S.Interval]:
    d = _diff(better[1], worse[1], noise)
    shifted = S.Interval(d.mean - margin, d.half, d.n, d.pooled)
    return S.compare(shifted), d


def _outcome_reason(outcome: str, noise: Optional[S.Noise], margin: float, unit: str) -> str:
    past = f"{margin:+g}{unit}" if margin else "zero"
    return {S.HOLDS: f"the 95% interval of the difference lies above {past}",
            S.CONTRADICTED: f"the 95% interval of the difference lies below {past}",
            S.INCONCLUSIVE: f"the 95% interval of the difference contains {past}: inconclusive at these seeds",
            S.WAITING: _waiting_reason(noise)}[outcome]


def _counted(*groups: Sequence[float]) -> int:
    return sum(len(S.finite(g)) for g in groups)


def comparison(better: Named, worse: Named, noise: Optional[S.Noise] = None, margin: float = 0.0,
               unit: str = " points", digits: int = 2) -> Verdict:
    """The claim "``better`` beats ``worse``" (by more than ``margin``), each a ``(label,
    values)`` pair, from the interval of the difference of their means."""
    if not S.finite(better[1]) or not S.finite(worse[1]):
        missing = better[0] if not S.finite(better[1]) else worse[0]
        return Verdict(S.NOT_REPRODUCED, f"{missing}: no finished run", f"{missing} has no finished run",
                       _counted(better[1], worse[1]))
    outcome, d = _pair(better, worse, noise, margin)
    text = (f"{better[0]} {_iv_text(_iv(better[1], noise), '%', digits)}; "
            f"{worse[0]} {_iv_text(_iv(worse[1], noise), '%', digits)}; {_pair_text(better, worse, d, unit, digits)}")
    return Verdict(outcome, text, _outcome_reason(outcome, noise, margin, unit), _counted(better[1], worse[1]))


def _chain(pairs: Sequence[Tuple[Named, Named]], noise: Optional[S.Noise], margin: float, unit: str,
           digits: int) -> Verdict:
    missing = sorted({g[0] for p in pairs for g in p if not S.finite(g[1])})
    n = _counted(*{g[0]: g[1] for p in pairs for g in p}.values())
    if missing:
        return Verdict(S.NOT_REPRODUCED, f"no finished run: {', '.join(missing)}",
                       f"{', '.join(missing)} has no finished run", n)
    found = [_pair(b, w, noise, margin) for b, w in pairs]
    outcomes = [o for o, _ in found]
    outcome = S.joint(outcomes)
    text = "; ".join(f"{_pair_text(b, w, d, unit, digits)} ({o})" for (b, w), (o, d) in zip(pairs, found))
    if outcome == S.WAITING:
        reason = _waiting_reason(noise)
    else:
        held = sum(o == S.HOLDS for o in outcomes)
        reason = (f"{held} of {len(pairs)} claimed pair(s) hold (95% interval of each difference above "
                  f"{'zero' if not margin else f'{margin:+g}{unit}'})")
    return Verdict(outcome, text, reason, n)


def ordering(groups: Sequence[Named], noise: Optional[S.Noise] = None, margin: float = 0.0,
             unit: str = " points", digits: int = 2) -> Verdict:
    """The claimed order ``groups[0] > groups[1] > ...``: every adjacent pair must hold."""
    if len(groups) < 2:
        raise ValueError("an ordering needs at least two groups")
    return _chain(list(zip(groups[:-1], groups[1:])), noise, margin, unit, digits)


def best_of(best: str, groups: Mapping[str, Sequence[float]], noise: Optional[S.Noise] = None,
            unit: str = " points", digits: int = 2) -> Verdict:
    """The claim "``best`` is the best of ``groups``" (label -> values): it against each other one."""
    if best not in groups or len(groups) < 2:
        raise ValueError(f"best_of needs {best!r} among at least two groups, got {list(groups)}")
    mine = (best, groups[best])
    return _chain([(mine, (k, v)) for k, v in groups.items() if k != best], noise, 0.0, unit, digits)


def all_of(parts: Mapping[str, Verdict]) -> Verdict:
    """One claim made for several nets or settings (label -> the verdict of each part): it
    holds when every part holds, is contradicted when one part is, else inconclusive; it waits
    while a part waits."""
    if not parts:
        raise ValueError("all_of needs at least one part")
    outcomes = [v.outcome for v in parts.values()]
    good = {S.HOLDS, S.REPRODUCED}
    if S.WAITING in outcomes:
        outcome = S.WAITING
    elif all(o in good for o in outcomes):
        outcome = S.HOLDS
    elif any(o in (S.CONTRADICTED, S.NOT_REPRODUCED) for o in outcomes):
        outcome = S.CONTRADICTED
    else:
        outcome = S.INCONCLUSIVE
    text = "; ".join(f"{k}: {v.measured}" for k, v in parts.items())
    reason = "; ".join(f"{k}: {v.outcome}" for k, v in parts.items())
    return Verdict(outcome, text, f"every part must hold ({reason})", sum(v.n for v in parts.values()))


def threshold(values: Sequence[float], bound: float, below: bool = True, noise: Optional[S.Noise] = None,
              unit: str = "%", digits: int = 2) -> Verdict:
    """The claim that a measured quantity lies below (``below``) or above ``bound``: holds
    when the whole 95% interval is on the claimed side, contradicted when it is wholly on the
    other side, else inconclusive."""
    iv, text, n, early = _measured(values, noise, unit, digits, "no run finished")
    if early:
        return early
    side = S.Interval(bound - iv.mean if below else iv.mean - bound, iv.half, iv.n, iv.pooled)
    outcome = S.compare(side)
    word = "below" if below else "above"
    reason = {S.HOLDS: f"the 95% interval lies {word} {bound:g}{unit}",
              S.CONTRADICTED: f"the 95% interval lies on the other side of {bound:g}{unit}",
              S.INCONCLUSIVE: f"the 95% interval contains {bound:g}{unit}"}[outcome]
    return Verdict(outcome, text, reason, n)


def by_construction(measured: str, how: str) -> Verdict:
    """A row that matches because we built it to (a parameter count, a size in MiB)."""
    return Verdict(S.BY_CONSTRUCTION, measured, f"matches by construction: {how}", 0)


def by_eye(figure: str, what: str = "") -> Verdict:
    """A claim only a reader can judge, with the figure it refers to."""
    return Verdict(S.BY_EYE, f"see {figure}", what or f"a reader judges it from {figure}", 0)
