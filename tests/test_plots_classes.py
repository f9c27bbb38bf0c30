"""Confusion matrices and per-class accuracy bars on synthetic Results and arrays."""
import numpy as np

from cnnreport import plots
from synthetic_runs import CLASSES, K, no_pyplot_leaks, renders, runs  # noqa: F401 (fixtures)


def test_confusion_and_per_class(runs):
    fig = renders(plots.confusion_matrix(runs[0].confusion, CLASSES))
    assert len(fig.axes) == 2 and len(fig.axes[0].images) == 1 and len(fig.axes[0].texts) == K * K
    assert fig.axes[0].images[0].get_array().max() <= 100
    renders(plots.confusion_matrix(runs[0], normalize=False))
    fig = renders(plots.per_class_accuracy(runs[:2], CLASSES))
    assert len(fig.axes[0].patches) == 2 * K
    fig = renders(plots.per_class_accuracy(np.full((3, 4), 0.5), ["a", "b", "c", "d"], ["x", "y", "z"]))
    assert len(fig.axes[0].patches) == 12 and fig.axes[0].patches[0].get_height() == 50
    # a diverged run has no per-class numbers: an empty group, no crash
    assert len(renders(plots.per_class_accuracy(runs, CLASSES)).axes[0].patches) == 3 * K
    renders(plots.per_class_accuracy([], CLASSES))
