"""What a chapter notebook uses: its results store, runs with progress, glue and audit.

A chapter's experiment stays a few lines::

    ch = Chapter("architectures", profile)
    results = ch.run_all({"BasicCNN": cfg_basic, "ResNet-9": cfg_r9}, seeds=seeds)
    ch.glue("basic_acc", ch.acc(results["BasicCNN"]))

Every run goes through :func:`cnnreport.store.run_or_load`, so a rebuild with results
present trains nothing.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from .audit import Audit, fmt_mean_std, mean_std
from .store import Result, ResultStore, run_or_load


def _config(cfg):
    from .config import RunConfig
    return RunConfig.from_dict(cfg)

PROFILE_TEXT = {
    "smoke": "the **smoke** profile: tiny subsets and one or two epochs, to check that the page "
             "builds. Its numbers mean nothing about the claims.",
    "quick": "the **quick** profile: shortened runs on subsets, sized for a 2-core CPU. The numbers "
             "show trends; they are not a reproduction of the reports' settings.",
    "full": "the **full** profile: the source reports' own settings (epochs, batch sizes, "
            "optimizers) with several seeds per claim. These are the numbers the audit judges.",
}


def results_root(profile: str) -> Path:
    """``$CNNREPORT_RESULTS`` (set by ``cnnreport.run``), else ``<checkout>/results/<profile>``."""
    env = os.environ.get("CNNREPORT_RESULTS")
    if env:
        return Path(env)
    from .run import repo_root
    return repo_root() / "results" / profile


class Chapter:
    """One chapter's store, runs, glued values and audit."""

    def __init__(self, name: str, profile: str = "quick", progress: bool = True):
        if profile not in PROFILE_TEXT:
            raise ValueError(f"unknown profile {profile!r}; allowed: {', '.join(PROFILE_TEXT)}")
        self.name, self.profile, self.progress = name, profile, progress
        self.root = results_root(profile)
        self.store = ResultStore(self.root)
        self.audit = Audit(name, profile)
        self._datasets: Dict[str, Any] = {}

    def dataset(self, name: str):
        """Load a dataset once per chapter (CIFAR-10 is 180 MB of arrays)."""
        if name not in self._datasets:
            from .data import load_dataset
            self._datasets[name] = load_dataset(name)
        return self._datasets[name]

    def _run(self, cfg: Dict[str, Any]) -> Result:
        found = self.store.get(_config(cfg))
        if found is not None:  # stored: no need to load the data
            return found
        return run_or_load(cfg, self.store, progress=self.progress,
                           data=self.dataset(cfg.get("dataset", "cifar10")))

    # -- runs ------------------------------------------------------------------------
    def run(self, config: Mapping[str, Any], **overrides: Any) -> Result:
        cfg = {**config, **overrides}
        cfg.setdefault("name", f"{self.name}")
        return self._run(cfg)

    def run_all(self, configs: Mapping[str, Mapping[str, Any]], seeds: Sequence[int] = (0,)
                ) -> Dict[str, List[Result]]:
        """Run (or load) every labelled config once per seed; ``{label: [Result per seed]}``.

        One bar counts the runs; each run that trains shows its own bar beneath it.
        """
        from tqdm.auto import tqdm
        jobs = [(label, s) for label in configs for s in seeds]
        out: Dict[str, List[Result]] = {label: [] for label in configs}
        with tqdm(total=len(jobs), desc=f"{self.name} runs", disable=not self.progress) as bar:
            for label, s in jobs:
                cfg = {**configs[label], "seed": s, "name": f"{self.name}: {label}"}
                out[label].append(self._run(cfg))
                bar.update(1)
        return out

    # -- numbers ---------------------------------------------------------------------
    @staticmethod
    def accs(results: Iterable[Result], split: str = "test") -> List[float]:
        """Accuracies in % of finished runs (``split``: test, best_val, final_train)."""
        out = []
        for r in results:
            if r.status != "ok":
                continue
            if split == "test":
                out.append(100 * r.test_acc)
            elif split == "best_val":
                out.append(100 * r.history["val_acc"][r.best_epoch - 1])
            elif split == "final_train":
                out.append(100 * r.history["train_acc"][-1])
            else:
                raise ValueError(f"unknown split {split!r}; allowed: test, best_val, final_train")
        return out

    @staticmethod
    def acc(results: Iterable[Result], split: str = "test") -> float:
        """Mean accuracy in % over seeds."""
        return mean_std(Chapter.accs(results, split))[0]

    @staticmethod
    def acc_text(results: Iterable[Result], split: str = "test") -> str:
        return fmt_mean_std(Chapter.accs(results, split))

    # -- page ------------------------------------------------------------------------
    def glue(self, key: str, value: Any, fmt: str = "{:.2f}") -> Any:
        """Glue a value for ``{glue:text}`key``` in the chapter's text (formatted)."""
        from myst_nb import glue
        text = fmt.format(value) if isinstance(value, (int, float)) and fmt else str(value)
        glue(key, text, display=False)
        return value

    def profile_note(self):
        """A note saying which profile produced the page (shown at its top)."""
        from IPython.display import Markdown
        return Markdown(f"```{{note}}\nThe numbers on this page were produced by {PROFILE_TEXT[self.profile]}\n```")

    def finish_audit(self):
        """Save this chapter's audit rows for the final chapter and return them for display."""
        self.audit.save(self.root)
        from IPython.display import HTML
        return HTML(self.audit._repr_html_())
