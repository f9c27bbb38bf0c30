"""What the architecture and kernel-size verdicts rest on: model sizes in the reports'
units, ratios between models, orderings, how fast a curve rises, and where a report's
repeated quotes of one recipe fall against our seeds.

Report 001 lists weight files in MB; its ResNet-18 (11,173,962 parameters) is 42.7 MB,
which is the size of the float32 weights in MiB (2**20 bytes): :func:`fp32_mib`.
Everything here is plain Python and numpy, so it is tested without torch.
"""
from __future__ import annotations

import math
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

MIB = 2 ** 20


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(float(x))


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
        out[k] = float(v) / float(b) if _finite(v) and _finite(b) and b != 0 else float("nan")
    return out


def strictly_ordered(values: Mapping[str, float], order: Sequence[str]) -> Optional[bool]:
    """Whether ``values[order[0]] > values[order[1]] > ...``; None when a value is missing."""
    vs = [values.get(k) for k in order]
    if not all(_finite(v) for v in vs):
        return None
    return all(a > b for a, b in zip(vs, vs[1:]))


def gaps(values: Mapping[str, float], order: Sequence[str]) -> List[float]:
    """Differences between neighbours of ``order``: ``values[a] - values[b]`` (NaN if missing)."""
    out = []
    for a, b in zip(order, order[1:]):
        va, vb = values.get(a), values.get(b)
        out.append(float(va) - float(vb) if _finite(va) and _finite(vb) else float("nan"))
    return out


def pairwise_differences(values: Mapping[str, float]) -> List[Tuple[str, str, float]]:
    """Every pair (a, b, values[a] - values[b]) with a ranked above b, largest gap first."""
    ok = sorted(((k, float(v)) for k, v in values.items() if _finite(v)), key=lambda kv: -kv[1])
    pairs = [(a, b, va - vb) for i, (a, va) in enumerate(ok) for b, vb in ok[i + 1:]]
    return sorted(pairs, key=lambda t: -t[2])


def top_k(values: Sequence[float], names: Sequence[str], k: int) -> List[str]:
    """The ``k`` names with the largest finite values, largest first."""
    ok = [(float(v), n) for v, n in zip(values, names) if _finite(v)]
    return [n for _, n in sorted(ok, key=lambda t: -t[0])[:k]]


def mean_curve(curves: Sequence[Sequence[float]]) -> List[float]:
    """The per-epoch mean of several curves over the epochs they all have (NaN skipped)."""
    if not curves:
        return []
    n = min(len(c) for c in curves)
    out = []
    for i in range(n):
        vs = [float(c[i]) for c in curves if _finite(c[i])]
        out.append(sum(vs) / len(vs) if vs else float("nan"))
    return out


def first_epoch_reaching(curve: Sequence[float], threshold: float) -> Optional[int]:
    """The first epoch (1-based) whose value is at least ``threshold``; None if none is."""
    for i, v in enumerate(curve):
        if _finite(v) and v >= threshold:
            return i + 1
    return None


def epochs_to_fraction_of_best(curve: Sequence[float], fraction: float) -> Optional[int]:
    """The first epoch (1-based) at which a curve reaches ``fraction`` of its own maximum:
    a measure of how fast a run gets near where it ends up, whatever that level is."""
    ok = [float(v) for v in curve if _finite(v)]
    if not ok:
        return None
    return first_epoch_reaching(curve, fraction * max(ok))


def early_mean(curve: Sequence[float], epochs: int) -> float:
    """The mean of a curve's first ``epochs`` finite values (NaN if none)."""
    vs = [float(v) for v in list(curve)[:epochs] if _finite(v)]
    return sum(vs) / len(vs) if vs else float("nan")


def quotes_in_band(quotes: Sequence[float], ours: Sequence[float], k: float = 3.0) -> Optional[Dict[str, object]]:
    """Where a report's repeated quotes of one recipe fall against our seeds of it.

    The band is our mean +- ``k`` sample standard deviations.  Returns the band, which
    quotes fall inside it, and both ranges; None with fewer than two of our runs (no
    spread to compare with)."""
    v = [float(x) for x in ours if _finite(x)]
    if len(v) < 2:
        return None
    m = sum(v) / len(v)
    s = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))
    lo, hi = m - k * s, m + k * s
    inside = [lo <= q <= hi for q in quotes]
    return {"mean": m, "std": s, "lo": lo, "hi": hi, "inside": inside, "n_inside": sum(inside),
            "our_range": max(v) - min(v), "quote_range": max(quotes) - min(quotes)}


def seconds_per_epoch(results: Sequence) -> float:
    """Mean training seconds per epoch over the finished runs (``status == "ok"``) that
    recorded epoch times: each run's mean epoch time, then their mean; NaN if none."""
    import numpy as np
    t = [np.mean(r.history["epoch_time"]) for r in results
         if r.status == "ok" and r.history.get("epoch_time")]
    return float(np.mean(t)) if t else float("nan")


def mean_per_class(results: Sequence) -> List[float]:
    """Per-class test accuracy averaged over the finished runs that recorded it; [] if none."""
    import numpy as np
    rows = [r.per_class_acc for r in results if r.status == "ok" and r.per_class_acc]
    return list(np.mean(rows, axis=0)) if rows else []


def most_confused_pair(confusion: Sequence[Sequence[float]], classes: Sequence[str]) -> set:
    """The two classes most often taken for each other in a confusion matrix (rows true,
    columns predicted), counting both directions: ``{classes[i], classes[j]}``."""
    import numpy as np
    c = np.array(confusion, dtype=float)
    sym = c + c.T
    np.fill_diagonal(sym, -1)
    i, j = np.unravel_index(np.argmax(sym), sym.shape)
    return {classes[i], classes[j]}
