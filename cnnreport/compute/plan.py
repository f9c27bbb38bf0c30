"""Every distinct training run of a profile, with its uses, priority, cost and state.

    python -m cnnreport plan --profile full
    python -m cnnreport plan --profile full --json
    python -m cnnreport plan --profile full --chapters architectures schedules --tier 1

For each chapter in :data:`cnnreport.experiments.MODULES` whose module exists, the plan
takes the chapter's parameter values at the profile (:func:`cnnreport.experiments.params.resolve`:
the parameters cell and ``params/<profile>/<chapter>.yaml``), asks the chapter's
experiment function for its runs (:func:`cnnreport.experiments.runs_for`), validates every
config (:class:`cnnreport.core.config.RunConfig`) and merges runs with the same key: a training
that two chapters (or two labels) use is one entry listing every use.

Each entry has a priority tier (the lowest over its uses, see
:attr:`cnnreport.experiments.Run.tier`: 1 = what an audit claim needs for a verdict, the first
seed of each run and every seed of a run a row reads seed by seed, 2 = the other seeds, 3 = our own
extras), an estimated cost on the H200
(:mod:`cnnreport.compute.costs`) and a state: ``stored`` (``results/<profile>/<key>.json``, or for
a loss-landscape probe run its cache file), ``checkpointed`` (an interrupted run whose
``checkpoints/<key>/last.pt`` is there; ``epochs_done`` from its log) or ``pending``.

Order: by rank (tier 1's first seeds with the noise runs' later seeds that ``--noise`` adds,
the precision twins, tier 1's later seeds of runs that a row reads seed by seed, tier 2, tier 3);
within a rank by audit rows unlocked per hour of the device: greedily the claim whose
pending runs complete the most claims per second of training (the queue orders by its own
device's costs, the printed plan by the H200's).  A claim's runs are its own and, in the first
rank, the noise seeds its one-seed verdict borrows (those of its report and model, as
:meth:`cnnreport.pages.audit.Audit.noise_for` picks them): a row judged from one seed stays
pending until they are stored, so they count towards it.  Within a claim's runs, those that
complete a smaller claim come first, then the cheapest.  A checkpointed run comes first of its
rank, and runs that serve no claim come last.
The order is deterministic for a given state of the results folder.

Building the plan loads no dataset and trains nothing.  Importing this module imports
no torch; validating the configs (which computes their keys) does, when called.
"""
from __future__ import annotations

import argparse
import fnmatch
import importlib.util
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import costs
from ..core.paths import PROFILES, repo_root

STORED, CHECKPOINTED, PENDING = "stored", "checkpointed", "pending"
# CPU estimates are for this project's own machine: 2 threads, one run at a time.
CPU_THREADS = 2
# A run whose whole CPU estimate is longer than one sitting waits for the GPU: a CPU
# checkpoint does not survive to the next sitting's machine.
CPU_SITTING_S = 2.5 * 3600
NOISE_RANK = 1.5                # Entry.rank of a noise run's later seed
FIRST_PASS = (1.0, NOISE_RANK)  # ordered as one: a one-seed verdict waits for both
TWIN_RANK = 1.75                # a precision twin: after the first pass
SEED_BY_SEED_RANK = 1.9         # a later seed that a row reads seed by seed: after the twins


class PlanError(ValueError):
    """A chapter's runs cannot be planned: bad parameters, or a config that fails
    validation (the message names the chapter and the label)."""


@dataclass(frozen=True)
class Use:
    """One place a run is used: a chapter's group and label, with its seed and tier."""
    chapter: str
    group: str
    label: str
    seed: int
    tier: int
    report: str = ""
    claims: Tuple[str, ...] = ()
    noise: bool = False            # a seed of one of its report's noise runs
    later: bool = False            # not the first seed of its run

    @property
    def name(self) -> str:
        return f"{self.chapter}: {self.label}"


