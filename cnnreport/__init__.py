"""cnnreport: an executable research report on training CNNs for image classification.

The package imports nothing heavy until it is used: ``import cnnreport`` is instant and
does not import torch (the NumPy subpackage ``cnnreport.scratch`` relies on that).
The package is six layers, each importing only from those below it (see the book's
"How the library is built" page): ``core`` with ``models``, ``training`` and ``scratch``;
``experiments``; ``compute``; ``analysis`` and ``plots``; ``pages``; ``build``.  The command
line is ``cnnreport <verb>`` (``python -m cnnreport <verb>``).  The common entry points are
re-exported lazily::

    from cnnreport import RunConfig, run_or_load, load_dataset, MODELS
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "RunConfig": "core.config", "ConfigError": "core.config",
    "load_dataset": "core.data", "Dataset": "core.data", "DataError": "core.data",
    "DeviceLoader": "core.loader",
    "MODELS": "models",
    "fit": "training",
    "Result": "core.store", "ResultStore": "core.store", "run_or_load": "core.runs",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'cnnreport' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
