"""The book's figures, one import for every chapter: ``from cnnreport import plots``.

Every drawing function is reachable as ``plots.<name>``; each lives in the module named by
what it draws:

* :mod:`~cnnreport.plots.style` -- the figure style, colours, legend labels from run
  configs, PNG output, and the input conversions every plot shares;
* :mod:`~cnnreport.plots.curves` -- training curves, one metric across runs, per-step loss,
  lr schedules, and the one smoothing (:func:`~cnnreport.plots.curves.moving_average`);
* :mod:`~cnnreport.plots.compare` -- measured-vs-reported bars, accuracy scatters, our
  curves against a report's;
* :mod:`~cnnreport.plots.classes` -- confusion matrices and per-class accuracy;
* :mod:`~cnnreport.plots.images` -- sample grids, augmented views, filters, MLP weights;
* :mod:`~cnnreport.plots.functions` -- activation and loss functions with derivatives;
* :mod:`~cnnreport.plots.landscape` -- loss bands and the loss-landscape probes;
* :mod:`~cnnreport.plots.factors` -- factor-effect panels of a hyperparameter sweep;
* :mod:`~cnnreport.plots.audit` -- the audit's rows per report by outcome.

Every plot draws with the shared style, returns a :class:`matplotlib.figure.Figure` and
never shows or closes it.  The names are resolved on first use, as in :mod:`cnnreport`:
importing the package loads no plotting module (so no matplotlib) until a figure is
asked for, and code that only needs :mod:`~cnnreport.plots.style` pays for nothing else.
"""
from __future__ import annotations

import importlib
from typing import Any

#: module -> the public functions it contributes to ``plots.<name>``
_MODULES = {
    "curves": ("training_curves", "metric_curves", "step_loss", "lr_curves", "moving_average"),
    "compare": ("compare_bar", "scatter_params_accuracy", "scatter_time_accuracy",
                "curves_vs_reference"),
    "classes": ("confusion_matrix", "per_class_accuracy"),
    "images": ("sample_grid", "show_tile", "augmented_views", "augmentation_grid", "filter_grid",
               "weight_images"),
    "functions": ("activation_curves", "loss_curves", "loss_of_margin"),
    "landscape": ("loss_bands", "band", "probe_measures"),
    "factors": ("factor_effects",),
    "audit": ("outcome_bars",),
}
_EXPORTS = {name: mod for mod, names in _MODULES.items() for name in names}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name in _MODULES or name == "style":
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | set(_MODULES) | {"style"})