@dataclass
class Entry:
    """One distinct run of the plan."""
    key: str                       # the config key; a probe run: the landscape cache's stem
    config_key: str                # RunConfig.key() of the config
    config: Dict[str, Any]         # the run config (first use's name and seed)
    uses: List[Use]
    tier: int
    claim_group: str               # "<chapter>/<group>" of the first use
    est_gpu_s: float               # estimated seconds on the H200, all epochs
    est_cpu_s: float               # estimated seconds on this CPU (CPU_THREADS threads), all epochs
    first_epoch_s: float           # estimated seconds to the end of the first epoch
    checkpoint_bytes: float
    probe: Optional[Dict[str, Any]] = None
    state: str = PENDING
    epochs_done: int = 0
    path: str = ""                 # where the stored result lives (or will)
    store: str = ""                # its subfolder of the results store ("controls"), if any

    @property
    def stored(self) -> bool:
        return self.state == STORED

    @property
    def first_seed(self) -> bool:
        """The first seed of a run a report's claim reads (tier 1 by that use)."""
        return any(u.tier == 1 and not u.later for u in self.uses)

    @property
    def noise(self) -> bool:
        """A run that measures noise, which the audit needs early (``--noise``): a later seed
        of a noise run (tier 2, or tier 1 when a row also reads it seed by seed), or a
        precision twin kept in a controls folder (tier 3)."""
        return (self.tier <= 2 and not self.first_seed and any(u.noise for u in self.uses)) or bool(self.store)

    @property
    def seed_by_seed(self) -> bool:
        """A later seed in tier 1 only because a row reads its run seed by seed
        (:attr:`cnnreport.experiments.Run.every_seed`)."""
        return self.tier == 1 and not self.first_seed and not self.noise

    @property
    def rank(self) -> float:
        """Queue order: tier 1's first seeds and the noise runs' later seeds (ordered as one
        by :func:`order_entries`), the precision twins, the later seeds of runs read seed by
        seed, the rest of tier 2, then tier 3: the one-seed rows are judged first, the
        precision check follows, then the rows that need every seed."""
        if self.noise:
            return TWIN_RANK if self.store else NOISE_RANK
        return SEED_BY_SEED_RANK if self.seed_by_seed else float(self.tier)

    @property
    def tier_mark(self) -> str:
        """The tier as the plan's table prints it: 'n' marks a noise run's later seed or a
        twin, 's' a later seed read seed by seed."""
        return f"{self.tier}{'n' if self.noise else 's' if self.seed_by_seed else ''}"

    @property
    def gpu_only(self) -> bool:
        """Too long for one CPU sitting (:data:`CPU_SITTING_S`): it waits for the GPU."""
        return self.est_cpu_s > CPU_SITTING_S

    @property
    def reports(self) -> List[str]:
        return list(dict.fromkeys(u.report for u in self.uses if u.report))

    @property
    def epochs(self) -> int:
        return int(self.config.get("epochs", 0))

    @property
    def model(self) -> str:
        return str(self.config.get("model"))

    @property
    def dataset(self) -> str:
        return str(self.config.get("dataset"))

    @property
    def seed(self) -> int:
        return int(self.config.get("seed", 0))

    @property
    def chapters(self) -> List[str]:
        return list(dict.fromkeys(u.chapter for u in self.uses))

    def names(self) -> List[str]:
        return [u.name + (f" (seed {u.seed})") for u in self.uses]

    def remaining_s(self) -> float:
        """Estimated H200 seconds still to train (0 once stored)."""
        if self.stored:
            return 0.0
        return costs.run_seconds(self.config, probe=self.probe, epochs_done=self.epochs_done)

    def remaining_cpu_s(self, threads: int = CPU_THREADS) -> float:
        """Estimated seconds on this CPU still to train (0 once stored)."""
        if self.stored:
            return 0.0
        return costs.run_seconds(self.config, "cpu", threads, self.probe, self.epochs_done)

    def to_json(self) -> Dict[str, Any]:
        return {"key": self.key, "config_key": self.config_key, "tier": self.tier, "noise": self.noise,
                "reports": self.reports,
                "est_cpu_s": round(self.est_cpu_s, 1), "gpu_only": self.gpu_only,
                "model": self.model, "dataset": self.dataset, "epochs": self.epochs, "seed": self.seed,
                "config": self.config, "uses": [asdict(u) for u in self.uses],
                "chapters": self.chapters, "claim_group": self.claim_group,
                "est_gpu_s": round(self.est_gpu_s, 1), "first_epoch_s": round(self.first_epoch_s, 2),
                "checkpoint_bytes": int(self.checkpoint_bytes), "probe": self.probe,
                "stored": self.stored, "state": self.state, "epochs_done": self.epochs_done,
                "path": self.path, "store": self.store}


