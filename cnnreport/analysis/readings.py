"""How a result is read: finished runs, pending ones, and accuracies in % the way a report
read them.  The one home of these readings, below the pages that show them
(:class:`cnnreport.pages.chapter.Chapter` re-exports them for a chapter's code).
"""
from __future__ import annotations

from typing import Any, Iterable, List, Optional

from ..core.stats import finite_mean
from ..core.store import Result, flatten_results

SPLITS = "test, final_test, best_val, final_train, or a report number 000-004"


def done(results: Iterable[Result]) -> List[Result]:
    """The finished runs (neither pending nor diverged)."""
    return [r for r in results if r.done]


def is_pending(*groups: Any) -> bool:
    """Whether any result in these results, lists or ``{label: [results]}`` is pending."""
    return any(r.pending for r in flatten_results(groups))


def last_epoch_test(r: Result) -> Optional[float]:
    """The test accuracy (in [0, 1]) of the weights after the last epoch; a result stored
    before that was recorded gives its selected weights' (None for a run with neither)."""
    return r.final_test_acc if r.final_test_acc is not None else r.test_acc


def accs(results: Iterable[Result], split: str = "test") -> List[float]:
    """Accuracies in % of the finished runs.  ``split``: ``test`` (the selected epoch's
    weights), ``final_test`` (after the last epoch), ``best_val``, ``final_train``; or a
    report number ("000" .. "004"), which reads the test accuracy the way that report read it
    (:data:`cnnreport.experiments.recipes.READING`)."""
    from ..experiments.recipes import READING
    split = {"selected": "test", "final": "final_test"}.get(READING.get(split, split), split)
    if split not in ("test", "final_test", "best_val", "final_train"):
        raise ValueError(f"unknown split {split!r}; allowed: {SPLITS}")
    out = []
    for r in done(results):
        if split == "test":
            out.append(100 * r.test_acc)
        elif split == "final_test":
            out.append(100 * last_epoch_test(r))
        elif split == "best_val":
            out.append(100 * r.history["val_acc"][r.best_epoch - 1])
        else:
            out.append(100 * r.history["train_acc"][-1])
    return out


def acc(results: Iterable[Result], split: str = "test") -> float:
    """Mean accuracy in % over the finished seeds (NaN when none finished)."""
    return finite_mean(accs(results, split))


def precisions(results: Iterable[Result]) -> List[str]:
    """The precisions the finished runs trained at (sorted, each once; "unrecorded" for a
    result without one): seeds of one config that trained at several precisions spread
    by the precision as well as by the seed."""
    return sorted({str((r.environment or {}).get("precision") or "unrecorded") for r in done(results)})


def per_class(r: Result, final: bool = True) -> List[float]:
    """Per-class test accuracy in [0, 1]: of the weights after the last epoch (``final``, as a
    report that reads its final model), else of the selected weights.  A result stored before
    the last epoch's were recorded gives the selected weights' either way."""
    return list((final and r.final_per_class_acc) or r.per_class_acc)


def confusion(r: Result, final: bool = True) -> List[List[int]]:
    """The test confusion matrix (rows true, columns predicted), chosen as :func:`per_class`."""
    return [list(row) for row in ((final and r.final_confusion) or r.confusion)]
