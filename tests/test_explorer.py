"""The explorer widget, the results table and the static figure switcher on synthetic runs."""
import math

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere in this process

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from cnnreport import plots  # noqa: E402
from cnnreport.pages.explorer import Explorer, results_table, static_figure_switcher  # noqa: E402
from synthetic_runs import no_pyplot_leaks, runs, store  # noqa: E402,F401 (fixtures)


def test_results_table(runs):
    df = results_table(runs)
    assert list(df["status"]) == ["ok", "ok", "diverged"]
    assert df["test acc (%)"].iloc[0] == pytest.approx(100 * runs[0].test_acc, abs=0.01)
    assert math.isnan(df["test acc (%)"].iloc[2]) and df["params"].iloc[1] == 200_000
    df = results_table(runs, columns=("run", "model_args.activation", "augment", "lr", "key"))
    assert list(df.columns) == ["run", "model_args.activation", "augment", "lr", "key"]
    assert df["model_args.activation"].iloc[0] == "relu" and df["lr"].iloc[2] == 0.1


def test_results_table_reads_the_last_epoch_and_refuses_an_unknown_column(runs):
    runs[0].final_test_acc = 0.8123  # after the last epoch; test_acc is the selected epoch's
    df = results_table(runs, columns=("run", "test_acc", "final_test_acc"))
    assert df["test acc, last epoch (%)"].iloc[0] == 81.23
    assert df["test acc (%)"].iloc[0] == pytest.approx(100 * runs[0].test_acc, abs=0.01)
    with pytest.raises(ValueError, match=r"unknown column\(s\) \['final_test_accuracy'\].*final_test_acc"):
        results_table(runs, columns=("run", "final_test_accuracy"))


def test_explorer(store):
    ex = Explorer(store)
    assert set(ex.filters) == {"name", "optimizer", "lr", "model_args.activation", "seed"}
    assert [o[1] for o in ex.filters["optimizer"].options] == [None, "adam", "sgd"]
    assert [o[1] for o in ex.filters["lr"].options] == [None, "0.001", "0.01", "0.1"]  # numeric order
    assert len(ex.selected) == 4 and len(ex.out.outputs) == 1
    assert "4 of 4" in ex.count.value and ex.table.value.count("<tr") == 5
    # the synthetic configs leave "schedule" unset: a Python None, shown as the page's dash
    assert "<td>None</td>" not in ex.table.value and "<td>–</td>" in ex.table.value
    ex.set_filter("optimizer", "adam")
    assert {r.key for r in ex.selected} == {"k2", "k3", "k4"} and len(ex.runs.options) == 3
    ex.filters["name"].value = "ch2"
    assert {r.key for r in ex.matching} == {"k2", "k3"}
    ex.runs.value = (ex.runs.options[0][1],)  # untick one run
    assert len(ex.selected) == 1 and ex.table.value.count("<tr") == 2
    ex.metric.value = "train_loss"
    ex.set_filter("lr", 0.1)  # nothing left
    assert ex.selected == [] and "No run" in str(ex.out.outputs)
    ex.set_filter("lr", None)
    ex.set_filter("name", None)
    assert len(ex.selected) == 3
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert ex.widget.children[-1] is ex.table
    assert "Explorer(4 runs" in repr(Explorer(list(store), metric="step_loss"))


def test_static_figure_switcher(runs):
    import ipywidgets as W
    from ipywidgets.widgets.widget_link import Link
    figs = {"loss": plots.training_curves(runs, metrics=("loss",)),
            "acc": plots.training_curves(runs, metrics=("acc",))}
    managed = plt.figure()  # a pyplot figure: the switcher must close it
    figs["pyplot"] = managed
    box = static_figure_switcher(figs, description="view")
    sel, stack = box.children
    assert isinstance(stack, W.Stack) and len(stack.children) == 3 and stack.selected_index == 0
    assert all('src="data:image/png;base64,' in c.value for c in stack.children)
    assert [o[0] for o in sel.options] == ["loss", "acc", "pyplot"]
    link = box.link
    assert isinstance(link, Link)
    assert link.source == (sel, "index") and link.target == (stack, "selected_index")
    assert not plt.fignum_exists(managed.number)
    slider = static_figure_switcher({"a": plots.lr_curves({"x": [1, 2]})}, kind="slider")
    assert isinstance(slider.children[0], W.SelectionSlider)
    with pytest.raises(ValueError):
        static_figure_switcher({})
