"""The book's figure style, and the helpers every plot module and :mod:`cnnreport.pages.explorer` share.

* the look: palette, rc settings (:func:`styled`), figures (:func:`new_figure`, :func:`colors`);
* inputs: history lists with ``None`` as NaN (:func:`arr`), fractions to percent
  (:func:`percent`), one Result or many (:func:`as_list`), arrays or tensors (:func:`to_numpy`);
* legend labels from run configs (:func:`run_labels` and the config flattening behind it);
* output: PNG bytes and inline ``<img>`` tags for the static book.

The style is applied per call with :func:`styled` (an ``rc_context`` around the plot
function), never by editing the global ``rcParams``, so importing this package leaves
the caller's matplotlib settings alone.  Figures are created through pyplot (which
loads the inline backend's display hooks in Jupyter) and then detached from pyplot's
figure list: the caller gets a live Figure that is shown once, when it is returned or
displayed, instead of twice (pyplot would also show it at the end of the cell).
"""
from __future__ import annotations

import base64
import functools
import io
import math
from typing import Any, Dict, Iterable, List, Optional, Sequence

import numpy as np
from matplotlib.figure import Figure

from ..core.config import EXECUTION_FIELDS

#: Colour-blind-safe first eight (Okabe-Ito order, yellow moved last: it is faint on white).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#8C564B",
           "#7F7F7F", "#BCBD22", "#17BECF"]
DIVERGED_COLOR = "#B00020"

RC: Dict[str, Any] = {
    "figure.dpi": 110, "savefig.dpi": 150, "savefig.bbox": "tight",
    "font.size": 10, "axes.titlesize": 11.5, "axes.titleweight": "normal",
    "axes.labelsize": 10, "xtick.labelsize": 9, "ytick.labelsize": 9,
    "legend.fontsize": 9, "legend.frameon": False, "figure.titlesize": 12,
    "figure.titleweight": "bold", "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.6, "lines.linewidth": 1.6,
    "axes.prop_cycle": None,  # filled in by styled() (cycler import kept lazy)
    "image.interpolation": "nearest",
}


def styled(fn):
    """Run a plot function inside the book's rc settings."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import matplotlib as mpl
        from cycler import cycler
        rc = dict(RC, **{"axes.prop_cycle": cycler(color=PALETTE)})
        with mpl.rc_context(rc):
            return fn(*args, **kwargs)
    return wrapper


class BookFigure(Figure):
    """A Figure that shows itself as PNG in IPython even under a non-inline backend
    (``MPLBACKEND=Agg`` in a kernel), where a plain Figure would print as text.  Under
    the inline backend IPython's own PNG formatter takes precedence; either way one image."""

    def _repr_png_(self) -> bytes:
        return fig_to_png(self)


def new_figure(nrows: int = 1, ncols: int = 1, *, size=None, **kw):
    """``plt.subplots`` with constrained layout, detached from pyplot (see module doc)."""
    import matplotlib.pyplot as plt
    kw.setdefault("layout", "constrained")
    fig, axes = plt.subplots(nrows, ncols, figsize=size or (6.4, 4.0), FigureClass=BookFigure, **kw)
    plt.close(fig)  # only drops pyplot's reference; the figure stays fully usable
    return fig, axes


def colors(n: int) -> List[str]:
    """``n`` distinct colours: the palette, then tab20 for larger sets."""
    if n <= len(PALETTE):
        return PALETTE[:n]
    import matplotlib as mpl
    cmap = mpl.colormaps["tab20"]
    return [mpl.colors.to_hex(cmap(i % 20)) for i in range(n)]


def arr(values: Optional[Iterable[Any]]) -> np.ndarray:
    """A float array from a history list; ``None`` (JSON's NaN) becomes NaN."""
    if values is None:
        return np.zeros(0)
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def percent(values: np.ndarray) -> np.ndarray:
    """Fractions in [0, 1] to percent; arrays that already look like percent pass through."""
    finite = values[np.isfinite(values)]
    return values if finite.size and finite.max() > 1.0 + 1e-9 else 100.0 * values


