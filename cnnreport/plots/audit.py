"""The audit at a glance: rows per report, stacked by outcome.

:func:`outcome_bars` reads a table of counts (reports as rows, outcomes as columns, as
:func:`cnnreport.pages.audit.outcome_counts` gives it), so the first page and the audit page draw
the same figure from the same numbers.
"""
from __future__ import annotations

from typing import Mapping, Optional

import numpy as np

from .style import new_figure, styled

# One colour per outcome: green for what held, red for what did not, grey and blue for what
# no verdict was reached on; the page's table cells use the same families.
OUTCOME_COLORS: Mapping[str, str] = {
    "reproduced": "#2e7d32", "holds": "#66bb6a", "not reproduced": "#c62828", "contradicted": "#ef5350",
    "inconclusive": "#ab47bc", "pending": "#64b5f6", "matches by construction": "#a5d6a7",
    "judged by eye": "#ffb74d", "not comparable at this profile": "#bdbdbd", "method flaw noted": "#fff176",
}


@styled
def outcome_bars(counts, *, title: Optional[str] = None, size=None):
    """Horizontal bars, one per report (the index of ``counts``), stacked by outcome (its
    columns, in their order); each segment is labelled with its count."""
    reports = [str(r) for r in counts.index]
    fig, ax = new_figure(size=size or (8, 0.55 * len(reports) + 1.6))
    left = np.zeros(len(reports))
    for outcome in counts.columns:
        values = counts[outcome].to_numpy(dtype=float)
        if not values.any():
            continue
        bars = ax.barh(reports, values, left=left, label=f"{outcome} ({int(values.sum())})",
                       color=OUTCOME_COLORS.get(outcome, "#90a4ae"), edgecolor="white")
        for rect, v in zip(bars, values):
            if v >= 2:
                ax.text(rect.get_x() + rect.get_width() / 2, rect.get_y() + rect.get_height() / 2,
                        f"{int(v)}", ha="center", va="center", fontsize=8)
        left += values
    ax.invert_yaxis()
    ax.set_xlabel("audit rows")
    ax.set_ylabel("report")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return fig