@dataclass
class Plan:
    profile: str
    results: Path
    entries: List[Entry] = field(default_factory=list)
    chapters: List[str] = field(default_factory=list)
    errors: Dict[str, str] = field(default_factory=dict)  # chapter -> why it was left out (strict=False)

    def pending(self) -> List[Entry]:
        return [e for e in self.entries if not e.stored]

    def totals(self) -> Dict[str, Any]:
        """Runs, epochs and estimated GPU-minutes, all and pending, per tier and per chapter
        (a run shared by two chapters counts in each chapter, once in a tier)."""
        def blank():
            return {"runs": 0, "epochs": 0, "gpu_min": 0.0, "cpu_h": 0.0, "pending_runs": 0,
                    "pending_epochs": 0, "pending_gpu_min": 0.0, "pending_cpu_h": 0.0}

        def add(t, e: Entry):
            t["runs"] += 1
            t["epochs"] += e.epochs
            t["gpu_min"] += e.est_gpu_s / 60
            t["cpu_h"] += e.est_cpu_s / 3600
            if not e.stored:
                t["pending_cpu_h"] += e.remaining_cpu_s() / 3600
                t["pending_runs"] += 1
                t["pending_epochs"] += e.epochs - e.epochs_done
                t["pending_gpu_min"] += e.remaining_s() / 60

        tiers: Dict[str, Dict[str, Any]] = {}
        noise = blank()
        chapters: Dict[str, Dict[str, Any]] = {c: blank() for c in self.chapters}
        chapter_tiers: Dict[str, Dict[str, Dict[str, Any]]] = {}
        total = blank()
        for e in self.entries:
            add(tiers.setdefault(str(e.tier), blank()), e)
            add(total, e)
            if e.noise:
                add(noise, e)
            for c in e.chapters:
                add(chapters.setdefault(c, blank()), e)
                t = min(u.tier for u in e.uses if u.chapter == c)
                add(chapter_tiers.setdefault(c, {}).setdefault(str(t), blank()), e)
        rnd = lambda d: {k: round(v, 2) if isinstance(v, float) else v for k, v in d.items()}
        return {"all": rnd(total), "tiers": {k: rnd(v) for k, v in sorted(tiers.items())}, "noise": rnd(noise),
                "chapters": {k: rnd(v) for k, v in chapters.items()},
                "chapter_tiers": {c: {k: rnd(v) for k, v in sorted(t.items())}
                                  for c, t in chapter_tiers.items()}}

    def to_json(self) -> Dict[str, Any]:
        return {"profile": self.profile, "chapters": self.chapters, "errors": self.errors,
                "runs": [e.to_json() for e in self.entries], "totals": self.totals(),
                "assumptions": {"device": "one NVIDIA H200, bf16 eager, one run at a time",
                                "cpu": f"this CPU, {CPU_THREADS} threads, one run at a time; measured rates "
                                       "where costs.MEASURED_CPU has the model, else FLOP estimates",
                                "cpu_sitting_s": CPU_SITTING_S,
                                "measured_models": sorted(costs.MEASURED),
                                "early_stopping": "estimates assume all epochs (an upper bound)"}}

    def by_key(self) -> Dict[str, Entry]:
        return {e.key: e for e in self.entries}


# -- which chapters ---------------------------------------------------------------------
def available_chapters() -> List[str]:
    """The chapters of :data:`MODULES` whose experiment module exists (or is registered)."""
    from .. import experiments as E
    out = []
    for name in E.MODULES:
        if name in E.EXPERIMENTS or importlib.util.find_spec(f"{E.__name__}.{name}") is not None:
            out.append(name)
    return out


