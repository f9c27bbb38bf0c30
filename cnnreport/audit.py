"""The reproduction audit: each chapter's claims from the source reports, our
measurement and a verdict.

A quantitative claim (a number) is judged against the mean of our runs with a stated
tolerance, but only at a profile that runs the report's own settings (``full``): at
``quick`` and ``smoke`` the runs are shortened, so the row says "not comparable at this
profile" and still shows what was measured.  A qualitative claim (an ordering, "cat and
dog are the most confused pair") is judged by a check the chapter computes, with the
same profile caveat.  Rows are saved as JSON under ``<results>/audit/<chapter>.json`` so
the final chapter can gather them.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Sequence, Union

from .cache import atomic_write_bytes

REPRODUCED, NOT_REPRODUCED = "reproduced", "not reproduced"
NOT_COMPARABLE, FLAW = "not comparable at this profile", "method flaw noted"
PENDING = "pending"
COMPARABLE_PROFILES = ("full",)


@dataclass
class AuditRow:
    chapter: str
    report: str          # "000" .. "004"
    claim: str
    claimed: str         # the report's number or statement, as text
    measured: str        # ours, as text (mean +- std over n runs)
    verdict: str
    reason: str
    profile: str
    n_runs: int = 0


def mean_std(values: Sequence[float]) -> tuple:
    v = [float(x) for x in values if x is not None and math.isfinite(float(x))]
    if not v:
        return float("nan"), float("nan")
    m = sum(v) / len(v)
    s = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    return m, s


def fmt_mean_std(values: Sequence[float], unit: str = "%", digits: int = 2) -> str:
    m, s = mean_std(values)
    if math.isnan(m):
        return "no finished run"
    n = len([x for x in values if x is not None])
    return f"{m:.{digits}f} ± {s:.{digits}f}{unit} (n={n})" if n > 1 else f"{m:.{digits}f}{unit} (n=1)"


@dataclass
class Audit:
    """Collects one chapter's audit rows."""

    chapter: str
    profile: str
    rows: List[AuditRow] = field(default_factory=list)

    @property
    def comparable(self) -> bool:
        return self.profile in COMPARABLE_PROFILES

    def pending_reason(self, needs: Any) -> str:
        """How many runs the row waits for and how they are computed: the GPU queue, unless
        the placeholders name their own way (the NumPy runs compute on a CPU)."""
        waiting = [r for r in flatten_results(needs) if r.pending]
        return (f"waits for {len(waiting)} run(s) not trained yet: "
                f"{how_to_compute(waiting, self.profile, self.chapter)}")

    def number(self, report: str, claim: str, claimed: float, measured: Sequence[float],
               tolerance: float, unit: str = "%", why_not: str = "", needs: Any = None) -> AuditRow:
        """A numeric claim, reproduced when ``|mean - claimed| <= tolerance``.

        ``needs``: the results (a list, or ``{label: [results]}``) the measurement comes
        from; if any is pending the verdict is "pending"."""
        m, s = mean_std(measured)
        text = fmt_mean_std(measured, unit)
        if _any_pending(needs):
            verdict, reason = PENDING, self.pending_reason(needs)
            text = "pending" if math.isnan(m) else f"{text} (partial)"
        elif not self.comparable:
            verdict, reason = NOT_COMPARABLE, f"{self.profile} profile runs shortened settings"
        elif math.isnan(m):
            verdict, reason = NOT_REPRODUCED, why_not or "no run finished (diverged)"
        elif abs(m - claimed) <= tolerance:
            verdict, reason = REPRODUCED, f"within ±{tolerance:g}{unit} of {claimed:g}{unit}"
        else:
            verdict = NOT_REPRODUCED
            reason = why_not or f"{m - claimed:+.2f}{unit} from the claim, tolerance ±{tolerance:g}{unit}"
        return self._add(report, claim, f"{claimed:g}{unit}", text, verdict, reason, len(measured))

    def check(self, report: str, claim: str, holds: Optional[bool], measured: str, reason: str = "",
              claimed: str = "", n_runs: int = 0, needs_full: bool = True, needs: Any = None) -> AuditRow:
        """A qualitative claim; ``holds=None`` when it cannot be judged.  ``needs`` as in
        :meth:`number`."""
        if _any_pending(needs):
            verdict, reason, measured = PENDING, self.pending_reason(needs), "pending"
        elif holds is None:
            verdict = NOT_COMPARABLE
        elif needs_full and not self.comparable:
            verdict = NOT_COMPARABLE
            reason = f"{reason}; " if reason else ""
            reason += f"{'holds' if holds else 'does not hold'} at the {self.profile} profile, judged only at full"
        else:
            verdict = REPRODUCED if holds else NOT_REPRODUCED
        return self._add(report, claim, claimed or "(qualitative)", measured, verdict, reason, n_runs)

    def flaw(self, report: str, claim: str, what_we_do: str) -> AuditRow:
        """A method flaw or self-contradiction in a report, recorded as such."""
        return self._add(report, claim, "(method)", what_we_do, FLAW, "", 0)

    def _add(self, report, claim, claimed, measured, verdict, reason, n) -> AuditRow:
        row = AuditRow(self.chapter, str(report), claim, claimed, measured, verdict, reason,
                       self.profile, n)
        self.rows.append(row)
        return row

    # -- output ----------------------------------------------------------------------
    def frame(self):
        import pandas as pd
        cols = ["report", "claim", "claimed", "measured", "verdict", "reason"]
        return pd.DataFrame([asdict(r) for r in self.rows], columns=cols + ["chapter", "profile", "n_runs"])[cols]

    def save(self, root: Union[str, Path]) -> Path:
        path = Path(root) / "audit" / f"{self.chapter}.json"
        atomic_write_bytes(path, json.dumps([asdict(r) for r in self.rows], indent=1).encode())
        return path

    def _repr_html_(self) -> str:
        return audit_html(self.rows)


