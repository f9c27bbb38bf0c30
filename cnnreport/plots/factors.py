"""Factor-effect panels: a hyperparameter sweep read one factor at a time.

:func:`factor_effects` draws, for each panel, a metric against one factor's values for a
few series of runs, ours as lines and the source report's numbers as open diamonds;
diverged runs as red crosses.  It reads a table (one row per run) rather than Results, so
the chapters that audit a sweep (hyperparameters, the from-scratch models) share it.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

import numpy as np

from .style import DIVERGED_COLOR, colors, grid_shape, new_figure, styled


def _values(table, labels: Sequence[str], x: str, col: Optional[str]):
    """(x, y, diverged) for the labels present in ``table``, sorted by x."""
    rows = [table.loc[lab] for lab in labels if lab in table.index]
    rows.sort(key=lambda r: r[x] if not isinstance(r[x], (bool, np.bool_)) else int(r[x]))
    xs = [r[x] for r in rows]
    ys = np.array([np.nan if col is None or r.get(col) is None else float(r[col]) for r in rows])
    div = [str(r.get("status", "ok")) == "diverged" for r in rows]
    return xs, ys, div


def _category(v) -> str:
    """A tick label for a categorical factor value (booleans read as on/off)."""
    return ("on" if v else "off") if isinstance(v, (bool, np.bool_)) else str(v)


@styled
def factor_effects(table, panels: Sequence[Mapping[str, Any]], metric: str,
                   reference: Optional[str] = None, *, ylabel: str = "", ncols: int = 3,
                   title: Optional[str] = None, size=None):
    """One panel per factor: ``metric`` (a column of ``table``) against the factor.

    ``table`` is a DataFrame indexed by run label with the factor columns, ``metric``,
    optionally ``reference`` (the report's value) and ``status`` ("diverged" runs are
    drawn as red crosses at the bottom of the axes).  Each panel is a mapping with
    ``title``, ``x`` (the factor's column), ``series`` ({legend name: [run labels]}) and
    optionally ``logx``.  Ours are solid lines with dots, the reference open diamonds on
    dotted lines.  Labels missing from ``table`` are skipped and a panel without any of
    our values says so, so one call works for every profile's grid.
    """
    from matplotlib.lines import Line2D
    nrows, ncols = grid_shape(len(panels), ncols)
    fig, axes = new_figure(nrows, ncols, size=size or (3.9 * ncols, 3.1 * nrows + 0.5), squeeze=False)
    names = list(dict.fromkeys(n for p in panels for n in p["series"]))
    cmap = dict(zip(names, colors(len(names))))
    for ax, panel in zip(axes.flat, panels):
        x, ours_any, crosses, ticks, used = panel["x"], False, [], {}, []
        for name, labels in panel["series"].items():
            xs, ys, div = _values(table, labels, x, metric)
            if not xs:
                continue
            numeric = all(isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))
                          for v in xs)
            pos = (np.array(xs, dtype=float) if numeric else  # categories share positions
                   np.array([ticks.setdefault(_category(v), len(ticks)) for v in xs], dtype=float))
            ok = np.isfinite(ys) & ~np.array(div)
            if ok.any():
                ax.plot(pos[ok], ys[ok], marker="o", ms=5, color=cmap[name])
            if reference is not None:
                _, ref, _ = _values(table, labels, x, reference)
                ax.plot(pos, ref, ls=":", marker="D", ms=6, mfc="none", color=cmap[name], alpha=0.9)
            crosses += [q for q, d in zip(pos, div) if d]
            ours_any |= bool(ok.any() or any(div))
            used.append(name)
        if ticks:
            ax.set_xticks(list(ticks.values()), list(ticks))
            ax.set_xlim(-0.5, len(ticks) - 0.5)
        elif panel.get("logx") and used:
            ax.set_xscale("log")
        if crosses:
            lo = ax.get_ylim()[0]
            ax.plot(crosses, [lo] * len(crosses), ls="none", marker="X", ms=10, color=DIVERGED_COLOR,
                    mec="white", clip_on=False, zorder=5)
        if not ours_any:
            ax.text(0.5, 0.04, "no run of ours at this profile", ha="center", va="bottom",
                    transform=ax.transAxes, color="0.4", fontsize=8)
        handles = [Line2D([], [], color=cmap[n], marker="s", ls="none") for n in used]
        if crosses:
            handles.append(Line2D([], [], color=DIVERGED_COLOR, marker="X", ls="none", mec="white"))
        ax.legend(handles, used + (["diverged"] if crosses else []), loc="best", fontsize=8)
        ax.set(title=panel["title"], xlabel=x.replace("_", " "), ylabel=ylabel)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    note = "solid lines with dots: this book" + (
        ";  open diamonds on dotted lines: the report" if reference is not None else "")
    fig.suptitle(f"{title}\n{note}" if title else note)
    return fig