def chapter_params(chapter: str, profile: str, overrides: Optional[Mapping[str, Any]] = None,
                   root: Union[str, Path, None] = None) -> Dict[str, Any]:
    """The chapter's parameter values at ``profile``; ``overrides`` apply to the names the
    chapter declares (others are ignored here, see :func:`build`)."""
    from ..experiments.params import ParameterError, declared, resolve, validate
    try:
        decl = declared(chapter, root)
        mine = {k: v for k, v in (overrides or {}).items() if k in decl}
        values = resolve(chapter, profile, mine, root=root)
        validate(decl, values, label=f"{chapter} ({profile} profile)")
    except (ParameterError, FileNotFoundError) as e:
        raise PlanError(f"{chapter}: cannot resolve its parameters at the {profile} profile: {e}") from None
    return values


def _validated_key(run, params: Mapping[str, Any]) -> Tuple[str, Dict[str, Any]]:
    from ..core.config import ConfigError, RunConfig
    cfg = run.run_config()
    try:
        rc = RunConfig.from_dict(dict(cfg)).check_limits()
    except ConfigError as e:
        from ..experiments.params import blame
        hint = blame(params, e.key, e.value) if e.key else None
        raise PlanError(f"{run.chapter}: run {run.label!r} (group {run.group}, seed {run.seed}): "
                        f"invalid config: {e}" + (f" (from {hint})" if hint else "")) from None
    return rc.key(), cfg


def chapter_problems(chapter: str, values: Mapping[str, Any]) -> List[str]:
    """Every problem of ``chapter``'s runs with these parameter values that a type check
    cannot see (:meth:`cnnreport.core.config.RunConfig.limit_problems`: a subset larger than its
    split, a batch larger than the training set, a width that rounds a layer to zero), each
    naming the parameter it comes from; empty for a chapter without runs."""
    from .. import experiments as E
    if not E.has_experiments(chapter):
        return []
    out: List[str] = []
    for run in E.runs_for(chapter, values):
        try:
            _validated_key(run, values)
        except PlanError as e:
            msg = str(e).split(": invalid config: ", 1)[-1]
            if msg not in out:
                out.append(msg)
    return out


def _probe_path(config: Mapping[str, Any], probe: Mapping[str, Any], results: Path) -> Path:
    from ..core.landscape import DEFAULT_ETA_FACTORS, cache_path
    return cache_path(dict(config), int(probe.get("probe_every", 10)),
                      probe.get("eta_factors", DEFAULT_ETA_FACTORS), str(results))


def _epochs_logged(results: Path, key: str) -> int:
    log = results / "logs" / f"{key}.csv"
    try:
        return max(0, len([l for l in log.read_text().splitlines() if l.strip()]) - 1)
    except OSError:
        return 0


def _state(entry: Entry, results: Path) -> None:
    path = Path(entry.path)
    base = results / entry.store if entry.store else results  # the store the run trains into
    if path.is_file():
        entry.state = STORED
    elif entry.probe is None and (base / "checkpoints" / entry.config_key / "last.pt").is_file():
        entry.state = CHECKPOINTED
        entry.epochs_done = min(entry.epochs, _epochs_logged(base, entry.config_key))
    else:
        entry.state, entry.epochs_done = PENDING, 0


def refresh(plan: Plan) -> Plan:
    """Read every entry's state again from the results folder (cheap: file checks)."""
    for e in plan.entries:
        _state(e, plan.results)
    return plan


def matches(entry: Entry, patterns: Sequence[str]) -> bool:
    """Whether a ``--runs`` pattern (fnmatch, case-insensitive) matches one of the entry's
    uses (``chapter: label``), its model, or a key prefix."""
    for p in patterns:
        pl = p.lower()
        if entry.key.startswith(p) or entry.config_key.startswith(p) or fnmatch.fnmatch(entry.model, pl):
            return True
        if any(fnmatch.fnmatch(u.name.lower(), pl) for u in entry.uses):
            return True
    return False