def load_rows(root: Union[str, Path], order: Sequence[str] = ()) -> List[AuditRow]:
    """All saved audit rows under ``<root>/audit``, chapters in ``order`` first."""
    files = sorted((Path(root) / "audit").glob("*.json"))
    rank = {c: i for i, c in enumerate(order)}
    files.sort(key=lambda p: (rank.get(p.stem, len(rank)), p.stem))
    rows = []
    for p in files:
        rows += [AuditRow(**r) for r in json.loads(p.read_text())]
    return rows


_COLOURS = {REPRODUCED: "#d4edda", NOT_REPRODUCED: "#f8d7da", NOT_COMPARABLE: "#e2e3e5", FLAW: "#fff3cd",
            PENDING: "#dbe9f6"}


def flatten_results(items: Any):
    """Every result (an object with a ``pending`` attribute) in nested lists, tuples and
    dicts such as ``{label: [Result per seed]}``."""
    if items is None:
        return
    if hasattr(items, "pending"):
        yield items
    elif isinstance(items, dict):
        for v in items.values():
            yield from flatten_results(v)
    elif isinstance(items, (list, tuple)):
        for v in items:
            yield from flatten_results(v)


def how_to_compute(waiting: Sequence[Any], profile: str, chapter: str) -> str:
    """The command that computes these pending runs: the GPU queue, unless the placeholders
    name their own way (the NumPy runs compute on a CPU)."""
    own = sorted({getattr(r, "reason", "") for r in waiting} - {""})
    if not own or any("cnnreport.queue" in o for o in own):
        return f"python -m cnnreport.queue --profile {profile} --chapters {chapter}"
    return "; ".join(own)


def _any_pending(items: Any) -> bool:
    return any(r.pending for r in flatten_results(items))


def audit_html(rows: Sequence[AuditRow], with_chapter: bool = False) -> str:
    """An HTML table with the verdict cells coloured."""
    import html
    head = (["chapter"] if with_chapter else []) + ["report", "claim", "claimed", "measured", "verdict", "reason"]
    out = ['<table class="audit-table"><thead><tr>' + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    for r in rows:
        cells = ([r.chapter] if with_chapter else []) + [r.report, r.claim, r.claimed, r.measured]
        tds = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        tds += f'<td style="background:{_COLOURS.get(r.verdict, "#fff")}">{html.escape(r.verdict)}</td>'
        tds += f"<td>{html.escape(r.reason)}</td>"
        out.append(f"<tr>{tds}</tr>")
    out.append("</tbody></table>")
    return "".join(out)
