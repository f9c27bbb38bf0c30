"""What a chapter notebook uses: its results store, runs with progress, glue and audit.

A chapter's experiment stays a few lines::

    ch = Chapter("architectures", params=globals())   # the values of its parameters cell
    runs = ch.experiments("000")                       # {label: [Result per seed]}
    ch.glue("basic_acc", ch.acc(runs["BasicCNN"]))

The runs themselves are defined in :mod:`cnnreport.experiments`.  Every run goes through
:func:`cnnreport.core.runs.run_or_load`, so a rebuild with results present trains nothing.

At the full profile a machine without a GPU trains nothing unless asked
(``CNNREPORT_TRAIN=1``, set by ``python -m cnnreport book --train``): a run that is not
stored comes back as a pending placeholder (``Result.pending``), its audit rows say
"pending", and :mod:`cnnreport.compute.queue` computes it on a GPU.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from ..core.paths import PROFILES, results_root
from ..analysis import readings as R
from .audit import Audit, flatten_results, fmt_mean_std
from .tables import table as _table
from ..core.runs import run_or_load
from ..core.store import Result, ResultStore


def _config(cfg):
    from ..core.config import RunConfig
    return RunConfig.from_dict(cfg)

PROFILE_TEXT = {
    "smoke": "the **smoke** profile: tiny subsets and one or two epochs, to check that the page "
             "builds. Its numbers mean nothing about the claims.",
    "quick": "the **quick** profile: shortened runs on subsets, sized for a 2-core CPU. The numbers "
             "show trends; they are not a reproduction of the reports' settings.",
    "full": "the **full** profile: the source reports' own settings (epochs, batch sizes, "
            "optimizers) with several seeds per claim. These are the numbers the audit judges.",
}


TRAIN_ENV = "CNNREPORT_TRAIN"

# Where a setting comes from, in the order a setting is taken: the report's text, then the
# code repository it links, then our own assumption.
REPORT_TEXT, LINKED_CODE, ASSUMPTION = "report text", "linked code", "assumption"
SOURCES = (REPORT_TEXT, LINKED_CODE, ASSUMPTION)


# Every settings table ends with this row: the precision is ours, never a report's.
PRECISION_ROW = ("precision", "bf16 autocast (fp32 weights) with channels-last where the hardware multiplies "
                 "bf16 natively (CUDA; a CPU with AMX-BF16 or AVX512-BF16), else fp32; each result records "
                 "which, and the line under the audit table counts the page's runs per machine", ASSUMPTION,
                 "our choice, for speed (on an AMX Xeon a bf16 convolution runs several times faster than "
                 "fp32); no report states a precision")


def settings_table(rows: Sequence[Sequence[str]]):
    """A chapter's settings table: rows of (setting, value, source, reason), the source
    one of :data:`SOURCES`, then :data:`PRECISION_ROW`.  Returns Markdown for display."""
    from IPython.display import Markdown
    lines = ["| setting | value | source | why |", "|---|---|---|---|"]
    for row in [*rows, PRECISION_ROW]:
        if len(row) != 4:
            raise ValueError(f"a settings row is (setting, value, source, reason), got {row!r}")
        setting, value, source, reason = (str(c).replace("|", "\\|") for c in row)
        if source.split(" (")[0] not in SOURCES:
            raise ValueError(f"settings row {setting!r}: source {source!r} is not one of {SOURCES}")
        lines.append(f"| {setting} | {value} | {source} | {reason} |")
    return Markdown("\n".join(lines))


def may_train(profile: str) -> bool:
    """Whether a missing run may be trained here: never with ``CNNREPORT_TRAIN=0`` (a build
    from the stored results only); else always below the full profile, and at full only on
    a GPU or when asked with ``CNNREPORT_TRAIN=1``."""
    asked = os.environ.get(TRAIN_ENV)
    if asked == "0":
        return False
    if profile != "full" or asked == "1":
        return True
    import torch
    return torch.cuda.is_available()


class Note:
    """Markdown text for a page that displays nothing when it is empty (an empty IPython
    ``Markdown`` would show its ``repr`` on the page instead)."""

    def __init__(self, data: str):
        self.data = data

    def _repr_markdown_(self) -> str:
        return self.data

    def _ipython_display_(self) -> None:
        if self.data:
            from IPython.display import Markdown, display
            display(Markdown(self.data))


class Chapter:
    """One chapter's store, runs, glued values and audit.

    ``params`` is the mapping that holds the chapter's parameter values (a notebook passes
    ``globals()``); the chapter keeps the names its parameters cell declares.
    """

    def __init__(self, name: str, profile: Optional[str] = None, progress: bool = True,
                 params: Optional[Mapping[str, Any]] = None):
        self.params: Dict[str, Any] = {}
        if params is not None:
            from ..experiments.params import declared
            self.params = {k: params[k] for k in declared(name) if k in params}
        profile = profile or self.params.get("profile", "quick")
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)}")
        self.name, self.profile, self.progress = name, profile, progress
        self.root = results_root(profile)
        self.store = ResultStore(self.root)
        self.audit = Audit(name, profile, noise_lookup=self.noise)
        self._noise: Dict[Any, Any] = {}
        self.train = may_train(profile)
        self.pending: List[Result] = []   # placeholders of runs not trained here
        self.read: Dict[str, Result] = {}  # every run this page read, by key (where it trained)
        self._datasets: Dict[str, Any] = {}

    def dataset(self, name: str):
        """Load a dataset once per chapter (CIFAR-10 is 180 MB of arrays)."""
        if name not in self._datasets:
            from ..core.data import load_dataset
            self._datasets[name] = load_dataset(name)
        return self._datasets[name]

    def _config(self, cfg: Mapping[str, Any]):
        from ..core.config import ConfigError
        try:
            return _config(dict(cfg))
        except ConfigError as e:
            if self.params:
                from ..experiments.params import blame
                key = getattr(e, "key", None)
                hint = blame(self.params, key, getattr(e, "value", None)) if key else None
                if hint:
                    raise ConfigError(f"{e} (from {hint})") from None
            raise

    def _store_at(self, store: str = "") -> ResultStore:
        """The results store, or its subfolder ``store`` (a twin kept apart, see
        :attr:`cnnreport.experiments.Run.store`)."""
        return ResultStore(self.root / store) if store else self.store

    def _run(self, config, store: str = "") -> Result:
        """Run or load ``config`` (a validated :class:`~cnnreport.core.config.RunConfig`) in
        the store's subfolder ``store``."""
        where = self._store_at(store)
        result = run_or_load(config, where, progress=self.progress, train=self.train,
                             load_data=lambda: self.dataset(config.dataset))  # loaded only to train
        if result.pending:
            self.pending.append(result)
        self.read[f"{store}/{result.key}"] = result
        return result

    def experiments(self, group: Optional[str] = None) -> Dict[str, List[Result]]:
        """Run (or load) this chapter's runs from :mod:`cnnreport.experiments`:
        ``{label: [Result per seed]}`` of one group, or of all when ``group`` is None."""
        from .. import experiments as E
        runs = E.group(E.runs_for(self.name, self.params), group)
        if not runs:
            raise ValueError(f"chapter {self.name!r} has no runs in group {group!r}")
        return self._run_labelled({label: [r.run_config() for r in rs] for label, rs in runs.items()},
                                  {label: rs[0].store for label, rs in runs.items()})

    def _run_labelled(self, configs: Mapping[str, Sequence[Mapping[str, Any]]],
                      stores: Optional[Mapping[str, str]] = None) -> Dict[str, List[Result]]:
        from tqdm.auto import tqdm
        stores = stores or {}
        jobs = [(label, self._config(cfg), stores.get(label, "")) for label, cfgs in configs.items() for cfg in cfgs]
        # A bar only while something trains: a page rendered from stored runs keeps none.
        trains = self.train and any(c not in self._store_at(s) for _, c, s in jobs)
        out: Dict[str, List[Result]] = {label: [] for label in configs}
        with tqdm(total=len(jobs), desc=f"{self.name} runs", disable=not (self.progress and trains)) as bar:
            for label, config, store in jobs:
                out[label].append(self._run(config, store))
                bar.update(1)
        return out

    # -- runs ------------------------------------------------------------------------
    def run(self, config: Mapping[str, Any], **overrides: Any) -> Result:
        cfg = {**config, **overrides}
        cfg.setdefault("name", f"{self.name}")
        cfg.setdefault("chapter", self.name)
        return self._run(self._config(cfg))

    def run_all(self, configs: Mapping[str, Mapping[str, Any]], seeds: Sequence[int] = (0,)
                ) -> Dict[str, List[Result]]:
        """Run (or load) every labelled config once per seed; ``{label: [Result per seed]}``.

        One bar counts the runs while any of them trains (a page rendered from stored runs
        shows none); each run that trains shows its own bar beneath it.
        """
        return self._run_labelled({label: [{**configs[label], "seed": s, "name": f"{self.name}: {label}",
                                            "chapter": self.name, "label": label}
                                           for s in seeds] for label in configs})

    def noise(self, report: str, models: Sequence[str] = ()):
        """The seed noise of ``report`` for ``models`` (all of the report's when empty): the
        pooled sd of the report's noise runs (:data:`cnnreport.experiments.NOISE_RUNS`), read
        from the store, never trained here.  A :class:`~cnnreport.core.stats.Noise` whose
        ``waiting`` lists the noise runs not stored yet."""
        cache_key = (report, tuple(sorted(models)))
        if cache_key in self._noise:
            return self._noise[cache_key]
        from .. import experiments as E
        from ..core import stats as S
        from ..experiments.params import resolve
        groups, waiting, names, mixed = [], [], [], []
        for chapter, group, label in E.NOISE_RUNS.get(report, ()):
            values = self.params if chapter == self.name and self.params else resolve(chapter, self.profile)
            runs = [r for r in E.runs_for(chapter, values) if r.group == group and r.label == label]
            if not runs or (models and str(runs[0].config.get("model")) not in models):
                continue
            results = []
            for r in runs:
                cfg = self._config(r.run_config())
                results.append(self.store.get(cfg) or Result.placeholder(cfg))
            waiting += [r for r in results if r.pending]
            groups.append(self.accs(results, report))
            names.append(f"{chapter}: {label}")
            if len(R.precisions(results)) > 1:
                mixed.append(f"{label} ({' and '.join(R.precisions(results))})")
        found = S.noise(groups, source=f"report {report}: " + ", ".join(names) if names else
                        f"report {report}: no noise run of {', '.join(models) or 'its models'} at this profile",
                        waiting=waiting)
        if mixed:  # the spread then holds the precision's effect too: a wider, more cautious sd
            found = dataclasses.replace(found, source=f"{found.source}; seeds trained at mixed precisions, "
                                                      f"which the sd includes: {', '.join(mixed)}")
        if waiting:  # a partial estimate is not used: the row waits for every noise seed
            found = S.Noise(source=found.source, waiting=found.waiting)
        self._noise[cache_key] = found
        return found

    # -- numbers ---------------------------------------------------------------------
    # The readings have one home, cnnreport.analysis.readings; a chapter reaches them here.
    done = staticmethod(R.done)
    is_pending = staticmethod(R.is_pending)
    accs = staticmethod(R.accs)
    acc = staticmethod(R.acc)

    @staticmethod
    def acc_text(results: Iterable[Result], split: str = "test") -> str:
        return fmt_mean_std(Chapter.accs(results, split))

    # -- page ------------------------------------------------------------------------
    table = staticmethod(_table)  # a DataFrame with its missing numbers shown as a dash

    def glue(self, key: str, value: Any, fmt: Optional[str] = "{:.2f}", needs: Any = None) -> Any:
        """Glue a value for ``{glue:text}`key``` in the chapter's text (formatted).

        With ``needs`` (the results the value is computed from), the text says "[pending]"
        while any of them is not trained, and "n/a" for a missing or non-finite number (no
        finished run, or too few epochs for it), instead of printing ``nan``."""
        import math
        from myst_nb import glue
        if needs is not None and self.is_pending(needs):
            text = "[pending]"  # a placeholder that reads right before a unit: "[pending]%"
        elif needs is not None and (value is None or (isinstance(value, float) and not math.isfinite(value))):
            text = "n/a"
        else:
            text = fmt.format(value) if isinstance(value, (int, float)) and fmt else str(value)
        glue(key, text, display=False)
        return value

    def n_pending(self, *groups: Any) -> int:
        """How many results in these results, lists or ``{label: [results]}`` are pending."""
        return sum(1 for r in flatten_results(groups) if r.pending)

    def pending_note(self, *groups: Any) -> "Note":
        """A short note where a table or figure lacks runs that wait for a GPU (an empty note,
        which displays nothing, when none is pending)."""
        from .audit import how_to_compute
        waiting = [r for r in flatten_results(groups) if r.pending]
        if not waiting:
            return Note("")
        return Note(f"*pending: {len(waiting)} run(s) not computed yet "
                    f"(`{how_to_compute(waiting, self.profile, self.name)}`); "
                    f"what is shown uses the finished runs.*")

    @staticmethod
    def firsts(runs: Mapping[str, Sequence[Result]]) -> Dict[str, Result]:
        """The first finished run of every label (labels with none are left out)."""
        out = {}
        for label, rs in runs.items():
            done = [r for r in rs if r.done]
            if done:
                out[label] = done[0]
        return out

    def profile_note(self):
        """A note saying which profile produced the page (shown at its top)."""
        from IPython.display import Markdown
        return Markdown(f"```{{note}}\nThe numbers on this page were produced by {PROFILE_TEXT[self.profile]}\n```")

    def finish_audit(self):
        """Save this chapter's audit rows for the final chapter and return them for display,
        followed by where the page's runs trained (device, precision, CPU flags)."""
        self.audit.save(self.root)
        from IPython.display import HTML
        from ..analysis.archs import machines_sentence
        where = machines_sentence(list(self.read.values()))
        return HTML(self.audit._repr_html_() + (f"<p><em>{where}</em></p>" if where else ""))