def build(profile: str, chapters: Optional[Sequence[str]] = None, tier: Optional[int] = None,
          results: Union[str, Path, None] = None, overrides: Optional[Mapping[str, Any]] = None,
          params: Optional[Mapping[str, Mapping[str, Any]]] = None, runs: Sequence[str] = (),
          root: Union[str, Path, None] = None, strict: bool = True,
          reports: Sequence[str] = (), noise: bool = False) -> Plan:
    """The plan of ``profile``.

    ``chapters``: restrict to these (default: :func:`available_chapters`; a name registered
    in :data:`cnnreport.experiments.EXPERIMENTS` also works).  ``tier``: keep entries of
    tier <= ``tier``.  ``results``: the results folder (default ``$CNNREPORT_RESULTS``, else
    ``results/<profile>``).  ``overrides``: parameter values set in every selected chapter
    that declares them (``-p NAME VALUE``).  ``params``: chapter -> parameter values used
    as they are instead of resolving the chapter's parameters cell (tests, chapters without
    a page).  ``runs``: keep entries :func:`matches` selects.  ``strict=False`` leaves a
    chapter that cannot be planned out, with the reason in :attr:`Plan.errors`, instead of
    raising :class:`PlanError`.  ``reports``: keep entries that serve one of these reports
    ("002"; one run may serve several, and a report may span several chapters).  ``noise``:
    also keep the noise runs' later seeds (:data:`cnnreport.experiments.NOISE_RUNS`) whatever
    ``tier`` says."""
    from .. import experiments as E
    from ..core.paths import results_root
    if profile not in PROFILES:
        raise PlanError(f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)}")
    root = Path(root) if root else repo_root()
    results = Path(results) if results else results_root(profile, root)
    names = list(chapters) if chapters else available_chapters()
    for c in names:
        if c not in E.EXPERIMENTS and c not in E.MODULES:
            raise PlanError(f"unknown chapter {c!r}; chapters with runs: {', '.join(E.MODULES)}")
    if overrides and not params:
        from ..experiments.params import declared
        unused = [k for k in overrides if not any(k in declared(c, root) for c in names
                                                  if (root / "book" / f"{c}.md").is_file())]
        if unused:
            raise PlanError(f"parameter(s) {', '.join(unused)} not declared by any of: {', '.join(names)}")
    order = {c: i for i, c in enumerate(list(E.MODULES) + [c for c in names if c not in E.MODULES])}
    merged: Dict[str, Entry] = {}
    errors: Dict[str, str] = {}
    for chapter in names:
        try:
            found = _chapter_entries(chapter, profile, params, overrides, root, results)
        except PlanError as e:
            if strict:
                raise
            errors[chapter] = str(e)
            continue
        for key, e in found.items():
            have = merged.get(key)
            if have is None:
                merged[key] = e
            else:
                have.uses += [u for u in e.uses if u not in have.uses]
    for e in merged.values():
        e.uses.sort(key=lambda u: (u.tier, order.get(u.chapter, 99), u.group, u.label, u.seed))
        first = e.uses[0]
        e.tier = first.tier
        e.claim_group = f"{first.chapter}/{first.group}"
        if first.name != e.config.get("name"):  # the config of the first use names the run
            e.config = {**e.config, "name": first.name, "chapter": first.chapter,
                        "label": first.label, "seed": first.seed}
        _state(e, results)
    entries = [e for e in merged.values() if tier is None or e.tier <= int(tier) or (noise and e.noise)]
    if runs:
        entries = [e for e in entries if matches(e, runs)]
    if reports:
        known = {u.report for e in merged.values() for u in e.uses if u.report}
        unknown = sorted(set(reports) - known)
        if unknown:
            raise PlanError(f"unknown report(s) {', '.join(unknown)}; the planned chapters serve: "
                            f"{', '.join(sorted(known)) or 'none'}")
        entries = [e for e in entries if set(e.reports) & set(reports)]
    return Plan(profile, results, order_entries(entries), [c for c in names if c not in errors], errors)


