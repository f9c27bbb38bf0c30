"""The numbers of the loss-landscape measurements: band widths over a common step range,
and the probes' effective beta-smoothness and medians (Santurkar et al., 2018).  The
figures that draw them are :mod:`cnnreport.plots.landscape`; the records come from
:mod:`cnnreport.core.landscape`.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, Mapping, Optional

import numpy as np


def _floats(values: Optional[Iterable[Any]]) -> np.ndarray:
    """A float array from a record's list; ``None`` (JSON's NaN) becomes NaN."""
    if values is None:
        return np.zeros(0)
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def common_length(bands: Mapping[str, Mapping[str, Any]]) -> int:
    """Steps that every band covers (bands end at their shortest run)."""
    return min(len(b["min"]) for b in bands.values()) if bands else 0


def band_measures(band: Mapping[str, Any], n: Optional[int] = None) -> Dict[str, float]:
    """Mean band ``width`` (max - min), ``top`` (max) and ``bottom`` (min) over the first
    ``n`` steps (all when None), skipping steps where the band is undefined (NaN)."""
    lo, hi = _floats(band["min"])[:n], _floats(band["max"])[:n]
    ok = np.isfinite(lo) & np.isfinite(hi)
    if not ok.any():
        return {"width": float("nan"), "top": float("nan"), "bottom": float("nan"), "steps": 0}
    return {"width": float(np.mean(hi[ok] - lo[ok])), "top": float(np.mean(hi[ok])),
            "bottom": float(np.mean(lo[ok])), "steps": int(ok.sum())}


def probe_betas(probe: Mapping[str, Any]) -> np.ndarray:
    """(probes, etas) array of ||grad L(w) - grad L(w - eta g)|| / ||eta g|| from a
    :func:`~cnnreport.core.landscape.landscape_or_load` record (eta = factor x lr)."""
    gp = np.array(probe["grad_pred"], dtype=float)  # (probes, etas)
    if gp.size == 0:
        return gp.reshape(0, len(probe.get("eta_factors", [])))
    eta = np.outer(_floats(probe["lr"]), np.asarray(probe["eta_factors"], dtype=float))
    step = np.abs(eta) * _floats(probe["grad_norm"])[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(step > 0, gp / step, np.nan)


def probe_summary(probe: Mapping[str, Any], skip: int = 0) -> Dict[str, float]:
    """Medians over probes (after the first ``skip``) of the loss range max - min, the
    largest gradient change and the effective beta-smoothness."""
    sl = slice(skip, None)
    rng = _floats(probe["loss_max"])[sl] - _floats(probe["loss_min"])[sl]
    out = {"loss_range": rng, "gradpred_max": _floats(probe["gradpred_max"])[sl],
           "beta_smooth": _floats(probe["beta_smooth"])[sl]}
    return {k: float(np.nanmedian(v)) if np.isfinite(v).any() else float("nan") for k, v in out.items()}
