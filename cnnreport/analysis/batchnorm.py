"""The BatchNorm chapter's measures and rules: the gap between training and test loss,
when a test-accuracy curve first passes a level, the loss band of report 000 per seed, and
the rules that judge reports 000's and 001's claims about VGG-A with and without BN.

The measures take the per-epoch ``history`` of a :class:`~cnnreport.core.store.Result` or a
:func:`~cnnreport.core.landscape.loss_band` and return NaN (or None) where the series does not
reach, so a short run gives an undefined number rather than a wrong one.  The rules take
per-seed measurements and return a :class:`~cnnreport.analysis.verdicts.Verdict`.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..core import stats as S
from . import verdicts as V
from .archs import compare_measure

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



def seed_band(runs: Mapping[str, Sequence[Any]], model: str, lrs: Sequence[float], seed_index: int):
    """The loss band of ``model`` for one seed: the per-step min and max of the training
    loss over its runs at ``lrs`` (:func:`~cnnreport.core.landscape.loss_band`); None while any
    of those runs is pending.  ``runs`` is ``{band_label(model, lr): [Result per seed]}``."""
    from ..experiments.batchnorm import band_label
    from ..core.landscape import loss_band
    rs = [runs[band_label(model, lr)][seed_index] for lr in lrs]
    return None if any(r.pending for r in rs) else loss_band(rs)


def compare_bands(plain: Mapping[str, Any], bn: Mapping[str, Any], early_steps: int) -> Dict[str, Any]:
    """The numbers of one seed's pair of bands over the steps both cover (a band ends with
    its shortest run, and a longer one would include later, lower losses): ``steps``;
    ``measures`` {"plain"|"bn": mean width, top, bottom}; ``narrower``, the share of those
    steps where the BN band is narrower; ``lower_mean``, where its mean over the runs is
    lower; ``windows`` {"plain"|"bn": :func:`window_widths` at ``early_steps``}."""
    from .landscape import band_measures, common_length
    pair = {"plain": plain, "bn": bn}
    n = common_length(pair)
    with np.errstate(invalid="ignore"):
        narrower = np.mean((bn["max"] - bn["min"])[:n] < (plain["max"] - plain["min"])[:n])
        lower_mean = np.mean(bn["mean"][:n] < plain["mean"][:n])
    return {"steps": n, "measures": {k: band_measures(b, n) for k, b in pair.items()},
            "narrower": narrower, "lower_mean": lower_mean,
            "windows": {k: window_widths(b, early_steps, n) for k, b in pair.items()}}


def band_per_seed(bands: Mapping[str, Sequence[Any]], early_steps: int, plain: str = "VGG-A",
                  bn: str = "VGG-A-BN") -> List[Dict[str, Any]]:
    """:func:`compare_bands` of every seed whose bands both models have, in seed order
    (``bands`` as in :func:`band_summary`); each dict also holds its seed ``index``."""
    n_seeds = min(len(v) for v in bands.values()) if bands else 0
    ready = [i for i in range(n_seeds) if all(bands[m][i] is not None for m in (plain, bn))]
    return [{**compare_bands(bands[plain][i], bands[bn][i], early_steps), "index": i} for i in ready]


def band_summary(bands: Mapping[str, Sequence[Any]], early_steps: int, plain: str = "VGG-A",
                 bn: str = "VGG-A-BN") -> Dict[str, Any]:
    """Report 000's band numbers over the seeds whose bands both models have.

    ``bands`` is ``{model: [band or None per seed]}`` (:func:`seed_band`).  Returns
    ``ready`` (those seeds' indices), ``steps`` (the fewest steps a pair covers, None
    without a pair), ``measures`` {model: mean width, top, bottom}, ``share_narrower`` and
    ``share_lower`` (in % of the steps, see :func:`compare_bands`), ``windows``
    {model: (early, late) mean width}, each a mean over the ready seeds (NaN without one),
    and ``per_seed`` (:func:`band_per_seed`), what the rules below judge."""
    per_seed = band_per_seed(bands, early_steps, plain, bn)
    nan = float("nan")
    keys = {plain: "plain", bn: "bn"}
    measures = {m: {k: float(np.mean([p["measures"][t][k] for p in per_seed])) if per_seed else nan
                    for k in ("width", "top", "bottom")} for m, t in keys.items()}
    windows = {m: tuple(float(np.nanmean([p["windows"][t][j] for p in per_seed])) if per_seed else nan
                        for j in (0, 1)) for m, t in keys.items()}
    return {"ready": [p["index"] for p in per_seed],
            "steps": min(p["steps"] for p in per_seed) if per_seed else None,
            "measures": measures,
            "share_narrower": float(np.mean([p["narrower"] for p in per_seed])) * 100 if per_seed else nan,
            "share_lower": float(np.mean([p["lower_mean"] for p in per_seed])) * 100 if per_seed else nan,
            "windows": windows, "per_seed": per_seed}


# -- the rules: per-seed measurements in, a Verdict out ---------------------------------------

def _per_seed(per_seed: Sequence[Mapping[str, Any]], tag: str, key: str) -> List[float]:
    return [float(p["measures"][tag][key]) for p in per_seed]


def band_narrower_and_lower(per_seed: Sequence[Mapping[str, Any]]) -> V.Verdict:
    """Report 000's "the BN band is narrower and lower": over the steps both bands cover,
    VGG-A-BN's mean band width and mean band top are each below VGG-A's (95% interval of
    the difference over seeds, one band per seed: :func:`band_per_seed`)."""
    return V.all_of({
        "narrower (mean width)": compare_measure(("VGG-A-BN", _per_seed(per_seed, "bn", "width")),
                                                 ("VGG-A", _per_seed(per_seed, "plain", "width")), lower=True,
                                                 digits=3),
        "lower (mean top)": compare_measure(("VGG-A-BN", _per_seed(per_seed, "bn", "top")),
                                            ("VGG-A", _per_seed(per_seed, "plain", "top")), lower=True, digits=3),
    })


# Our reading of report 001's "at every step": at least this share of the steps both bands cover.
EVERY_STEP_SHARE = 95.0


def band_every_step(per_seed: Sequence[Mapping[str, Any]], share: float = EVERY_STEP_SHARE) -> V.Verdict:
    """Report 001's "at every step BN's loss mean and spread across lrs are smaller": the
    shares of the steps where VGG-A-BN's band is narrower and its mean over the learning
    rates lower, whose 95% intervals over seeds must lie above ``share`` %."""
    return V.all_of({
        "spread smaller": V.threshold([100 * float(p["narrower"]) for p in per_seed], share, below=False,
                                      unit="% of steps", digits=1),
        "mean smaller": V.threshold([100 * float(p["lower_mean"]) for p in per_seed], share, below=False,
                                    unit="% of steps", digits=1),
    })


def widest_early(per_seed: Sequence[Mapping[str, Any]], early_steps: int, tag: str = "plain",
                 label: str = "VGG-A") -> V.Verdict:
    """Report 000's "the VGG-A band is widest early": its mean width over the first
    ``early_steps`` steps above its mean width after them (per seed; a seed whose band ends
    inside the early window has no later width and does not count)."""
    early = [float(p["windows"][tag][0]) for p in per_seed if math.isfinite(p["windows"][tag][1])]
    late = [float(p["windows"][tag][1]) for p in per_seed if math.isfinite(p["windows"][tag][1])]
    if per_seed and not late:
        return V.Verdict(S.WAITING, f"the {label} band ends inside its first {early_steps:,} steps",
                         "no step after the early window to compare with", len(per_seed))
    return compare_measure((f"{label}, steps 1-{early_steps:,}", early), (f"{label}, after", late), digits=3)


def smoother(measures: Mapping[str, Mapping[str, Sequence[float]]], bn: str = "VGG-A-BN",
             plain: str = "VGG-A") -> V.Verdict:
    """Santurkar et al.'s claim that BN smooths the landscape, on their three measures:
    ``measures`` is ``{measure: {model: [median over a run's probes, per seed]}}``; each
    measure must be lower with BN (95% interval of the difference over seeds)."""
    return V.all_of({name: compare_measure((bn, by_model[bn]), (plain, by_model[plain]), lower=True, digits=3)
                     for name, by_model in measures.items()})


def clear_gap(gaps: Sequence[float], bound: Optional[float] = None) -> V.Verdict:
    """Report 000's "a clear gap between training and test loss": the test minus training
    loss (per seed), whose 95% interval must lie above :data:`CLEAR_GAP` nats."""
    return V.threshold(gaps, CLEAR_GAP if bound is None else bound, below=False, unit=" nats", digits=3)


def narrows_gap(plain_gaps: Sequence[float], bn_gaps: Sequence[float]) -> V.Verdict:
    """Report 000's "BN narrows the gap between training and test loss": VGG-A-BN's gap
    (per seed, at an epoch both models cover) below VGG-A's."""
    return compare_measure(("VGG-A-BN", bn_gaps), ("VGG-A", plain_gaps), lower=True, unit=" nats", digits=3)


def passes_within(best: Sequence[float], level: float) -> V.Verdict:
    """The best test accuracy (in %, per seed) over an early window, whose 95% interval
    must lie above ``level``."""
    return V.threshold(best, level, below=False)


def paired_differences(a: Sequence[Any], b: Sequence[Any], read: Callable[[Any], float]) -> List[float]:
    """``read(a[i]) - read(b[i])`` for every seed ``i`` where both runs finished (the runs
    of one seed share their batches, so each difference is one seed's effect)."""
    return [read(x) - read(y) for x, y in zip(a, b)
            if getattr(x, "status", None) == "ok" and getattr(y, "status", None) == "ok"]


def helps_most(gains: Sequence[Tuple[str, Sequence[float]]]) -> V.Verdict:
    """Report 001's "BN helps most at the largest lr and least at the smallest": the gains
    of BN (per seed, in points) in the claimed order, largest first; each neighbour must
    be larger than the next (95% intervals)."""
    return V.ordering(list(gains))


def ended_at_chance(result: Any, num_classes: int = 10) -> bool:
    """A run that learned nothing: not finished (diverged on a non-finite loss), or its last
    epoch at chance by the trainer's test (:func:`~cnnreport.training.policy.at_chance`)."""
    from ..training.policy import at_chance
    if getattr(result, "status", None) != "ok":
        return True
    loss, acc = result.history.get("train_loss") or [], result.history.get("train_acc") or []
    return bool(loss and acc and at_chance(loss[-1], acc[-1], num_classes))


def larger_lr_without_diverging(bn_runs: Sequence[Any], bn_accs: Sequence[float], plain_accs: Sequence[float],
                                lr: float) -> V.Verdict:
    """Report 000's "BN allows a larger learning rate without diverging", at the largest
    rate ``lr`` of the grid: no VGG-A-BN run there diverges or ends at chance
    (:func:`ended_at_chance`), and VGG-A-BN beats VGG-A there on test accuracy."""
    finished = [r for r in bn_runs if getattr(r, "status", None) in ("ok", "diverged")]
    failed = sum(ended_at_chance(r) for r in finished)
    if not finished:
        trains = V.Verdict(S.WAITING, "no finished run", "no VGG-A-BN run at this lr finished", 0)
    elif failed:
        trains = V.Verdict(S.CONTRADICTED, f"{failed} of {len(finished)} runs diverged or ended at chance",
                           "a run diverged or ended at chance", len(finished))
    else:
        trains = V.Verdict(S.HOLDS, f"none of {len(finished)} runs diverged or ended at chance",
                           "every run trained", len(finished))
    return V.all_of({f"VGG-A-BN trains at lr {lr:g}": trains,
                     f"VGG-A-BN beats VGG-A at lr {lr:g}": V.comparison(("VGG-A-BN", bn_accs), ("VGG-A", plain_accs))})


# Report 001's "faster" read over the first epochs of a run (our reading: the first five).
EARLY_EPOCHS = 5


def early_training(results: Sequence[Any], epochs: int = EARLY_EPOCHS) -> Tuple[List[float], List[float]]:
    """Each finished run's mean training accuracy (in %) and mean training loss over its
    first ``epochs`` epochs."""
    accs, losses = [], []
    for r in results:
        if getattr(r, "status", None) != "ok":
            continue
        a = [100 * v for v in (r.history.get("train_acc") or [])[:epochs] if v is not None]
        lo = [v for v in (r.history.get("train_loss") or [])[:epochs] if v is not None and math.isfinite(v)]
        if a and lo:
            accs.append(sum(a) / len(a))
            losses.append(sum(lo) / len(lo))
    return accs, losses


def trains_faster(by_lr: Mapping[str, Tuple[Tuple[Sequence[float], Sequence[float]],
                                            Tuple[Sequence[float], Sequence[float]]]]) -> V.Verdict:
    """Report 001's "with BN training accuracy rises faster and the loss falls faster": at
    every learning rate (``{lr label: ((bn accs, bn losses), (plain accs, plain losses))}``,
    :func:`early_training`), VGG-A-BN's early training accuracy above VGG-A's and its early
    training loss below."""
    parts = {}
    for lr, ((bn_acc, bn_loss), (plain_acc, plain_loss)) in by_lr.items():
        parts[f"lr {lr}: accuracy"] = compare_measure(("VGG-A-BN", bn_acc), ("VGG-A", plain_acc), unit="%")
        parts[f"lr {lr}: loss"] = compare_measure(("VGG-A-BN", bn_loss), ("VGG-A", plain_loss), lower=True,
                                                  digits=3)
    return V.all_of(parts)


# -- small readings the chapter's text and audit share ----------------------------------------



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
