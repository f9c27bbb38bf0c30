"""Measures of report 000's VGG-A figures: the gap between training and test loss, when a
test-accuracy curve first passes a level, and where the loss band is widest.

Each function takes the per-epoch ``history`` of a :class:`~cnnreport.store.Result` or a
:func:`~cnnreport.landscape.loss_band` and returns NaN (or None) where the series does not
reach, so a short run gives an undefined number rather than a wrong one.
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence, Tuple

import numpy as np

# Our reading of report 000's "clear gap" between training and test loss: the test loss
# exceeds the training loss by more than this (cross-entropy, nats).
CLEAR_GAP = 0.1


def _series(history: Mapping[str, Any], key: str) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in (history.get(key) or [])], dtype=float)


def common_epochs(*histories: Mapping[str, Any]) -> int:
    """Epochs that every history covers with both a training and a test loss."""
    if not histories:
        return 0
    return min(min(len(h.get("train_loss") or []), len(h.get("test_loss_curve") or []))
               for h in histories)


def loss_gap(history: Mapping[str, Any], epoch: Optional[int] = None) -> float:
    """Test loss minus training loss at ``epoch`` (1-based; None: the last epoch that has
    both).  The training loss is the mean over the epoch's batches in training mode, as
    report 000's code records it.  NaN where the epoch is not covered."""
    n = common_epochs(history)
    e = n if epoch is None else int(epoch)
    if e < 1 or e > n:
        return float("nan")
    return float(_series(history, "test_loss_curve")[e - 1] - _series(history, "train_loss")[e - 1])


def first_epoch_reaching(curve: Sequence[float], level: float) -> Optional[int]:
    """The first epoch (1-based) at which ``curve`` is at least ``level``, or None."""
    for i, v in enumerate(curve):
        if v is not None and math.isfinite(v) and v >= level:
            return i + 1
    return None


def best_within(curve: Sequence[float], epochs: int) -> float:
    """The largest finite value of ``curve`` over its first ``epochs`` epochs (NaN if none)."""
    v = np.array([np.nan if x is None else x for x in list(curve)[:max(0, int(epochs))]], dtype=float)
    return float(np.nanmax(v)) if np.isfinite(v).any() else float("nan")


def window_widths(band: Mapping[str, Any], split: int, n: Optional[int] = None) -> Tuple[float, float]:
    """Mean band width (max - min) over steps ``[0, split)`` and over ``[split, n)`` (n: the
    band's length when None), skipping undefined steps; NaN for a window with no step."""
    width = (np.asarray(band["max"], dtype=float) - np.asarray(band["min"], dtype=float))[:n]

    def mean(w: np.ndarray) -> float:
        w = w[np.isfinite(w)]
        return float(w.mean()) if w.size else float("nan")

    split = max(0, int(split))
    return mean(width[:split]), mean(width[split:])


def logit_spread(model, x) -> float:
    """How much a model's logits depend on its input: the standard deviation across the
    inputs ``x`` of each logit, averaged over the logits.  The forward runs in training
    mode, so BatchNorm normalises with the batch's statistics as a training step does;
    buffers (BN running statistics) and the train/eval flags are restored.  Near 0 the
    net answers every input alike, which is where a deep plain stack with a weak
    initialisation starts (and where plain SGD's gradients are tiny)."""
    import torch
    flags = [(m, m.training) for m in model.modules()]
    saved = [(b, b.detach().clone()) for b in model.buffers()]
    model.train()
    try:
        with torch.no_grad():
            out = model(x).double()
    finally:
        with torch.no_grad():
            for b, v in saved:
                b.copy_(v)
        for m, f in flags:
            m.training = f
    return float(out.std(dim=0).mean())


# -- the loss band of report 000, per seed and over seeds ------------------------------------

from typing import Callable, Dict  # noqa: E402  (used by the functions below)


def seed_band(runs: Mapping[str, Sequence[Any]], model: str, lrs: Sequence[float], seed_index: int):
    """The loss band of ``model`` for one seed: the per-step min and max of the training
    loss over its runs at ``lrs`` (:func:`~cnnreport.landscape.loss_band`); None while any
    of those runs is pending.  ``runs`` is ``{band_label(model, lr): [Result per seed]}``."""
    from ..experiments.batchnorm import band_label
    from ..landscape import loss_band
    rs = [runs[band_label(model, lr)][seed_index] for lr in lrs]
    return None if any(r.pending for r in rs) else loss_band(rs)


