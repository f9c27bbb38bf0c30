"""Interactive views of stored results, and a figure switcher that works without a kernel.

* :class:`Explorer` is a live ipywidgets UI over a :class:`~cnnreport.core.store.ResultStore`
  (or a list of Results): one dropdown per config field that varies across the runs,
  a run list, a metric selector, the selected runs' curves and a table of final numbers.
  It needs a kernel; in the static book its first state is what the reader sees.
* :func:`static_figure_switcher` is for the static HTML: the figures are baked in as
  PNGs and the dropdown switches between them in the browser through ``jslink``, so it
  keeps working from the widget state saved in the notebook.
* :func:`results_table` is the table of key numbers, as a pandas DataFrame.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ..analysis.readings import last_epoch_test
from ..core.config import EXECUTION_FIELDS, RunConfig, provenance
from ..plots.style import (as_list, fig_to_png, flat_config, fmt_value, png_img_tag, run_labels,
                          varying_fields)
from .tables import table


def _percent(fraction: Optional[float]) -> Optional[float]:
    return None if fraction is None else round(100 * fraction, 2)


# name -> (column header, getter).  Accuracies in percent, times in seconds.
_COLUMNS: Dict[str, tuple] = {
    "status": ("status", lambda r: r.status),
    "test_acc": ("test acc (%)", lambda r: _percent(r.test_acc)),
    # after the last epoch (test_acc is the selected epoch's where a validation split selects one)
    "final_test_acc": ("test acc, last epoch (%)", lambda r: _percent(last_epoch_test(r))),
    "best_val_acc": ("best val acc (%)", lambda r: _percent(r.best_val_acc)),
    "best_epoch": ("best epoch", lambda r: r.best_epoch),
    "stopped_epoch": ("epochs run", lambda r: r.stopped_epoch),
    "num_params": ("params", lambda r: r.num_params),
    "train_time": ("train time (s)", lambda r: None if r.train_time is None else round(r.train_time, 1)),
    "total_time": ("total time (s)", lambda r: None if r.total_time is None else round(r.total_time, 1)),
    "reason": ("note", lambda r: r.reason),
    "key": ("key", lambda r: r.key),
}
DEFAULT_COLUMNS = ("run", "dataset", "model", "optimizer", "lr", "schedule", "epochs", "status",
                   "test_acc", "best_val_acc", "best_epoch", "num_params", "train_time")

# Config fields never offered as filters: they say how a run was executed, not what it was.
# ``chapter`` is offered (see ``_flat``), read with ``config.provenance`` so results stored
# before the field existed are sorted into their chapter too.
_NOT_FILTERS = set(EXECUTION_FIELDS) - {"name"}
# Filters in this order first (the chapter leads), then any other varying field.
_FILTER_ORDER = ("chapter", "name", "dataset", "model", "model_args.activation", "model_args.width",
                 "optimizer", "lr", "schedule", "loss", "batch_size", "epochs", "augment",
                 "weight_decay", "momentum", "seed")
_METRICS = ("val_acc", "train_acc", "test_acc_curve", "val_loss", "train_loss", "lr",
            "epoch_time", "images_per_sec", "step_loss", "step_lr")


def results_table(results, columns: Sequence[str] = DEFAULT_COLUMNS,
                  labels: Optional[Sequence[str]] = None):
    """A DataFrame with one row per run.  ``columns`` may name a Result number (see
    ``_COLUMNS``: test_acc, best_epoch, num_params, train_time, ...), ``run`` (the legend
    label) or any config field, nested ones dotted (``model_args.activation``)."""
    import pandas as pd
    results = as_list(results)
    labs = run_labels(results, labels) if results else []
    flats = [flat_config(r.config) for r in results]
    fields = {f.name for f in dataclasses.fields(RunConfig)}  # a field left at its default may be absent
    unknown = [c for c in columns if c != "run" and c not in _COLUMNS and c.split(".")[0] not in fields
               and not any(c in f for f in flats)]
    if unknown:  # a misspelt column would otherwise be a column of blanks
        raise ValueError(f"results_table: unknown column(s) {unknown}; a column is 'run', a result's "
                         f"number ({', '.join(_COLUMNS)}) or a config field of the runs")
    rows = []
    for r, lab, flat in zip(results, labs, flats):
        row = {}
        for col in columns:
            if col == "run":
                row["run"] = lab
            elif col in _COLUMNS:
                head, get = _COLUMNS[col]
                row[head] = get(r)
            elif col in r.config:  # plain values stay numbers so the frame sorts right
                v = r.config[col]
                row[col] = v if isinstance(v, (int, float, str, type(None))) else fmt_value(v)
            else:
                row[col] = flat.get(col)
        rows.append(row)
    heads = [("run" if c == "run" else _COLUMNS[c][0] if c in _COLUMNS else c) for c in columns]
    return pd.DataFrame(rows, columns=heads)


def _flat(result) -> Dict[str, str]:
    """A result's flattened config with its chapter ("-" for none) as a field."""
    flat = flat_config(result.config)
    flat["chapter"] = provenance(result.config)[0] or "-"
    return flat