def _chapter_entries(chapter, profile, params, overrides, root, results) -> Dict[str, Entry]:
    """One chapter's runs as plan entries, merged by key."""
    from .. import experiments as E
    values = dict(params[chapter]) if params and chapter in params else \
        chapter_params(chapter, profile, overrides, root)
    try:
        chapter_runs = E.runs_for(chapter, values)
    except Exception as e:  # noqa: BLE001 - name the chapter whatever broke
        raise PlanError(f"{chapter}: its experiments failed at the {profile} profile: "
                        f"{type(e).__name__}: {e}") from e
    out: Dict[str, Entry] = {}
    for run in chapter_runs:
        ckey, cfg = _validated_key(run, values)
        probe = dict(run.probe) if run.probe else None
        use = Use(run.chapter, run.group, run.label, run.seed, run.tier, run.report, tuple(run.claims),
                  run.noise, run.replica > 0)
        if probe is not None:
            path = _probe_path(cfg, probe, results)
            key = path.stem
        elif run.store:  # a twin kept apart from the run of the same key
            key, path = f"{run.store}/{ckey}", results / run.store / f"{ckey}.json"
        else:
            key, path = ckey, results / f"{ckey}.json"
        e = out.get(key)
        if e is None:
            out[key] = Entry(key=key, config_key=ckey, config=cfg, uses=[use], tier=run.tier,
                             claim_group=f"{run.chapter}/{run.group}",
                             est_gpu_s=costs.run_seconds(cfg, probe=probe),
                             est_cpu_s=costs.run_seconds(cfg, "cpu", CPU_THREADS, probe),
                             first_epoch_s=costs.first_epoch_seconds(cfg, probe=probe),
                             checkpoint_bytes=costs.checkpoint_bytes(cfg), probe=probe, path=str(path),
                             store=run.store)
        elif use not in e.uses:
            e.uses.append(use)
    return out


def _cost(e: Entry, device: str) -> float:
    """Seconds still to train ``e`` on ``device`` ("h200" or "cpu")."""
    if e.stored:
        return 0.0
    return e.remaining_cpu_s() if device == "cpu" else e.remaining_s()


def _claim_runs(entries: List[Entry], with_noise: bool) -> Dict[Tuple[str, str], set]:
    """(chapter, claim) -> the keys of the runs its audit row waits for: the runs that name
    the claim and, ``with_noise``, the noise seeds among ``entries`` of the claim's report
    and the model of each of those runs (the spread its one-seed verdict borrows)."""
    noise: Dict[Tuple[str, str], set] = {}
    if with_noise:
        for e in entries:
            if e.rank == NOISE_RANK:
                for u in e.uses:
                    if u.noise:
                        noise.setdefault((u.report, e.model), set()).add(e.key)
    claims: Dict[Tuple[str, str], set] = {}
    for e in entries:
        for u in e.uses:
            for c in u.claims:
                claims.setdefault((u.chapter, c), set()).update({e.key}, noise.get((u.report, e.model), ()))
    return claims


def _greedy(left: Dict[Tuple[str, str], set], cost: Mapping[str, float]) -> List[str]:
    """Keys in the order that completes the most claims per second: next the claim whose
    runs complete the most claims (it and those its runs cover) per second of their cost;
    within its runs first those that complete a smaller claim (recursively), then the
    cheapest, so that a row judged on the way is judged early."""
    out: List[str] = []
    while left:
        def gain(c):
            adds = left[c]
            unlocked = sum(1 for ks in left.values() if ks <= adds)
            return unlocked / max(1.0, sum(cost[k] for k in adds)), -len(adds), c
        adds = left[max(left, key=gain)]
        inner = _greedy({c: ks for c, ks in left.items() if ks < adds}, cost)
        out += inner + sorted(adds - set(inner), key=lambda k: (round(cost[k], 3), k))
        left = {c: ks - adds for c, ks in left.items() if ks - adds}
    return out


