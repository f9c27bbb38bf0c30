"""Seed statistics and verdict outcomes: the one home below both the verdict rules
(:mod:`cnnreport.analysis`) and the pages that show them.

A measurement over n seeds has the two-sided 95% Student-t interval
``mean ± t(0.975, n - 1) · sd / √n``.  With one seed the sd is a *pooled* sd from
noise runs (the same report's runs trained at several seeds); without one there is
no interval, and the verdict waits (it never invents noise).

Outcomes:

* a comparison ("A beats B") *holds* when the interval of the difference excludes
  zero in the claimed direction, is *contradicted* when it excludes zero the other
  way, and is *inconclusive at n seeds* otherwise;
* a number claim is *not reproduced* when it lies outside the interval widened by
  the tolerance, however wide the interval; inside it, *inconclusive* when the
  interval's half-width exceeds the tolerance, else *reproduced*.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

HOLDS, CONTRADICTED, INCONCLUSIVE = "holds", "contradicted", "inconclusive"
REPRODUCED, NOT_REPRODUCED = "reproduced", "not reproduced"
WAITING = "pending"
BY_CONSTRUCTION, BY_EYE = "matches by construction", "judged by eye"

# t(0.975, df) for df = 1 .. 30 (the standard table), then a few larger df; beyond, 1.96.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
         2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
         2.052, 2.048, 2.045, 2.042)
_T975_LARGE = ((40, 2.021), (60, 2.000), (120, 1.980))


def t975(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom (df >= 1)."""
    if df < 1:
        raise ValueError(f"t975 needs df >= 1, got {df}")
    if df <= len(_T975):
        return _T975[df - 1]
    for limit, t in _T975_LARGE:
        if df <= limit:
            return t
    return 1.960


def finite(values: Iterable[Optional[float]]) -> list:
    """The finite values of ``values`` as floats (None, NaN and inf dropped)."""
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def is_finite(v) -> bool:
    """A real number that is neither NaN nor infinite (None and bools' kin excluded)."""
    import numbers
    return isinstance(v, numbers.Real) and math.isfinite(float(v))


def finite_mean(values: Iterable[Optional[float]]) -> float:
    v = finite(values)
    return sum(v) / len(v) if v else float("nan")


def mean_sd(values: Iterable[Optional[float]]) -> tuple:
    """(mean, sample sd) of the finite values: (NaN, NaN) for none, sd 0.0 for one."""
    v = finite(values)
    if not v:
        return float("nan"), float("nan")
    return sum(v) / len(v), (sample_sd(v) if len(v) > 1 else 0.0)


def sample_sd(values: Sequence[float]) -> float:
    v = finite(values)
    if len(v) < 2:
        return float("nan")
    m = sum(v) / len(v)
    return math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))


def pooled_sd(groups: Iterable[Sequence[float]]) -> float:
    """The pooled sd of several groups of repeated runs (each of two or more values)."""
    num = den = 0.0
    for g in groups:
        v = finite(g)
        if len(v) >= 2:
            num += (len(v) - 1) * sample_sd(v) ** 2
            den += len(v) - 1
    return math.sqrt(num / den) if den else float("nan")


@dataclass(frozen=True)
class Noise:
    """The run-to-run sd that a one-seed measurement borrows: pooled over ``groups`` noise
    runs (one config trained at several seeds each) with ``df`` degrees of freedom.
    ``source`` says which runs, for the audit row; an unknown noise (``sd`` NaN) leaves a
    one-seed verdict waiting, with ``waiting`` the runs it waits for."""
    sd: float = float("nan")
    df: int = 0
    groups: int = 0
    source: str = ""
    waiting: tuple = ()

    @property
    def known(self) -> bool:
        return math.isfinite(self.sd) and self.df > 0

    def text(self) -> str:
        if not self.known:
            return f"noise runs not stored ({self.source})" if self.source else "no noise runs"
        return f"pooled seed sd {self.sd:.2f} over {self.groups} noise config(s), df {self.df} ({self.source})"