def to_numpy(x) -> np.ndarray:
    """numpy view of an array-like or a (possibly CUDA, possibly grad-tracking) tensor, so
    callers can pass ``model.conv1.weight`` directly."""
    if hasattr(x, "detach"):
        x = x.detach().float().cpu().numpy()
    return np.asarray(x)


def as_list(results) -> list:
    """One Result, a list of them, or a ResultStore -> list."""
    if results is None:
        return []
    if hasattr(results, "config") and hasattr(results, "history"):
        return [results]
    return list(results)


def fmt_value(v: Any) -> str:
    """A short, hashable text for a config value (lists and dicts included)."""
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, dict):
        return ",".join(f"{k}={fmt_value(x)}" for k, x in sorted(v.items())) or "-"
    if isinstance(v, (list, tuple)):
        return "+".join(fmt_value(x) for x in v) or "none"
    return str(v)


def flat_config(cfg: Dict[str, Any]) -> Dict[str, str]:
    """Config as ``field -> text`` with nested ``*_args`` dicts expanded to ``model_args.width``."""
    out: Dict[str, str] = {}
    for k, v in cfg.items():
        if isinstance(v, dict) and k.endswith("_args"):
            for sk, sv in v.items():
                out[f"{k}.{sk}"] = fmt_value(sv)
        else:
            out[k] = fmt_value(v)
    return out


# Fields that say how a run was executed or that every run shares in practice: not
# useful for telling runs apart in a legend.
_LABEL_SKIP = set(EXECUTION_FIELDS)


def varying_fields(results: Sequence[Any], skip: Iterable[str] = _LABEL_SKIP) -> List[str]:
    """Flattened config fields whose value differs between ``results``, in config order."""
    flats = [flat_config(r.config) for r in results]
    keys: List[str] = []
    for f in flats:
        keys += [k for k in f if k not in keys]
    skip = set(skip)
    return [k for k in keys if k not in skip and len({f.get(k, "-") for f in flats}) > 1]


def run_labels(results: Sequence[Any], labels: Optional[Sequence[str]] = None) -> List[str]:
    """Legend labels: the given ones, else the chapter tag or model plus what differs."""
    results = as_list(results)
    if labels is not None:
        if len(labels) != len(results):
            raise ValueError(f"{len(labels)} labels for {len(results)} results")
        return [str(x) for x in labels]
    fields = varying_fields(results)
    out = []
    for r in results:
        flat = flat_config(r.config)
        named = bool(r.config.get("name"))
        base = r.config["name"] if named else str(r.config.get("model", "run"))
        # Without a name the model is the base, so it is not repeated as "model=...".
        extra = [f"{k.split('.')[-1]}={flat.get(k, '-')}" for k in fields if named or k != "model"]
        out.append(" ".join([base] + extra[:3]))
    # Two runs that differ only in a field past the first three would share a label.
    if len(set(out)) < len(out):
        out = [f"{lab} [{r.key[:6]}]" for lab, r in zip(out, results)]
    return out


def fig_to_png(fig, dpi: Optional[int] = None) -> bytes:
    """The figure as PNG bytes (Agg, so no display is needed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or 110, bbox_inches="tight")
    return buf.getvalue()


def png_img_tag(png: bytes, alt: str = "") -> str:
    """An ``<img>`` carrying the PNG inline, so the static HTML needs no other file."""
    b64 = base64.b64encode(png).decode("ascii")
    alt = alt.replace('"', "&quot;")
    return f'<img src="data:image/png;base64,{b64}" alt="{alt}" style="max-width:100%;height:auto;">'


def grid_shape(n: int, ncols: int) -> tuple:
    """(rows, cols) for ``n`` panels at most ``ncols`` wide: never more columns than panels."""
    ncols = max(1, min(int(ncols), n))
    return int(math.ceil(n / ncols)), ncols