def _sort_key(text: str):
    """Numbers in numeric order before words in alphabetical order."""
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


class Explorer:
    """Filter, overlay and tabulate stored runs.

    >>> ex = Explorer(ResultStore("results"))   # or Explorer([result, ...])
    >>> ex                                      # displays the UI in Jupyter
    >>> ex.filters["optimizer"].value = "adam"  # what the dropdown does
    >>> ex.selected                             # Results now overlaid
    """

    def __init__(self, store_or_results, *, metric: str = "val_acc",
                 fields: Optional[Sequence[str]] = None, table_columns: Sequence[str] = DEFAULT_COLUMNS):
        import ipywidgets as W
        self._source = store_or_results
        self.table_columns = tuple(table_columns)
        self.results: List[Any] = []
        self._flat: List[Dict[str, str]] = []
        self.filters: Dict[str, Any] = {}
        self.metric = W.Dropdown(description="metric", options=list(_METRICS), value=metric,
                                 layout=W.Layout(width="260px"))
        self.runs = W.SelectMultiple(description="runs", rows=6, layout=W.Layout(width="auto", min_width="420px"))
        self.out = W.Output(layout=W.Layout(min_height="300px"))
        self.table = W.HTML()
        self.count = W.HTML()
        self._filter_box = W.GridBox(layout=W.Layout(
            grid_template_columns="repeat(auto-fill, minmax(250px, 1fr))"))  # wraps to the page width
        self._busy = False  # set while options are rebuilt, so observers do not redraw per change
        self.metric.observe(lambda _: self._redraw(), names="value")
        self.runs.observe(lambda _: self._redraw(), names="value")
        self.widget = W.VBox([self._filter_box, self.count, W.HBox([self.metric, self.runs]),
                              self.out, self.table])
        self._fields_arg = list(fields) if fields is not None else None
        self.reload()

    # -- data ------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the store again (new runs appear) and rebuild the filters."""
        import ipywidgets as W
        self.results = as_list(self._source)
        self._flat = [_flat(r) for r in self.results]
        fields = self._fields_arg or self._varying()
        self.filters = {}
        for f in fields:
            vals = sorted({fl.get(f, "-") for fl in self._flat}, key=_sort_key)
            dd = W.Dropdown(description=f.split(".")[-1], options=[("(all)", None)] + [(v, v) for v in vals],
                            value=None, layout=W.Layout(width="95%"),
                            style={"description_width": "90px"}, tooltip=f)
            dd.observe(lambda _: self._refilter(), names="value")
            self.filters[f] = dd
        self._filter_box.children = list(self.filters.values())
        self._refilter()

    def _varying(self) -> List[str]:
        found = varying_fields(self.results, skip=_NOT_FILTERS)
        if len({fl["chapter"] for fl in self._flat}) > 1:
            found = ["chapter"] + found
        return [f for f in _FILTER_ORDER if f in found] + [f for f in found if f not in _FILTER_ORDER]

    @property
    def matching(self) -> List[Any]:
        """Results passing every filter."""
        want = {f: dd.value for f, dd in self.filters.items() if dd.value is not None}
        return [r for r, fl in zip(self.results, self._flat)
                if all(fl.get(f, "-") == v for f, v in want.items())]

    @property
    def selected(self) -> List[Any]:
        """Results passing the filters and ticked in the run list (what is drawn)."""
        idx = set(self.runs.value)
        return [r for i, r in enumerate(self.results) if i in idx]

    def set_filter(self, field: str, value: Any) -> None:
        """Choose ``value`` (a config value or its text; None = all) for ``field``."""
        self.filters[field].value = None if value is None else fmt_value(value)

    # -- updates ---------------------------------------------------------------------
    def _refilter(self) -> None:
        ids = {id(r) for r in self.matching}
        idx = [i for i, r in enumerate(self.results) if id(r) in ids]
        labs = run_labels([self.results[i] for i in idx]) if idx else []
        self._busy = True
        try:  # new options, all ticked: narrowing a filter shows everything that is left
            self.runs.options = list(zip(labs, idx))
            self.runs.value = tuple(idx)
        finally:
            self._busy = False
        self.count.value = f"<small>{len(idx)} of {len(self.results)} runs match</small>"
        self._redraw()

    def _redraw(self) -> None:
        if self._busy:
            return
        import base64
        from .. import plots
        sel = self.selected
        # The output is written as one display_data message rather than through
        # ``with self.out: display(...)``: one state update (no flicker), and it also
        # works where no kernel captures display calls (tests, plain Python).
        if not sel:
            out = {"output_type": "stream", "name": "stdout", "text": "No run selected.\n"}
        else:
            fig = plots.metric_curves(sel, self.metric.value)
            png = base64.b64encode(fig_to_png(fig)).decode("ascii")
            out = {"output_type": "display_data", "metadata": {},
                   "data": {"image/png": png, "text/plain": f"<{self.metric.value} of {len(sel)} runs>"}}
        self.out.outputs = (out,)
        df = results_table(sel, self.table_columns)
        self.table.value = ('<div style="max-height:320px;overflow:auto;font-size:12px">'
                            + table(df, index=False).html(border=0) + "</div>")

    # -- display ---------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return f"Explorer({len(self.results)} runs, filters: {', '.join(self.filters) or 'none'})"