def noise(groups: Iterable[Sequence[float]], source: str = "", waiting: Sequence = ()) -> Noise:
    """The :class:`Noise` of repeated runs: ``groups`` holds one list of values per config."""
    groups = [finite(g) for g in groups]
    repeated = [g for g in groups if len(g) >= 2]
    df = sum(len(g) - 1 for g in repeated)
    sd = pooled_sd(repeated) if repeated else float("nan")
    return Noise(sd, df, len(repeated), source, tuple(waiting))


@dataclass(frozen=True)
class Interval:
    """A mean with its 95% half-width over ``n`` values; ``pooled`` when its sd came from noise runs."""
    mean: float
    half: float
    n: int
    pooled: bool = False

    @property
    def lo(self) -> float:
        return self.mean - self.half

    @property
    def hi(self) -> float:
        return self.mean + self.half

    @property
    def known(self) -> bool:
        return math.isfinite(self.mean) and math.isfinite(self.half)

    def text(self, fmt: str = "{:.2f}") -> str:
        if not self.known:
            return "no interval"
        return f"{fmt.format(self.mean)} ± {fmt.format(self.half)} (n={self.n}{', pooled sd' if self.pooled else ''})"


def interval(values: Sequence[float], noise_sd: Optional[float] = None, noise_df: Optional[int] = None,
             noise: Optional[Noise] = None) -> Interval:
    """The 95% t-interval of ``values``.  With one value, ``noise`` (or ``noise_sd``, a pooled
    sd of noise runs, with ``noise_df`` degrees of freedom) stands in for the sample's; without
    it the interval is unknown (NaN half-width)."""
    if noise is not None:
        noise_sd, noise_df = noise.sd, noise.df
    v = finite(values)
    n = len(v)
    if n == 0:
        return Interval(float("nan"), float("nan"), 0)
    m = sum(v) / n
    if n >= 2:
        return Interval(m, t975(n - 1) * sample_sd(v) / math.sqrt(n), n)
    if noise_sd is None or not math.isfinite(noise_sd) or not noise_df:
        return Interval(m, float("nan"), 1, pooled=True)
    return Interval(m, t975(int(noise_df)) * noise_sd, 1, pooled=True)


def difference(a: Interval, b: Interval) -> Interval:
    """The interval of ``a - b`` for independent measurements (Welch-style: half-widths
    add in quadrature, a conservative combination of the two t-intervals)."""
    return Interval(a.mean - b.mean, math.hypot(a.half, b.half), min(a.n, b.n), a.pooled or b.pooled)


def compare(diff: Interval) -> str:
    """Outcome of the claim "difference > 0" from its interval."""
    if not diff.known:
        return WAITING
    if diff.lo > 0:
        return HOLDS
    if diff.hi < 0:
        return CONTRADICTED
    return INCONCLUSIVE


def joint(outcomes: Sequence[str]) -> str:
    """The outcome of a claim made of parts that must all hold: it waits while one part waits
    (or there is none), holds when every part holds, is contradicted when one part is, and is
    inconclusive otherwise."""
    if not outcomes or WAITING in outcomes:
        return WAITING
    if all(o == HOLDS for o in outcomes):
        return HOLDS
    if CONTRADICTED in outcomes:
        return CONTRADICTED
    return INCONCLUSIVE


def ordering(diffs: Sequence[Interval]) -> str:
    """An ordering or a best-of-k: each claimed adjacent pair's difference (better - worse)
    must hold; any contradicted pair contradicts it; else inconclusive."""
    return joint([compare(d) for d in diffs])


def number(measured: Interval, claim: float, tolerance: float) -> str:
    """Outcome of a number claim: not reproduced when the claim lies outside the interval
    widened by the tolerance (a wide interval cannot rescue a claim it excludes); inside
    it, inconclusive when the interval is wider than the tolerance, else reproduced."""
    if not measured.known:
        return WAITING
    if not measured.lo - tolerance <= claim <= measured.hi + tolerance:
        return NOT_REPRODUCED
    return INCONCLUSIVE if measured.half > tolerance else REPRODUCED