def compare_bands(plain: Mapping[str, Any], bn: Mapping[str, Any], early_steps: int) -> Dict[str, Any]:
    """The numbers of one seed's pair of bands over the steps both cover (a band ends with
    its shortest run, and a longer one would include later, lower losses): ``steps``;
    ``measures`` {"plain"|"bn": mean width, top, bottom}; ``narrower``, the share of those
    steps where the BN band is narrower; ``lower_mean``, where its mean over the runs is
    lower; ``windows`` {"plain"|"bn": :func:`window_widths` at ``early_steps``}."""
    from ..plots import band_measures, common_length
    pair = {"plain": plain, "bn": bn}
    n = common_length(pair)
    with np.errstate(invalid="ignore"):
        narrower = np.mean((bn["max"] - bn["min"])[:n] < (plain["max"] - plain["min"])[:n])
        lower_mean = np.mean(bn["mean"][:n] < plain["mean"][:n])
    return {"steps": n, "measures": {k: band_measures(b, n) for k, b in pair.items()},
            "narrower": narrower, "lower_mean": lower_mean,
            "windows": {k: window_widths(b, early_steps, n) for k, b in pair.items()}}


def band_summary(bands: Mapping[str, Sequence[Any]], early_steps: int, plain: str = "VGG-A",
                 bn: str = "VGG-A-BN") -> Dict[str, Any]:
    """Report 000's band numbers over the seeds whose bands both models have.

    ``bands`` is ``{model: [band or None per seed]}`` (:func:`seed_band`).  Returns
    ``ready`` (those seeds' indices), ``steps`` (the fewest steps a pair covers, None
    without a pair), ``measures`` {model: mean width, top, bottom}, ``share_narrower`` and
    ``share_lower`` (in % of the steps, see :func:`compare_bands`) and ``windows``
    {model: (early, late) mean width}, each a mean over the ready seeds (NaN without one)."""
    n_seeds = min(len(v) for v in bands.values()) if bands else 0
    ready = [i for i in range(n_seeds) if all(bands[m][i] is not None for m in (plain, bn))]
    per_seed = [compare_bands(bands[plain][i], bands[bn][i], early_steps) for i in ready]
    nan = float("nan")
    keys = {plain: "plain", bn: "bn"}
    measures = {m: {k: float(np.mean([p["measures"][t][k] for p in per_seed])) if per_seed else nan
                    for k in ("width", "top", "bottom")} for m, t in keys.items()}
    windows = {m: tuple(float(np.nanmean([p["windows"][t][j] for p in per_seed])) if per_seed else nan
                        for j in (0, 1)) for m, t in keys.items()}
    return {"ready": ready, "steps": min(p["steps"] for p in per_seed) if per_seed else None,
            "measures": measures,
            "share_narrower": float(np.mean([p["narrower"] for p in per_seed])) * 100 if per_seed else nan,
            "share_lower": float(np.mean([p["lower_mean"] for p in per_seed])) * 100 if per_seed else nan,
            "windows": windows}


# -- small readings the chapter's text and audit share ----------------------------------------

def finite_mean(values: Sequence[float]) -> float:
    """Mean of the finite values (NaN when there is none)."""
    v = np.asarray([np.nan if x is None else x for x in values], dtype=float)
    return float(np.nanmean(v)) if v.size and np.isfinite(v).any() else float("nan")


def fmt_or_na(value: Optional[float], spec: str = "{:.3f}") -> str:
    """``value`` formatted with ``spec``, or "n/a" for None or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return spec.format(value)


def epochs_text(epochs: Sequence[Optional[int]]) -> str:
    """Epochs per run, "never" for a run that did not get there (e.g. the first epoch at
    88%: "4, never")."""
    return ", ".join("never" if e is None else str(e) for e in epochs)


def number_list(values: Sequence[float]) -> str:
    """Numbers in their shortest form, comma-separated: "0.001, 0.0005"."""
    return ", ".join(f"{x:g}" for x in values)


def profile_value(here: Any, at_full: Any, show: Callable[[Any], str] = str) -> str:
    """A setting as a settings table prints it: this page's value, and the full profile's
    beside it where they differ."""
    a, b = show(here), show(at_full)
    return a if a == b else f"{a} here; {b} at full"


def round_numbers(value: Any, digits: int = 2) -> Any:
    """A table cell rounded to ``digits`` when it is a float, left as it is otherwise (e.g.
    the text "pending")."""
    return round(value, digits) if isinstance(value, float) else value