def _by_rows_per_hour(entries: List[Entry], device: str, with_noise: bool = False) -> List[Entry]:
    """One rank's entries (``with_noise``: the first pass, whose claims also wait for their
    noise seeds), greedily by audit rows unlocked per second of ``device`` time
    (:func:`_greedy`); entries that serve no claim last, by rank, then cheapest first."""
    by_key = {e.key: e for e in entries}
    cost = {e.key: _cost(e, device) for e in entries}
    # a checkpointed run first: its epochs so far are paid for, and a checkpoint may not
    # outlive the machine
    resumed = sorted((e for e in entries if e.state == CHECKPOINTED), key=lambda e: (round(cost[e.key], 3), e.key))
    done = {e.key for e in entries if e.stored} | {e.key for e in resumed}
    left = {c: ks - done for c, ks in _claim_runs(entries, with_noise).items() if ks - done}
    out = resumed + [by_key[k] for k in _greedy(left, cost)]
    placed = {e.key for e in out}
    rest = [e for e in entries if e.key not in placed]
    stored = [e for e in rest if e.stored]
    rest = sorted((e for e in rest if not e.stored), key=lambda e: (e.rank, round(cost[e.key], 3), e.key))
    return stored + out + rest


def order_entries(entries: Iterable[Entry], device: str = "h200") -> List[Entry]:
    """Rank (tier 1 and the noise runs as one pass, the precision twins, tier 2, tier 3),
    then within a rank the audit rows unlocked per hour of ``device`` ("h200" or "cpu";
    :func:`_by_rows_per_hour`), so that each hour of training judges the most claims."""
    ranks: Dict[float, List[Entry]] = {}
    for e in entries:
        ranks.setdefault(FIRST_PASS[0] if e.rank in FIRST_PASS else e.rank, []).append(e)
    return [e for r in sorted(ranks) for e in _by_rows_per_hour(ranks[r], device, r == FIRST_PASS[0])]


# -- text ------------------------------------------------------------------------------------
def fmt_s(seconds: float) -> str:
    s = max(0.0, float(seconds))
    if s < 60:
        return f"{s:.0f}s"
    if s < 3600:
        return f"{s / 60:.1f}m"
    return f"{s / 3600:.1f}h"


def table(plan: Plan) -> str:
    lines = [f"plan of the {plan.profile} profile: {len(plan.entries)} distinct runs over "
             f"{', '.join(plan.chapters) or 'no chapter'}; results {plan.results}",
             "estimates: one H200, bf16 eager, one run at a time; this CPU, "
             f"{CPU_THREADS} threads, from measured rates (cnnreport/compute/costs.py); runs with early stopping: "
             f"upper bounds; 'gpu' marks a run longer than one CPU sitting ({CPU_SITTING_S / 3600:.1f} h)", ""]
    head = f"{'tier':>4} {'key':<16} {'state':<13} {'model':<14} {'dataset':<13} {'ep':>4} {'seed':>4} " \
           f"{'H200':>7} {'CPU':>7}      uses"
    lines.append(head)
    lines.append("-" * len(head))
    for e in plan.entries:
        state = e.state if e.state != CHECKPOINTED else f"ckpt {e.epochs_done}/{e.epochs}"
        uses = "; ".join(f"{u.chapter}: {u.label}" for u in e.uses)
        lines.append(f"{e.tier_mark:>4} {e.key[:16]:<16} {state:<13} {e.model[:14]:<14} {e.dataset[:13]:<13} "
                     f"{e.epochs:>4} {e.seed:>4} {fmt_s(e.est_gpu_s):>7} {fmt_s(e.est_cpu_s):>7} "
                     f"{'gpu' if e.gpu_only else '':>3}  {uses}"
                     + ("  [probe]" if e.probe else ""))
    t = plan.totals()
    lines += ["", "totals per tier (runs, epochs, est. GPU-minutes, est. CPU-hours; pending in brackets):"]
    for k, v in t["tiers"].items():
        lines.append(f"  tier {k}: {v['runs']} runs, {v['epochs']} epochs, {v['gpu_min']:.1f} GPU-min, "
                     f"{v['cpu_h']:.1f} CPU-h [{v['pending_runs']} runs, {v['pending_epochs']} epochs, "
                     f"{v['pending_gpu_min']:.1f} GPU-min, {v['pending_cpu_h']:.1f} CPU-h]")
    v = t["noise"]
    if v["runs"]:
        lines.append(f"  noise runs ('2n', '1n': later seeds, '3n': precision twins): {v['runs']} runs, "
                     f"{v['cpu_h']:.1f} CPU-h "
                     f"[{v['pending_runs']} runs, {v['pending_cpu_h']:.1f} CPU-h]")
    a = t["all"]
    lines.append(f"  all:    {a['runs']} runs, {a['epochs']} epochs, {a['gpu_min']:.1f} GPU-min, "
                 f"{a['cpu_h']:.1f} CPU-h [{a['pending_runs']} runs, {a['pending_epochs']} epochs, "
                 f"{a['pending_gpu_min']:.1f} GPU-min, {a['pending_cpu_h']:.1f} CPU-h]")
    lines.append("totals per chapter (a shared run counts in each chapter using it):")
    for c, v in t["chapters"].items():
        lines.append(f"  {c}: {v['runs']} runs, {v['epochs']} epochs, {v['gpu_min']:.1f} GPU-min, "
                     f"{v['cpu_h']:.1f} CPU-h [{v['pending_runs']} runs, {v['pending_gpu_min']:.1f} GPU-min, "
                     f"{v['pending_cpu_h']:.1f} CPU-h pending]")
    return "\n".join(lines)


