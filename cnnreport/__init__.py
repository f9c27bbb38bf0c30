"""cnnreport: an executable research report on training CNNs for image classification.

The package imports nothing heavy until it is used: ``import cnnreport`` is instant and
does not import torch (the NumPy subpackage ``cnnreport.scratch`` relies on that).
The common entry points are re-exported lazily::

    from cnnreport import RunConfig, run_or_load, load_dataset, MODELS
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "RunConfig": "config", "ConfigError": "config",
    "load_dataset": "data", "Dataset": "data", "DataError": "data",
    "DeviceLoader": "loader",
    "MODELS": "models",
    "fit": "training",
    "Result": "store", "ResultStore": "store", "run_or_load": "runs",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'cnnreport' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
