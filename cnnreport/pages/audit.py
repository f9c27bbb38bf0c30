"""The reproduction audit: each chapter's claims from the source reports, our
measurement and a verdict.

The verdict itself comes from a rule of :mod:`cnnreport.analysis.verdicts` (a number
claim, a comparison, an ordering, ...), which works on 95% intervals over seeds
(:mod:`cnnreport.core.stats`).  This module adds what depends on the page: a row whose runs
are not trained yet is "pending" and names the command that computes them; at a profile
that does not run the reports' own settings (``quick``, ``smoke``) a measured row says
"not comparable at this profile" and still shows what was measured and what the rule
would say.  At the full profile a row whose runs each have a seed stored is judged on the
seeds stored while the others train (an *interim* verdict, :meth:`Audit.interim`), where its
rule can judge one seed: on the spread of the report's noise runs.  Rows are saved as JSON
under ``<results>/audit/<chapter>.json`` so the final chapter can gather them.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Union

from ..core import stats as S
from ..analysis import verdicts as V
from ..core.cache import atomic_write_bytes
from ..core.store import flatten_results, seed_groups

REPRODUCED, NOT_REPRODUCED = S.REPRODUCED, S.NOT_REPRODUCED
HOLDS, CONTRADICTED, INCONCLUSIVE = S.HOLDS, S.CONTRADICTED, S.INCONCLUSIVE
BY_CONSTRUCTION, BY_EYE = S.BY_CONSTRUCTION, S.BY_EYE
NOT_COMPARABLE, FLAW = "not comparable at this profile", "method flaw noted"
PENDING = S.WAITING
COMPARABLE_PROFILES = ("full",)
# Every outcome a row can have, in the order the audit page counts them.
OUTCOMES = (REPRODUCED, HOLDS, NOT_REPRODUCED, CONTRADICTED, INCONCLUSIVE, PENDING, BY_CONSTRUCTION,
            BY_EYE, NOT_COMPARABLE, FLAW)
# Outcomes that no profile changes: they are never "not comparable".
_PROFILE_FREE = (BY_CONSTRUCTION, BY_EYE)
NOISE_COMMAND = "python -m cnnreport queue --profile full --tier 1 --noise"


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
    seeds_waiting: int = 0   # an interim verdict: the seed runs still to train that may change it


mean_std = S.mean_sd  # (mean, sd) of finite values; its one home is cnnreport.core.stats


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
    # (report, models) -> the Noise of that report's noise runs for these models; set by the
    # chapter, which knows the store.  None: a one-seed measurement has no noise and waits.
    noise_lookup: Optional[Callable[[str, Sequence[str]], S.Noise]] = None

    @property
    def comparable(self) -> bool:
        return self.profile in COMPARABLE_PROFILES

    def pending_reason(self, needs: Any, noise: Optional[S.Noise] = None, every_seed: bool = False) -> str:
        """How many runs the row waits for and how they are computed: the GPU queue, unless
        the placeholders name their own way (the NumPy runs compute on a CPU).  ``every_seed``:
        the row's rule reads each seed on its own, with no pooled noise to borrow, so while
        some of its seeds are stored the reason says that it waits for all of them."""
        results = list(flatten_results(needs))
        waiting = [r for r in results if r.pending]
        parts = []
        if waiting:
            stored = len(results) - len(waiting)
            why = (f" ({stored} of {len(results)} seed runs stored; its rule reads every seed on its own, with no "
                   f"pooled noise to borrow, so it waits for all)" if every_seed and stored and self.comparable else "")
            parts.append(f"waits for {len(waiting)} run(s) not trained yet{why}: "
                         f"{how_to_compute(waiting, self.profile, self.chapter)}")
        if noise is not None and not noise.known:
            n = len(noise.waiting)
            parts.append(f"one seed, and the noise runs that give its spread are not stored "
                         f"({noise.source or 'none named'}{f'; {n} run(s)' if n else ''}): {NOISE_COMMAND}")
        return "; ".join(parts)

    def noise_for(self, report: str, needs: Any) -> Optional[S.Noise]:
        """The noise of ``report`` for the models of ``needs`` (the chapter's lookup)."""
        if self.noise_lookup is None:
            return None
        models = sorted({str(r.config.get("model")) for r in flatten_results(needs)
                         if getattr(r, "config", None)})
        return self.noise_lookup(report, models)

    def verdict(self, report: str, claim: str, claimed: str, found: V.Verdict, needs: Any = None,
                needs_full: bool = True, noise: Optional[S.Noise] = None,
                interim: Optional[bool] = None) -> AuditRow:
        """Show a rule's :class:`~cnnreport.analysis.verdicts.Verdict` as a row: pending while
        a run in ``needs`` (or a noise run a one-seed measurement borrows) is not trained,
        unless the row can be judged on the seeds stored (:meth:`interim`; ``interim``: whether
        the rule reads one seed against borrowed noise, by default when it was given
        ``noise``), "not comparable" at a shortened profile (unless ``needs_full`` is False),
        else the rule's outcome."""
        measured, reason, outcome = found.measured, found.reason, found.outcome
        waiting = 0
        if found.outcome in _PROFILE_FREE:
            pass
        elif _any_pending(needs):
            reads_one_seed = noise is not None if interim is None else interim
            waiting = self.interim(needs, found, noise, reads_one_seed)
            if waiting:
                reason = "; ".join(p for p in (reason, self.interim_reason(needs)) if p)
            else:
                # the noise runs are named when they are all that keeps a one-seed reading waiting
                blocked = noise if reads_one_seed and _each_run_has_a_seed(needs) else None
                outcome, reason = PENDING, self.pending_reason(needs, blocked, every_seed=not reads_one_seed)
                measured = "pending" if not found.n else f"{measured} (partial)"
        elif needs_full and not self.comparable:
            would = "waits for noise runs" if found.outcome == PENDING else f"reads {found.outcome!r}"
            reason = f"{self.profile} profile runs shortened settings; the rule {would} here, judged only at full"
            outcome = NOT_COMPARABLE
        elif found.outcome == PENDING:
            reason = self.pending_reason(needs, noise if noise is not None else S.Noise())
        return self._add(report, claim, claimed, measured, outcome, reason, found.n, waiting)

    def interim(self, needs: Any, found: V.Verdict, noise: Optional[S.Noise], reads_one_seed: bool) -> int:
        """How many seed runs of ``needs`` an interim verdict leaves to train (0: the row
        waits).  A row is judged before all its seeds are stored only at a comparable
        profile, by a rule that reads one seed against borrowed noise (``reads_one_seed``; a
        curve's shape borrows nothing and waits for its seeds), when the rule could judge
        (``found`` is not waiting), every run in ``needs`` has a seed stored, and a run with
        one seed stored has known ``noise`` to borrow."""
        if not (self.comparable and reads_one_seed) or found.outcome == PENDING:
            return 0
        stored = _stored_per_run(needs)
        if not stored or min(stored) == 0 or (min(stored) == 1 and not (noise is not None and noise.known)):
            return 0
        return sum(1 for r in flatten_results(needs) if r.pending)

    def interim_reason(self, needs: Any) -> str:
        """The reason's note on an interim verdict: the seeds it rests on and the command
        that trains the others."""
        results = list(flatten_results(needs))
        waiting = [r for r in results if r.pending]
        return (f"interim, on {len(results) - len(waiting)} of {len(results)} seed runs; "
                f"{len(waiting)} still to train may change it: "
                f"{how_to_compute(waiting, self.profile, self.chapter)}")

    def number(self, report: str, claim: str, claimed: float, measured: Sequence[float],
               tolerance: float, unit: str = "%", why_not: str = "", needs: Any = None,
               noise: Optional[S.Noise] = None) -> AuditRow:
        """A numeric claim (:func:`~cnnreport.analysis.verdicts.number_claim`).

        ``needs``: the results (a list, or ``{label: [results]}``) the measurement comes
        from; if any is pending the verdict is "pending".  ``noise``: the spread a one-seed
        measurement borrows (default: the chapter's noise runs of this report and model)."""
        noise = self._noise_if_needed(report, needs, noise, measured)
        found = V.number_claim(measured, claimed, tolerance, noise, unit)
        if found.outcome == NOT_REPRODUCED and why_not:
            found = V.Verdict(found.outcome, found.measured, why_not, found.n)
        return self.verdict(report, claim, f"{claimed:g}{unit}", found, needs, noise=noise, interim=True)

    def compare(self, report: str, claim: str, better: V.Named, worse: V.Named, claimed: str = "",
                needs: Any = None, margin: float = 0.0, noise: Optional[S.Noise] = None) -> AuditRow:
        """A comparison "``better`` beats ``worse``" (:func:`~cnnreport.analysis.verdicts.comparison`),
        each a ``(label, accuracies)`` pair."""
        noise = self._noise_if_needed(report, needs, noise, better[1], worse[1])
        found = V.comparison(better, worse, noise, margin)
        return self.verdict(report, claim, claimed or f"{better[0]} > {worse[0]}", found, needs, noise=noise,
                            interim=True)

    def _noise_if_needed(self, report, needs, noise, *groups):
        """``noise``, else the chapter's noise of this report when some group has one seed."""
        if noise is None and any(len(S.finite(g)) == 1 for g in groups):
            noise = self.noise_for(report, needs)
        return noise

    def check(self, report: str, claim: str, holds: Optional[bool], measured: str, reason: str = "",
              claimed: str = "", n_runs: int = 0, needs_full: bool = True, needs: Any = None) -> AuditRow:
        """A qualitative claim that a computed test decides (``holds``: the claim holds, is
        contradicted, or ``None`` when it cannot be judged).  ``needs`` as in :meth:`number`."""
        if _any_pending(needs):
            verdict, reason, measured = PENDING, self.pending_reason(needs), "pending"
        elif holds is None:
            verdict = NOT_COMPARABLE
        elif needs_full and not self.comparable:
            verdict = NOT_COMPARABLE
            reason = f"{reason}; " if reason else ""
            reason += f"{'holds' if holds else 'does not hold'} at the {self.profile} profile, judged only at full"
        else:
            verdict = HOLDS if holds else CONTRADICTED
        return self._add(report, claim, claimed or "(qualitative)", measured, verdict, reason, n_runs)

    def flaw(self, report: str, claim: str, what_we_do: str) -> AuditRow:
        """A method flaw or self-contradiction in a report, recorded as such."""
        return self._add(report, claim, "(method)", what_we_do, FLAW, "", 0)

    def _add(self, report, claim, claimed, measured, verdict, reason, n, waiting: int = 0) -> AuditRow:
        row = AuditRow(self.chapter, str(report), claim, claimed, measured, verdict, reason,
                       self.profile, n, waiting)
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


def rules_markdown() -> str:
    """The verdict rules as a Markdown list, one item per rule of :data:`analysis.verdicts.RULES`
    (their one home), for the audit page."""
    return "\n".join(f"* **{title}** {text}" for title, text in V.RULES.values())


def load_rows(root: Union[str, Path], order: Sequence[str] = ()) -> List[AuditRow]:
    """All saved audit rows under ``<root>/audit``, chapters in ``order`` first."""
    files = sorted((Path(root) / "audit").glob("*.json"))
    rank = {c: i for i, c in enumerate(order)}
    files.sort(key=lambda p: (rank.get(p.stem, len(rank)), p.stem))
    rows = []
    for p in files:
        rows += [AuditRow(**r) for r in json.loads(p.read_text())]
    return rows


def outcome_counts(rows: Sequence[AuditRow]):
    """Rows per report (index, "000" ..) and outcome (columns, in :data:`OUTCOMES` order,
    only those that occur), as a DataFrame of ints.  A row that names several reports
    ("000, 001") counts once for each."""
    import pandas as pd
    pairs = [(rep.strip(), r.verdict) for r in rows for rep in str(r.report).split(",")]
    if not pairs:
        return pd.DataFrame()
    frame = pd.DataFrame(pairs, columns=["report", "outcome"])
    counts = pd.crosstab(frame["report"], frame["outcome"])
    cols = [o for o in OUTCOMES if o in counts.columns] + sorted(set(counts.columns) - set(OUTCOMES))
    return counts[cols].sort_index()


def interim_rows(rows: Sequence[AuditRow]) -> int:
    """How many rows carry an interim verdict (judged while some of their seeds train)."""
    return sum(1 for r in rows if r.seeds_waiting)


def summary_sentence(counts, profile: str, interim: int = 0) -> str:
    """The audit in two sentences: how many claims held, did not, are inconclusive or wait,
    in all and per report; ``interim``: how many of the judged rows rest on part of their
    seeds (:func:`interim_rows`)."""
    if counts is None or not len(counts):
        return f"No chapter has saved audit rows at the {profile} profile yet."

    def tally(get):
        return (get(REPRODUCED) + get(HOLDS), get(NOT_REPRODUCED) + get(CONTRADICTED), get(INCONCLUSIVE),
                get(PENDING))
    total = tally(lambda o: int(counts[o].sum()) if o in counts.columns else 0)
    other = {o: int(counts[o].sum()) if o in counts.columns else 0
             for o in (BY_CONSTRUCTION, BY_EYE, NOT_COMPARABLE, FLAW)}
    per = "; ".join(f"{rep} {'/'.join(map(str, tally(lambda o: int(row.get(o, 0)))))}"
                    for rep, row in counts.iterrows())
    return (f"At the {profile} profile the audit has {int(counts.to_numpy().sum())} rows. Held: {total[0]}; "
            f"did not hold: {total[1]}; inconclusive at our seeds: {total[2]}; waiting for runs: {total[3]}; "
            f"matching by construction: {other[BY_CONSTRUCTION]}; judged by eye: {other[BY_EYE]}; "
            f"not comparable at this profile: {other[NOT_COMPARABLE]}; method flaws noted: {other[FLAW]}. "
            + (f"{interim} of the judged rows are interim: they rest on the seeds stored so far, and "
               f"their other seeds are still to train. " if interim else "")
            + f"Per report (held / did not / inconclusive / waiting): {per}.")


_COLOURS = {REPRODUCED: "#d4edda", HOLDS: "#d4edda", NOT_REPRODUCED: "#f8d7da", CONTRADICTED: "#f8d7da",
            INCONCLUSIVE: "#f3e5f5", NOT_COMPARABLE: "#e2e3e5", FLAW: "#fff3cd", PENDING: "#dbe9f6",
            BY_CONSTRUCTION: "#e8f4ea", BY_EYE: "#fdf3e6"}


def how_to_compute(waiting: Sequence[Any], profile: str, chapter: str) -> str:
    """The command that computes these pending runs: the GPU queue, unless the placeholders
    name their own way (the NumPy runs compute on a CPU)."""
    own = sorted({getattr(r, "reason", "") for r in waiting} - {""})
    if not own or any("cnnreport queue" in o for o in own):
        return f"python -m cnnreport queue --profile {profile} --chapters {chapter}"
    return "; ".join(own)


def _any_pending(items: Any) -> bool:
    return any(r.pending for r in flatten_results(items))


def _stored_per_run(items: Any) -> List[int]:
    """How many seeds of each run in ``items`` are stored."""
    return [sum(not r.pending for r in g) for g in seed_groups(items).values()]


def _each_run_has_a_seed(items: Any) -> bool:
    stored = _stored_per_run(items)
    return bool(stored) and min(stored) > 0


AUDIT_ANCHOR = "audit-table"  # the id before each chapter's own audit table, which the audit page links to


def audit_html(rows: Sequence[AuditRow], with_chapter: bool = False) -> str:
    """An HTML table with the verdict cells coloured.  ``with_chapter``: a first column
    linking each row to its chapter's audit table (pages of one folder link by name).
    Without it the table is a chapter's own, preceded by the anchor those links point at."""
    import html
    head = (["chapter"] if with_chapter else []) + ["report", "claim", "claimed", "measured", "verdict", "reason"]
    out = [] if with_chapter else [f'<a id="{AUDIT_ANCHOR}"></a>']
    cls = "audit-table by-chapter" if with_chapter else "audit-table"  # book/_static/cnnreport.css
    out.append(f'<table class="{cls}"><thead><tr>' + "".join(f"<th>{h}</th>" for h in head)
               + "</tr></thead><tbody>")
    for r in rows:
        link = (f'<td><a href="{html.escape(r.chapter)}.html#{AUDIT_ANCHOR}">{html.escape(r.chapter)}</a></td>'
                if with_chapter else "")
        cells = [r.report, r.claim, r.claimed, r.measured]
        tds = link + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        tds += f'<td style="background:{_COLOURS.get(r.verdict, "#fff")}">{html.escape(r.verdict)}</td>'
        tds += f"<td>{html.escape(r.reason)}</td>"
        out.append(f"<tr>{tds}</tr>")
    out.append("</tbody></table>")
    return "".join(out)
