"""One command for a borrowed GPU machine: prepare the data, train within a budget, pack.

    python -m cnnreport remote --data .gpudata --out "$OUT" --budget 540 [--tier 1] [--profile full]

``--data DIR`` holds the datasets as they travel: ``mnist.npz`` and ``fashion_mnist.npz``,
and CIFAR-10 either as ``cifar10.npz`` or as the WebP mosaics of ``../shared/data``
(``cifar10/train-00.webp`` .. ``train-09.webp``, ``test-00.webp``, ``test-01.webp``,
``cifar10/labels.npz``) with ``materialize.py``, which this command runs to decode them
(it checks every array's SHA-256).  The datasets go to a temporary data root that
``CNNREPORT_DATA`` then names.  A dataset that is absent leaves its runs out: without
CIFAR-10 only the MNIST and Fashion-MNIST runs are queued, and the log says so.

Then :func:`cnnreport.compute.queue.run` trains the plan's pending runs of the profile into the
checkout's ``results/<profile>/`` until the budget (counted from this command's start,
less a margin for packing) is spent.  A run whose checkpoint could not come back in a
16 MiB archive part is started only if all of it fits.  Finally ``OUT`` receives
``results.tar.gz`` (and ``results.part2.tar.gz``, ... if needed: at most six parts) with
the results of this call and the checkpoints of the runs it left unfinished,
``summary.json`` (what was done, in progress and pending; the data found; the seconds
spent) and ``queue.log``.  Merge the archive here with
``python -m cnnreport queue --profile full --unpack results.tar.gz``.

Imports only what the GPU machine has (standard library, torch, numpy, yaml, tqdm and
cnnreport).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from . import queue as Q

MOSAICS = [f"train-{i:02d}.webp" for i in range(10)] + ["test-00.webp", "test-01.webp"]
DATASETS = ("mnist", "fashion_mnist", "cifar10")
MAX_PARTS = 6  # eight files come back from the machine: the parts, summary.json and queue.log


def prepare_data(src: Path, dest: Path, log: Callable[[str], None] = print) -> Dict[str, str]:
    """Make ``dest`` a data root holding what ``src`` provides; dataset -> how it was found."""
    dest.mkdir(parents=True, exist_ok=True)
    found: Dict[str, str] = {}
    for name in DATASETS:
        f = src / f"{name}.npz"
        if f.is_file():
            target = dest / f.name
            if not target.exists():
                target.symlink_to(f.resolve())
            found[name] = f"{f}"
    if "cifar10" not in found:
        mosaics = src / "cifar10"
        missing = [m for m in MOSAICS + ["labels.npz"] if not (mosaics / m).is_file()]
        if (src / "materialize.py").is_file() and mosaics.is_dir() and not missing:
            t = time.time()
            p = subprocess.run([sys.executable, str(src / "materialize.py"), str(dest), "--only", "cifar10"],
                               capture_output=True, text=True)
            if p.returncode == 0 and (dest / "cifar10.npz").is_file():
                found["cifar10"] = f"decoded from {mosaics} by materialize.py in {time.time() - t:.0f}s"
            else:
                log(f"warning: materialize.py failed ({p.returncode}): {(p.stdout + p.stderr)[-500:]}")
        elif mosaics.is_dir() or (src / "materialize.py").is_file():
            log(f"warning: CIFAR-10 incomplete in {src}: missing "
                f"{', '.join(missing) if mosaics.is_dir() else 'cifar10/'}"
                + ("" if (src / "materialize.py").is_file() else ", materialize.py"))
    return found


def main(argv: Optional[Sequence[str]] = None) -> int:
    from . import plan as P
    from .archive import PART_LIMIT
    p = argparse.ArgumentParser(prog="cnnreport remote", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="folder with the datasets as they travel (see above)")
    p.add_argument("--out", required=True, help="folder for results.tar.gz, summary.json and queue.log")
    p.add_argument("--budget", type=float, required=True, help="seconds this command may take, from its start")
    p.add_argument("--profile", default="full", choices=P.PROFILES)
    p.add_argument("--tier", type=P.int_in(1, 3), help="only tiers up to N")
    p.add_argument("--chapters", nargs="+", help="only these chapters")
    p.add_argument("--noise", action="store_true", help="also the noise runs' later seeds, ordered with tier 1")
    p.add_argument("--jobs", type=P.int_in(1), default=1, help="runs trained at once on the GPU (worker processes)")
    p.add_argument("--whole", action="store_true", help="start a run only if all its remaining epochs fit")
    p.add_argument("--no-checkpoints", action="store_true", help="do not pack the checkpoints of unfinished runs")
    a = p.parse_args(argv)
    if not Path(a.data).is_dir():
        p.error(f"--data {a.data}: no such folder; give the folder that holds materialize.py and "
                f"cifar10/, or the .npz files")
    if not a.budget > 0:
        p.error(f"--budget {a.budget:g}: must be > 0 seconds")
    started = Q.STARTED
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    lines: List[str] = []

    def log(msg: str) -> None:
        lines.append(msg)
        print(msg, flush=True)

    data_root = Path(tempfile.mkdtemp(prefix="cnnreport-data-"))
    found = prepare_data(Path(a.data), data_root, log)
    for name in DATASETS:
        log(f"data: {name}: {found.get(name, 'absent: its runs are not queued')}")
    if "cifar10" not in found:
        log("CIFAR-10 is absent: only the MNIST and Fashion-MNIST runs are queued")
    os.environ[Q.DATA_ENV] = str(data_root)
    summary: Dict[str, object] = {"data": found, "budget_s": a.budget, "profile": a.profile}
    code = 0
    try:
        plan = P.build(a.profile, a.chapters, a.tier, strict=False, noise=a.noise)
        for c, why in plan.errors.items():
            log(f"warning: left out {c}: {why}")
        plan.entries = [e for e in plan.entries if e.dataset in found]
        report = Q.run_and_pack(plan, a.budget, started=started, pack_to=out / "results.tar.gz",
                                with_checkpoints=not a.no_checkpoints, max_parts=MAX_PARTS, jobs=a.jobs,
                                whole=a.whole, data=str(data_root), log=log, ckpt_limit=PART_LIMIT)
        report.archives = [Path(w).name for w in report.archives]
        log(report.summary())
        summary.update(report.to_json())
        summary["plan_errors"] = plan.errors
        code = 1 if report.failed else 0
    except Exception as e:  # noqa: BLE001 - the summary must still come back
        import traceback
        log(f"error: {type(e).__name__}: {e}")
        summary["error"] = traceback.format_exc()
        code = 1
    summary["seconds"] = round(time.time() - started, 1)
    Q.write_summary(out / "summary.json", summary)
    from ..core.cache import atomic_write_bytes
    atomic_write_bytes(out / "queue.log", ("\n".join(lines) + "\n").encode())
    return code


if __name__ == "__main__":
    raise SystemExit(main())
