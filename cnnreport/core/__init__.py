"""Layer 1, the core: a run and its result.

``config`` (RunConfig and its key), ``registry``, ``cache`` (the one hash and atomic writer),
``paths`` (checkout, data root, results folder), ``data``, ``loader``, ``augment``,
``components`` (optimizers, schedules, losses), ``store`` (Result, ResultStore), ``runs``
(run_or_load), ``locks``, ``hardware``, ``landscape`` (loss-landscape probes) and ``stats``
(seed statistics and verdict outcomes).  With the packages ``cnnreport.models``,
``cnnreport.training`` and ``cnnreport.scratch`` this is the bottom layer: it imports nothing
from the layers above (experiments, compute, analysis and plots, pages, build).
"""
