"""How a page shows a table of numbers.

A chapter's table often has holes: a run still pending, a diverged run with no test
accuracy, a measure a profile does not make.  pandas prints such a cell as ``NaN`` or
``None``, which reads like a bug; :func:`table` prints :data:`MISSING` instead and leaves
every other cell as pandas formats it (the same digits per column as the plain frame).
The row's status column, where a table has one, says why the number is missing.
"""
from __future__ import annotations

from typing import Any, Optional

MISSING = "–"  # an en dash: a cell with no number


class Table:
    """A DataFrame shown with its missing cells as ``missing`` (HTML in a notebook, text
    elsewhere).  ``frame`` stays the DataFrame, for a chapter that reads it further."""

    def __init__(self, frame: Any, missing: str = MISSING, index: bool = True):
        self.frame, self.missing, self.index = frame, missing, index

    def _filled(self):
        # pandas' na_rep covers the numeric and string columns; a column of Python objects
        # prints None as "None", so its missing cells are replaced here (numbers keep their
        # column's formatting: only object columns are touched).
        f = self.frame.copy()
        for i, dtype in enumerate(f.dtypes):  # by position: column labels may repeat
            if dtype == object:
                col = f.iloc[:, i]
                f.iloc[:, i] = col.where(col.notna(), self.missing)
        return f

    def html(self, **to_html: Any) -> str:
        """The table as HTML; ``to_html``: further options of ``DataFrame.to_html``."""
        return self._filled().to_html(na_rep=self.missing, index=self.index, **to_html)

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return self._filled().to_string(na_rep=self.missing, index=self.index)


def table(frame: Any, missing: str = MISSING, index: Optional[bool] = None) -> Table:
    """``frame`` (a pandas DataFrame) as a page shows it: NaN and None read ``missing``.
    ``index``: whether the row labels are shown; by default they are, unless they are only
    pandas' row numbers 0, 1, 2, ... (an unnamed RangeIndex), which a reader cannot use.

    >>> display(table(pd.DataFrame({"test acc (%)": {"run 1": 91.2, "run 2": float("nan")}})))
    """
    import pandas as pd
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"table() shows a pandas DataFrame, got {type(frame).__name__}; "
                        f"wrap the values in pd.DataFrame(...) first")
    if index is None:
        plain = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None \
            and frame.index.start == 0 and frame.index.step == 1
        index = not plain
    return Table(frame, missing, index)
