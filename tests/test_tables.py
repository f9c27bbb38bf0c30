"""pages.tables: a page's table shows a missing number as a dash, never as NaN or None."""
import math

import pandas as pd
import pytest

from cnnreport.pages.chapter import Chapter
from cnnreport.pages.tables import MISSING, table


def frame():
    # a pending run (no numbers, status says why), a diverged run (no test accuracy), a done run;
    # "params" is a column of Python objects, as results_table builds for a Result field that
    # pending runs leave None: pandas' own na_rep does not reach it
    runs = ["run 1", "run 3", "run 4"]
    return pd.DataFrame({"test acc (%)": [float("nan"), float("nan"), 91.25],
                         "epochs": [20, 20, 20],
                         "note": [None, "stuck at chance", None],
                         "best epoch": [None, None, 17],
                         "params": pd.Series([None, None, 1_234], index=runs, dtype=object),
                         "status": ["pending", "diverged", "ok"]}, index=runs)


def test_missing_numbers_read_as_the_dash_in_html_and_text():
    t = table(frame())
    html, text = t._repr_html_(), repr(t)
    for out in (html, text):
        assert "NaN" not in out and "None" not in out and "nan" not in out
        assert MISSING in out
    assert frame()["params"].dtype == object
    assert html.count(f"<td>{MISSING}</td>") == 2 * 4  # acc, note, best epoch and params, twice each
    # the numbers that exist print as pandas prints them, the run and status columns as they are
    assert "<td>91.25</td>" in html and "<td>17.0</td>" in html and "<td>1234</td>" in html
    assert "<th>run 3</th>" in html
    assert "<td>stuck at chance</td>" in html and "<td>pending</td>" in html


def test_the_frame_itself_is_left_as_it_was():
    f = frame()
    t = table(f, missing="n/a", index=False)
    assert t.frame is f and math.isnan(f.iloc[0, 0]) and f.loc["run 1", "params"] is None
    assert "n/a" in repr(t) and "run 1" not in repr(t)  # index dropped on request


def test_repeated_column_labels_and_a_chapter_shortcut():
    f = pd.DataFrame([[None, 1.0], ["x", float("nan")]], columns=["a", "a"])
    assert repr(Chapter.table(f)).split() == ["a", "a", MISSING, "1.0", "x", MISSING]  # row numbers hidden


def test_anything_but_a_dataframe_is_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"pandas DataFrame, got dict; wrap the values in pd.DataFrame"):
        table({"a": [1]})


def test_row_numbers_are_hidden_but_row_labels_shown():
    numbered = pd.DataFrame({"run": ["run 1", "run 2"], "test acc (%)": [91.2, 90.1]})
    html = table(numbered).html()
    assert "<th>0</th>" not in html and "<th>1</th>" not in html and "run 2" in html
    assert "<th>0</th>" in table(numbered, index=True).html()  # shown on request
    labelled = numbered.set_index("run")
    assert "run 2</th>" in table(labelled).html()
    assert "<th>5</th>" in table(numbered.set_axis([5, 6])).html()  # not pandas' row numbers
