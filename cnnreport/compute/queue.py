"""Train the plan's pending runs in priority order until a time budget is spent.

    python -m cnnreport queue --profile full --budget 840
    python -m cnnreport queue --profile full --budget 840 --tier 1 --jobs 4 --pack out/results.tar.gz
    python -m cnnreport queue --profile full --budget 3600 --scheduler tcp://10.0.0.5:8786
    python -m cnnreport queue --profile full --unpack results.tar.gz

The runs come from :mod:`cnnreport.compute.plan` (tier, then the cheapest claims first).  Each
is trained with :func:`cnnreport.training.fit` into ``results/<profile>/`` (or
``--results``, else ``$CNNREPORT_RESULTS``), the folder the book reads, with a deadline:
a run whose next epoch would end past the budget is checkpointed and stops, and the next
call resumes it from ``checkpoints/<key>/last.pt``.  A run is started only if its first
epoch fits in the time left (the estimate of :mod:`cnnreport.compute.costs`, corrected by the
epoch times observed so far in this call and padded by :data:`SAFETY`); with ``--whole``
only if all its remaining epochs fit (for a machine whose checkpoints do not survive
the call).  Loss-landscape probe runs (:func:`cnnreport.core.landscape.landscape_or_load`)
cannot stop part-way and start only if the whole run fits.  The budget counts from
the start of the command; ``--pack`` keeps a margin for writing the archive.  At the
end the command prints what it did: done, in progress (epochs done of total), pending,
and the seconds used.

``--jobs N`` trains N runs at once, each in its own worker process
(``python -m cnnreport queue --worker``, fed one run at a time over a pipe), all on the
same GPU: small models leave an H200 mostly idle, because one Python process's eager
training loop is bound by the host launching kernels, not by the GPU.  Separate
processes overlap their host work on separate cores and their kernels on the GPU; CUDA
streams inside one process were not chosen, because the launches would still come from
one Python thread (and the GIL), which is the bottleneck.  ``bench/queue_speed.py``
measures the gain.  On a CPU the workers split the cores between them.

``--scheduler tcp://HOST:PORT`` sends the runs to an existing Dask cluster instead (one
worker per GPU, all seeing the same checkout, data and results folder), one run per
task, with the same budget rules; Dask is imported only on this path.

``--pack FILE`` writes what this call produced (results, landscape caches and, with
``--with-checkpoints``, the checkpoints of the runs it left unfinished) into a tar.gz
of at most 16 MiB, split into ``FILE``, ``<stem>.part2.tar.gz``, ... when it would be
larger; ``--unpack FILE ...`` checks every member and merges the good ones
(:mod:`cnnreport.compute.archive`).

Everything this module imports exists on the GPU machine (standard library, torch,
numpy, yaml, tqdm and cnnreport): no Jupyter, papermill or Dask.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from ..core.paths import DATA_ENV  # noqa: E402 - the data root's variable, named once

STARTED = time.time()  # the budget of a command counts from its start (this module's import)

SAFETY = 1.25          # a first epoch is started only if SAFETY x its estimate fits
PACK_MARGIN_S = 20.0   # kept free for writing the archive
END_MARGIN_S = 2.0     # kept free for shutting down and printing the summary
HARD_STOP_GRACE_S = 10.0  # past the budget, workers still busy are killed


# -- one run ------------------------------------------------------------------------------
_DATA: Dict[str, Any] = {}


def _dataset(name: str, root: Optional[str]):
    from ..core.data import load_dataset
    k = f"{root}:{name}"
    if k not in _DATA:
        _DATA.clear()  # keep one dataset per process: CIFAR-10 is 180 MB
        _DATA[k] = load_dataset(name, root)
    return _DATA[k]


def execute(task: Dict[str, Any]) -> Dict[str, Any]:
    """Train one run as a task says and report how far it got.

    ``task``: ``key``, ``config``, ``probe`` (or None), ``results`` (folder), ``end``
    (``time.time()`` by which the run must have stopped), ``data`` (data root or None),
    ``threads`` (torch CPU threads or None), ``epochs_before`` (epochs checkpointed).
    Returns ``key``, ``status`` (done | out_of_time | failed | locked), ``epochs_done``, ``epochs``,
    ``seconds``, ``epoch_s`` (measured seconds per epoch, or None), ``files`` (paths the
    run wrote, relative to ``results``) and ``error``."""
    t0 = time.time()
    out = {"key": task["key"], "status": "failed", "epochs_done": int(task.get("epochs_before", 0)),
           "epochs": int(task["config"].get("epochs", 0)), "seconds": 0.0, "epoch_s": None,
           "files": [], "error": ""}
    try:
        import torch
        if task.get("threads"):
            torch.set_num_threads(int(task["threads"]))
        from ..core.store import ResultStore
        from ..core.locks import RunLocked
        from ..training import OutOfTime, fit
        cfg = dict(task["config"])
        store = ResultStore(task["results"])
        data = _dataset(cfg.get("dataset", "cifar10"), task.get("data"))
        before = int(task.get("epochs_before", 0))
        t_fit = time.time()  # epochs are timed from here: loading the data is not an epoch
        if task.get("probe"):
            from ..core.landscape import DEFAULT_ETA_FACTORS, cache_path, landscape_or_load
            probe = task["probe"]
            every, etas = int(probe.get("probe_every", 10)), probe.get("eta_factors", DEFAULT_ETA_FACTORS)
            landscape_or_load(cfg, every, etas, store=store, data=data, progress=False)
            path = cache_path(cfg, every, etas, store)
            out.update(status="done", epochs_done=out["epochs"],
                       files=[str(path.relative_to(store.root))])
        else:
            remaining = float(task["end"]) - time.time()
            try:
                res = fit(cfg, store=store, progress=False, data=data, deadline=time.monotonic() + remaining)
                out.update(status="done", epochs_done=int(res.stopped_epoch or out["epochs"]),
                           files=[f"{res.key}.json"])
                trained = out["epochs_done"] - before
                if trained > 0 and res.total_time:
                    out["epoch_s"] = float(res.total_time) / trained
            except RunLocked as e:  # another queue or a chapter trains it: leave it to them
                out.update(status="locked", error=str(e))
            except OutOfTime as e:
                out.update(status="out_of_time", epochs_done=e.epochs_done,
                           files=[f"checkpoints/{e.key}/last.pt"])
        trained = out["epochs_done"] - before
        if trained > 0 and out["epoch_s"] is None:
            out["epoch_s"] = (time.time() - t_fit) / trained
        if task.get("store"):  # files are named relative to the plan's results folder
            out["files"] = [f"{task['store']}/{f}" for f in out["files"]]
    except Exception as e:  # noqa: BLE001 - a failed run is reported, the queue goes on
        import traceback
        out.update(status="failed", error=f"{type(e).__name__}: {e}",
                   traceback=traceback.format_exc(limit=8))
    out["seconds"] = time.time() - t0
    return out


# -- deciding what to start ----------------------------------------------------------------
@dataclass
class Outcome:
    key: str
    names: List[str]
    status: str                  # done | out_of_time | failed | already | locked
    epochs_done: int
    epochs: int
    seconds: float
    error: str = ""
    files: List[str] = field(default_factory=list)


class Dispatcher:
    """Hands out the plan's pending runs in order while they fit in the time left, and
    collects what came back.  Shared by the in-process loop, the worker threads and Dask."""

    def __init__(self, plan, end: float, *, device: str, threads: Optional[int], jobs: int,
                 whole: bool = False, data: Optional[str] = None, log: Callable[[str], None] = print,
                 ckpt_limit: Optional[float] = None):
        self.plan, self.end, self.device, self.threads = plan, end, device, threads
        self.ckpt_limit = ckpt_limit
        self.whole, self.data, self.log = whole, data, log
        self.todo = [e for e in plan.entries if not e.stored]
        self.started: Dict[str, Any] = {}
        self.outcomes: List[Outcome] = []
        self.ratios: List[float] = []
        self.contention = 1.0 if jobs <= 1 else 0.5 + 0.5 * jobs  # until epochs are observed
        self.lock = threading.Lock()

    # estimates in seconds on this device, corrected by what was observed
    def ratio(self) -> float:
        return max(self.ratios[-3:]) if self.ratios else self.contention

    def _epoch_estimate(self, e) -> float:
        from . import costs
        return costs.epoch_seconds(e.config, self.device, self.threads or 1, e.probe)

    def need(self, e) -> float:
        """Seconds that must be left to start ``e``."""
        from . import costs
        overhead = costs.RUN_OVERHEAD_S if self.device != "cpu" else costs.CPU_RUN_OVERHEAD_S
        whole = self.whole or (self.ckpt_limit is not None and e.checkpoint_bytes > self.ckpt_limit)
        epochs = e.epochs - e.epochs_done if (e.probe is not None or whole) else 1
        return SAFETY * (overhead + self.ratio() * epochs * self._epoch_estimate(e))

    def next_task(self) -> Optional[Dict[str, Any]]:
        """The next run that fits, as a task for :func:`execute`; None when none fits."""
        with self.lock:
            left = self.end - time.time()
            for e in list(self.todo):
                if Path(e.path).is_file():  # stored meanwhile (another queue, a Dask worker)
                    self.todo.remove(e)
                    self.outcomes.append(Outcome(e.key, e.names(), "already", e.epochs, e.epochs, 0.0))
                    continue
                if self.need(e) <= left:
                    self.todo.remove(e)
                    self.started[e.key] = e
                    return {"key": e.key, "config": e.config, "probe": e.probe, "store": e.store,
                            "results": str((Path(self.plan.results) / e.store).resolve()), "end": self.end,
                            "data": self.data, "threads": self.threads, "epochs_before": e.epochs_done}
            return None

    def record(self, r: Dict[str, Any]) -> Outcome:
        with self.lock:
            e = self.started.get(r["key"])
            names = e.names() if e is not None else [r["key"]]
            o = Outcome(r["key"], names, r["status"], int(r.get("epochs_done", 0)), int(r.get("epochs", 0)),
                        float(r.get("seconds", 0.0)), r.get("error", ""), list(r.get("files", [])))
            self.outcomes.append(o)
            if e is not None and r.get("epoch_s"):
                est = self._epoch_estimate(e)
                if est > 0:
                    self.ratios.append(float(r["epoch_s"]) / est)
            if e is not None and o.status == "out_of_time":
                e.epochs_done = o.epochs_done
            if e is not None and o.status == "failed":
                self.log(f"failed: {e.key} {'; '.join(names)}: {o.error}")
        what = {"done": "done", "out_of_time": f"checkpointed at epoch {o.epochs_done}/{o.epochs}",
                "failed": "FAILED", "already": "already stored",
                "locked": "skipped, another process trains it"}.get(o.status, o.status)
        self.log(f"  {what}: {o.key} {names[0]} ({o.seconds:.0f}s)")
        return o


# -- ways to run the tasks -----------------------------------------------------------------
def _in_process(disp: Dispatcher) -> None:
    while True:
        task = disp.next_task()
        if task is None:
            return
        disp.record(execute(task))


def _worker_env() -> Dict[str, str]:
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


def _with_workers(disp: Dispatcher, jobs: int) -> None:
    """``jobs`` worker processes, each fed one task at a time by a thread of this one."""
    import subprocess
    procs: List[subprocess.Popen] = []

    def serve(proc: subprocess.Popen) -> None:
        # The worker says it is ready once torch and the trainer are imported, so the time
        # that takes is not charged to the first run's first epoch.
        if not proc.stdout.readline():
            disp.log("warning: a worker process ended before it was ready")
            return
        while True:
            task = disp.next_task()
            if task is None:
                break
            try:
                proc.stdin.write(json.dumps(task) + "\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
            except (BrokenPipeError, OSError):
                line = ""
            if not line:
                disp.record({"key": task["key"], "status": "failed", "epochs": task["config"].get("epochs", 0),
                             "epochs_done": task.get("epochs_before", 0),
                             "error": "the worker process ended (killed at the budget's end, or crashed)"})
                return
            disp.record(json.loads(line))
        try:
            proc.stdin.close()
        except OSError:
            pass

    threads = []
    for _ in range(jobs):
        p = subprocess.Popen([sys.executable, "-m", "cnnreport.compute.queue", "--worker"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=_worker_env(), bufsize=1)
        procs.append(p)
        t = threading.Thread(target=serve, args=(p,), daemon=True)
        t.start()
        threads.append(t)
    hard = disp.end + HARD_STOP_GRACE_S
    for t in threads:
        t.join(max(0.0, hard - time.time()))
    for t, p in zip(threads, procs):
        if t.is_alive():  # still training past the budget and its grace
            disp.log(f"warning: a worker was still busy {HARD_STOP_GRACE_S:.0f}s past the budget; killed "
                     f"(its run resumes from its last checkpoint)")
            p.kill()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    for t in threads:
        t.join(5)


def _with_dask(disp: Dispatcher, scheduler: str) -> None:
    """One task per run on an existing Dask cluster, as many in flight as it has workers."""
    from distributed import Client, wait
    client = Client(scheduler, timeout="30s")
    try:
        slots = max(1, len(client.scheduler_info().get("workers", {})))
        inflight: Dict[Any, Dict[str, Any]] = {}
        while True:
            while len(inflight) < slots:
                task = disp.next_task()
                if task is None:
                    break
                fut = client.submit(execute, task, pure=False, key=f"cnnreport-run-{task['key']}-{time.time_ns()}")
                inflight[fut] = task
            if not inflight:
                return
            left = disp.end + HARD_STOP_GRACE_S - time.time()
            if left <= 0:
                for fut, task in inflight.items():
                    fut.cancel()
                    disp.record({"key": task["key"], "status": "failed", "epochs": task["config"].get("epochs", 0),
                                 "epochs_done": task.get("epochs_before", 0),
                                 "error": "still running past the budget; cancelled"})
                return
            done, _ = wait(list(inflight), timeout=left, return_when="FIRST_COMPLETED")
            for fut in done:
                task = inflight.pop(fut)
                try:
                    disp.record(fut.result())
                except Exception as e:  # noqa: BLE001 - the worker died
                    disp.record({"key": task["key"], "status": "failed", "epochs": task["config"].get("epochs", 0),
                                 "epochs_done": task.get("epochs_before", 0), "error": f"{type(e).__name__}: {e}"})
    finally:
        client.close()


# -- the queue -----------------------------------------------------------------------------
@dataclass
class Report:
    profile: str
    budget: float
    seconds: float
    outcomes: List[Outcome]
    pending: List[Any]            # plan entries not finished
    results: str
    archives: List[str] = field(default_factory=list)
    left_out: List[str] = field(default_factory=list)

    @property
    def done(self) -> List[Outcome]:
        return [o for o in self.outcomes if o.status == "done"]

    @property
    def in_progress(self) -> List[Outcome]:
        return [o for o in self.outcomes if o.status == "out_of_time"]

    @property
    def failed(self) -> List[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def produced(self, with_checkpoints: bool = False) -> List[str]:
        """Files (relative to the results folder) this call wrote."""
        out = []
        for o in self.outcomes:
            if o.status == "done" or (with_checkpoints and o.status == "out_of_time"):
                out += o.files
        return list(dict.fromkeys(out))

    def to_json(self) -> Dict[str, Any]:
        return {"profile": self.profile, "budget_s": self.budget, "seconds": round(self.seconds, 1),
                "results": self.results,
                "done": [{"key": o.key, "uses": o.names, "epochs": o.epochs_done, "seconds": round(o.seconds, 1)}
                         for o in self.done],
                "in_progress": [{"key": o.key, "uses": o.names, "epochs_done": o.epochs_done, "epochs": o.epochs}
                                for o in self.in_progress],
                "failed": [{"key": o.key, "uses": o.names, "error": o.error} for o in self.failed],
                "pending": [{"key": e.key, "tier": e.tier, "uses": e.names(), "epochs_done": e.epochs_done,
                             "epochs": e.epochs, "est_gpu_s": round(e.remaining_s(), 1)} for e in self.pending],
                "archives": self.archives, "left_out": self.left_out}

    def summary(self) -> str:
        from .plan import fmt_s
        lines = [f"queue ({self.profile} profile, results {self.results}): used {self.seconds:.0f}s "
                 f"of a {self.budget:.0f}s budget"]
        lines.append(f"done: {len(self.done)} run(s)")
        lines += [f"  {o.key} {o.names[0]}: {o.epochs_done} epochs, {o.seconds:.0f}s" for o in self.done]
        lines.append(f"in progress (checkpointed, the next call resumes): {len(self.in_progress)}")
        lines += [f"  {o.key} {o.names[0]}: {o.epochs_done}/{o.epochs} epochs" for o in self.in_progress]
        if self.failed:
            lines.append(f"failed: {len(self.failed)}")
            lines += [f"  {o.key} {o.names[0]}: {o.error}" for o in self.failed]
        est = sum(e.remaining_s() for e in self.pending)
        lines.append(f"pending: {len(self.pending)} run(s), about {fmt_s(est)} on the H200")
        lines += [f"  tier {e.tier} {e.key} {e.names()[0]}" + (f" ({e.epochs_done}/{e.epochs} epochs)"
                                                               if e.epochs_done else "")
                  for e in self.pending[:10]]
        if len(self.pending) > 10:
            lines.append(f"  ... and {len(self.pending) - 10} more (python -m cnnreport plan)")
        for a in self.archives:
            lines.append(f"archive: {a}")
        for x in self.left_out:
            lines.append(f"not packed: {x}")
        return "\n".join(lines)


def warm_up() -> None:
    """Import what the first run would import inside its first epoch (the trainer, the
    optional TensorBoard writer), so that time is spent before the budget decisions, not
    inside a first epoch the gate thought would fit."""
    from .. import training  # noqa: F401
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except Exception:  # noqa: BLE001 - optional, as in the trainer
        pass


def device_kind() -> str:
    import torch
    return "h200" if torch.cuda.is_available() else "cpu"


def run(plan, budget: float, *, jobs: int = 1, scheduler: Optional[str] = None, whole: bool = False,
        margin: float = 0.0, started: Optional[float] = None, data: Optional[str] = None,
        log: Callable[[str], None] = print, ckpt_limit: Optional[float] = None) -> Report:
    """Train ``plan``'s pending runs for at most ``budget`` seconds from ``started``
    (default: now), keeping ``margin`` seconds free at the end.  ``ckpt_limit``: a run whose
    checkpoint would be larger (bytes) starts only if all of it fits, as with ``whole``."""
    from . import plan as P
    t0 = time.time() if started is None else float(started)
    end = t0 + float(budget) - float(margin) - END_MARGIN_S
    device = device_kind()
    plan.entries = P.order_entries(plan.entries, device)  # audit rows per hour of this device
    if not scheduler and jobs <= 1:
        warm_up()
    cores = os.cpu_count() or 1
    threads = max(1, cores // max(1, jobs)) if (jobs > 1 or device == "cpu") else None
    if device == "cpu" and jobs <= 1:
        import torch
        threads = torch.get_num_threads()
    disp = Dispatcher(plan, end, device=device, threads=threads, jobs=jobs, whole=whole,
                      data=data or os.environ.get(DATA_ENV), log=log, ckpt_limit=ckpt_limit)
    log(f"queue: {len(disp.todo)} pending run(s) of the {plan.profile} profile, "
        f"{max(0.0, end - time.time()):.0f}s to train on {device}"
        + (f" with {jobs} jobs" if jobs > 1 else "") + (f" on {scheduler}" if scheduler else ""))
    if scheduler:
        _with_dask(disp, scheduler)
    elif jobs > 1:
        _with_workers(disp, jobs)
    else:
        _in_process(disp)
    P.refresh(plan)
    pending = [e for e in plan.entries if not e.stored]
    return Report(plan.profile, float(budget), time.time() - t0, disp.outcomes, pending, str(plan.results))


# -- the worker ------------------------------------------------------------------------------
def worker_main() -> int:
    """Read one JSON task per line from stdin, answer one JSON line per task on stdout."""
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else printed goes to stderr, never into the protocol
    sys.stdout = sys.stderr
    warm_up()  # before saying ready: see _with_workers
    proto.write(json.dumps({"ready": True}) + "\n")
    proto.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        proto.write(json.dumps(execute(json.loads(line))) + "\n")
        proto.flush()
    return 0


def run_and_pack(plan, budget: float, *, started: float, pack_to: Union[str, Path, None] = None,
                 with_checkpoints: bool = False, max_parts: Optional[int] = None, jobs: int = 1,
                 scheduler: Optional[str] = None, whole: bool = False, data: Optional[str] = None,
                 log: Callable[[str], None] = print, ckpt_limit: Optional[float] = None) -> Report:
    """Plan -> run -> pack, as the queue's and the GPU machine's commands both do: train
    ``plan`` within ``budget`` seconds from ``started`` (keeping time to pack when packing),
    then write this call's results (and, ``with_checkpoints``, the checkpoints of the runs
    left unfinished) to the archive ``pack_to``.  The report's ``seconds`` count from
    ``started``."""
    report = run(plan, budget, jobs=max(1, jobs), scheduler=scheduler, whole=whole,
                 margin=PACK_MARGIN_S if pack_to else 0.0, started=started, data=data, log=log,
                 ckpt_limit=ckpt_limit)
    if pack_to:
        from .archive import pack
        written, left_out = pack(plan.results, report.produced(with_checkpoints), pack_to, max_parts=max_parts)
        report.archives, report.left_out = [str(w) for w in written], left_out
    report.seconds = time.time() - started
    return report


def write_summary(path: Union[str, Path], summary: Dict[str, Any]) -> None:
    """A summary as JSON, written atomically."""
    from ..core.cache import atomic_write_bytes
    atomic_write_bytes(Path(path), json.dumps(summary, indent=1, default=str).encode())


def main(argv: Optional[Sequence[str]] = None) -> int:
    from . import plan as P
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--worker"]:
        return worker_main()
    p = argparse.ArgumentParser(prog="cnnreport queue", description=__doc__.split("\n\n")[0])
    P.add_selection_args(p)
    p.add_argument("--budget", type=float, help="seconds this command may take, from its start")
    p.add_argument("--jobs", type=P.int_in(1), default=1, help="runs trained at once, each in a worker process")
    p.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://host:port)")
    p.add_argument("--whole", action="store_true",
                   help="start a run only if all its remaining epochs fit (no checkpoint left behind); "
                        "the default on a CPU, whose checkpoints do not outlive its machine")
    p.add_argument("--partial", action="store_true",
                   help="on a CPU, also start runs that fit only in part (they leave a checkpoint)")
    p.add_argument("--pack", metavar="FILE", help="write this call's results into FILE (tar.gz, <= 16 MiB a part)")
    p.add_argument("--with-checkpoints", action="store_true",
                   help="with --pack: add the checkpoints of the runs left unfinished")
    p.add_argument("--unpack", nargs="+", metavar="FILE", help="check an archive's files and merge them")
    p.add_argument("--summary", metavar="FILE", help="also write the summary as JSON")
    p.add_argument("--skip-broken", action="store_true",
                   help="leave out (and name) a chapter that cannot be planned instead of failing")
    a = p.parse_args(argv)
    results = Path(a.results) if a.results else None
    if a.unpack:
        from .archive import unpack_all
        from ..core.paths import results_root
        return unpack_all(a.unpack, results or results_root(a.profile))
    if a.budget is None or a.budget <= 0:
        p.error("--budget SECONDS is required (and > 0) to train")
    if a.with_checkpoints and not a.pack:
        p.error("--with-checkpoints needs --pack FILE")
    try:
        plan = P.build(a.profile, a.chapters, a.tier, results, P.parse_overrides(a.parameter), runs=a.runs,
                       strict=not a.skip_broken, reports=a.reports, noise=a.noise)
    except P.PlanError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for c, why in plan.errors.items():
        print(f"warning: left out {c}: {why}", file=sys.stderr)
    from .archive import PART_LIMIT
    if a.whole and a.partial:
        p.error("--whole and --partial contradict each other; give one")
    whole = a.whole or (device_kind() == "cpu" and not a.partial and not a.scheduler)
    report = run_and_pack(plan, a.budget, started=STARTED, pack_to=a.pack, with_checkpoints=a.with_checkpoints,
                          jobs=a.jobs, scheduler=a.scheduler, whole=whole,
                          ckpt_limit=PART_LIMIT if a.with_checkpoints else None)
    print(report.summary())
    if a.summary:
        write_summary(a.summary, report.to_json())
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