def static_figure_switcher(figures: Mapping[str, Any], description: str = "Figure:", *,
                           kind: str = "dropdown", dpi: int = 110, close: bool = True):
    """A VBox holding a selector and an ``ipywidgets.Stack`` of the figures as PNGs.

    The selector's ``index`` is joined to the Stack's ``selected_index`` with
    ``jslink``, which runs in the browser, so switching works in the static HTML with
    no kernel.  The figures are rendered once and then closed (``close=False`` keeps them).
    The link is kept on the box as ``box.link``.
    """
    import ipywidgets as W
    import matplotlib.pyplot as plt
    if not figures:
        raise ValueError("static_figure_switcher needs at least one figure")
    labels = [str(k) for k in figures]
    pages = []
    for lab, fig in figures.items():
        pages.append(W.HTML(value=png_img_tag(fig_to_png(fig, dpi=dpi), alt=str(lab))))
        if close:
            plt.close(fig)
    stack = W.Stack(children=pages, selected_index=0)
    opts = list(zip(labels, range(len(labels))))
    if kind == "dropdown":
        sel = W.Dropdown(options=opts, index=0, description=description,
                         style={"description_width": "initial"}, layout=W.Layout(width="max-content"))
    elif kind == "slider":
        sel = W.SelectionSlider(options=opts, index=0, description=description,
                                style={"description_width": "initial"}, layout=W.Layout(width="70%"))
    else:
        raise ValueError(f"kind must be 'dropdown' or 'slider', got {kind!r}")
    link = W.jslink((sel, "index"), (stack, "selected_index"))
    box = W.VBox([sel, stack])
    box.link = link  # keeps a handle for tests and for callers that want to unlink
    return box
