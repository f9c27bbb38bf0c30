"""Sweep grids: a YAML spec of chapter parameter sets (``base``, a ``grid`` product and/or a
list of ``runs``), checked for shape and expanded into one parameter dict per run.

It lives with the experiment definitions because a chapter's runs can come from a grid
(report 002's 33 runs are ``params/sweeps/hyperparams_<profile>.yaml``); the sweep command
(:mod:`cnnreport.build.sweep`) runs a chapter once per set.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

from ..core.cache import key_of


class SweepError(ValueError):
    """A sweep cannot start: bad grid file, unknown parameter or bad value, missing chapter."""


def load_grid(grid: Union[str, Path, Mapping[str, Any]]) -> Dict[str, Any]:
    """A grid spec from a YAML path or a dict, checked for shape."""
    if isinstance(grid, (str, Path)):
        import yaml
        p = Path(grid)
        if not p.is_file():
            raise SweepError(f"grid file {p} does not exist")
        try:
            spec = yaml.safe_load(p.read_text())
        except yaml.YAMLError as e:
            raise SweepError(f"{p}: not valid YAML: {e}") from None
        where = str(p)
    else:
        spec, where = grid, "grid"
    if not isinstance(spec, Mapping):
        raise SweepError(f"{where}: must be a mapping with keys base, grid and/or runs, "
                         f"got {type(spec).__name__}")
    extra = sorted(set(spec) - {"base", "grid", "runs"})
    if extra:
        raise SweepError(f"{where}: unknown key(s) {extra}; allowed: base, grid, runs")
    base, product, runs = spec.get("base") or {}, spec.get("grid"), spec.get("runs")
    if not isinstance(base, Mapping):
        raise SweepError(f"{where}: 'base' must be a mapping of parameter: value")
    if product is None and runs is None:
        raise SweepError(f"{where}: nothing to run; give 'grid' (name: [values]) or 'runs' (a list)")
    if product is not None:
        if not isinstance(product, Mapping) or not product:
            raise SweepError(f"{where}: 'grid' must be a non-empty mapping of parameter: [values]")
        for k, v in product.items():
            if not isinstance(v, list) or not v:
                raise SweepError(f"{where}: grid parameter {k!r} must be a non-empty list, got {v!r}")
    if runs is not None and (not isinstance(runs, list) or not all(isinstance(r, Mapping) for r in runs)):
        raise SweepError(f"{where}: 'runs' must be a list of mappings of parameter: value")
    return {"base": dict(base), "grid": None if product is None else dict(product),
            "runs": [dict(r) for r in runs or []]}


def expand(spec: Mapping[str, Any], defaults: Optional[Mapping[str, Any]] = None) -> List[Dict[str, Any]]:
    """Every run's parameters: ``runs`` first, then the grid's product; duplicates dropped."""
    spec = load_grid(spec)
    sets = list(spec["runs"])
    if spec["grid"]:
        names = list(spec["grid"])
        sets += [dict(zip(names, combo)) for combo in itertools.product(*spec["grid"].values())]
    out: Dict[str, Dict[str, Any]] = {}
    for s in sets:
        p = {**(defaults or {}), **spec["base"], **s}
        out.setdefault(run_id(p), p)
    return list(out.values())


def run_id(params: Mapping[str, Any]) -> str:
    """The run's name: the one cache hash (:func:`cnnreport.core.cache.key_of`) of its parameters."""
    return key_of(dict(params))