def parse_overrides(pairs: Sequence[Sequence[str]]) -> Dict[str, Any]:
    from ..experiments.params import parse_value
    return {k: parse_value(v) for k, v in pairs}


def int_in(lo: int, hi: Optional[int] = None):
    """An argparse type: a whole number in [lo, hi] (no upper bound when hi is None), so a
    bad --tier or --jobs fails before anything is planned or trained."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if v < lo or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(
                f"{v} is out of range; allowed: {lo} to {hi}" if hi is not None else f"{v} is below {lo}")
        return v
    return parse


def add_selection_args(p: argparse.ArgumentParser) -> None:
    """The options plan and queue share."""
    p.add_argument("--profile", default="full", choices=PROFILES, help="parameter profile (default full)")
    p.add_argument("--chapters", nargs="+", metavar="CHAPTER", help="only these chapters (default: all with runs)")
    p.add_argument("--tier", type=int_in(1, 3),
                   help="only tiers up to N (1: what each claim needs for a verdict, 2: all seeds, 3: extras)")
    p.add_argument("--noise", action="store_true",
                   help="also the runs that measure noise: the later seeds of each report's noise runs (the "
                        "spread one-seed verdicts borrow), ordered with tier 1 by the rows they unlock, "
                        "then the precision twins")
    p.add_argument("--results", help="results folder (default $CNNREPORT_RESULTS, else results/<profile>)")
    p.add_argument("--reports", nargs="+", default=[], metavar="REPORT",
                   help="only runs that serve one of these reports (000 .. 004), in whichever chapter")
    p.add_argument("--runs", nargs="+", default=[], metavar="PATTERN",
                   help="only runs matching a pattern: 'chapter: label' (fnmatch), a model, or a key prefix")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="set a chapter parameter (YAML value) in every selected chapter that declares it")


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="cnnreport plan", description=__doc__.split("\n\n")[0])
    add_selection_args(p)
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument("--skip-broken", action="store_true",
                   help="leave out (and name) a chapter that cannot be planned instead of failing")
    a = p.parse_args(argv)
    try:
        plan = build(a.profile, a.chapters, a.tier, a.results, parse_overrides(a.parameter), runs=a.runs,
                     strict=not a.skip_broken, reports=a.reports, noise=a.noise)
    except PlanError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for c, why in plan.errors.items():
        print(f"warning: left out {c}: {why}", file=sys.stderr)
    if a.json:
        print(json.dumps(plan.to_json(), indent=1, sort_keys=True, default=str))
    else:
        print(table(plan))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
