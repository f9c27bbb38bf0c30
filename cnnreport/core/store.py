"""The results store: one small JSON file per run, keyed by the hash of its config.

``<root>/<key>.json`` holds a :class:`Result` of a PyTorch run, keyed by
:meth:`RunConfig.key`; weights, when asked for, go beside it as ``<key>.pt``.  The NumPy
runs of :mod:`cnnreport.scratch` are Results too, in the subfolder ``<root>/scratch/``
(see :mod:`cnnreport.scratch.store`), keyed by the same hash of their own config.  Files
are written and read with :mod:`cnnreport.core.cache`: atomically, so a reader never sees a
torn file and concurrent writers of one key leave one complete copy, and a file that
does not parse is an error naming it.  The root is the ``root`` argument, else
``$CNNREPORT_RESULTS``, else ``./results``.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Union

from .cache import CorruptFileError, read_json, write_json
from .config import EXECUTION_FIELDS, ConfigError, RunConfig
from .paths import RESULTS_ENV

ENV_VAR = RESULTS_ENV  # named once, in cnnreport.core.paths
# The subfolder for control runs that share a key with a stored run and differ only in how
# they execute (an fp32 twin of a bf16 run: precision is not part of the key).
CONTROLS_DIR = "controls"

# Per-epoch series in ``Result.history``, in this order.
HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss_curve",
                "test_acc_curve", "lr", "epoch_time", "images_per_sec")


@dataclass
class Result:
    """What a run produced.  ``history`` lists are per epoch, ``steps`` per optimizer step."""

    key: str
    config: Dict[str, Any]
    status: str = "ok"                      # ok | diverged | pending (not trained yet, see cnnreport.compute.queue)
    reason: str = ""                        # why a run diverged or stopped early
    history: Dict[str, List[float]] = field(default_factory=dict)
    # HISTORY_KEYS: per epoch; test_*_curve are never used for selection
    steps: Dict[str, List[float]] = field(default_factory=dict)  # loss, lr
    best_epoch: Optional[int] = None        # 1-based, by validation accuracy
    stopped_epoch: Optional[int] = None     # last epoch trained
    early_stopped: bool = False
    diverged_step: Optional[int] = None
    test_loss: Optional[float] = None       # of the selected weights (best validation epoch)
    test_acc: Optional[float] = None        # in [0, 1], of the selected weights
    final_test_loss: Optional[float] = None  # of the weights after the last epoch trained
    final_test_acc: Optional[float] = None   # in [0, 1]; equals test_acc when nothing is selected
    per_class_acc: List[float] = field(default_factory=list)   # of the selected weights
    confusion: List[List[int]] = field(default_factory=list)  # rows: true class, cols: predicted
    final_per_class_acc: List[float] = field(default_factory=list)  # of the weights after the last epoch
    final_confusion: List[List[int]] = field(default_factory=list)  # (empty in results stored before)
    classes: List[str] = field(default_factory=list)
    num_params: Optional[int] = None
    train_time: Optional[float] = None      # seconds, training epochs only
    total_time: Optional[float] = None      # seconds, including evaluation
    environment: Dict[str, Any] = field(default_factory=dict)
    n_train: Optional[int] = None
    n_val: Optional[int] = None
    n_test: Optional[int] = None
    first_conv: List[Any] = field(default_factory=list)  # weights of the first conv layer (O, C, k, k), for filter plots
    # What one kind of run records beyond the fields above; empty for PyTorch runs (and then
    # not written).  NumPy runs: cpu_time, created, first_layer (the MLP's compact weights).
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    @property
    def done(self) -> bool:
        """Finished: trained to the end or stopped early, neither pending nor diverged."""
        return self.status == "ok"

    @property
    def pending(self) -> bool:
        """Not trained yet: a placeholder for a run that waits for a GPU."""
        return self.status == "pending"

    @classmethod
    def placeholder(cls, cfg: RunConfig) -> "Result":
        """The stand-in for a run that is not stored and may not be trained here."""
        return cls(key=cfg.key(), config=cfg.to_dict(), status="pending",
                   reason="not trained yet: it waits for a GPU (python -m cnnreport queue)")

    @property
    def best_val_acc(self) -> Optional[float]:
        # None where no validation pass ran (JSON has no NaN), or no split at all
        va = [v for v in self.history.get("val_acc") or [] if v is not None and v == v]
        return max(va) if va else None

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        # Fields added after results were stored are written only when set, so a stored
        # result keeps the shape it was stored in (reading and writing it gives the same JSON).
        for k in ("extra", "final_per_class_acc", "final_confusion"):
            if not d[k]:
                del d[k]
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Result":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def __repr__(self) -> str:
        if self.pending:
            return f"Result({self.config.get('model')!r} on {self.config.get('dataset')!r}, pending, key={self.key})"
        acc = "n/a" if self.test_acc is None else f"{100 * self.test_acc:.2f}%"
        return (f"Result({self.config.get('model')!r} on {self.config.get('dataset')!r}, "
                f"status={self.status}, test_acc={acc}, best_epoch={self.best_epoch}, key={self.key})")


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


def run_identity(config: Dict[str, Any]) -> str:
    """What names a run whatever its seed: the key of its config at seed 0, so the seeds that
    two chapters stored under their own names and spellings of the defaults group together;
    for a config that is not a :class:`RunConfig` (a NumPy run's), the config without its
    seed and the fields that do not change the result."""
    try:
        return RunConfig.from_dict({**config, "seed": 0}).key()
    except ConfigError:  # another kind of config: compare it as written
        skip = {"seed", *EXECUTION_FIELDS}
        return json.dumps({k: v for k, v in config.items() if k not in skip}, sort_keys=True, default=str)


def seed_groups(items: Any) -> Dict[str, List[Any]]:
    """The results of :func:`flatten_results` grouped by run (:func:`run_identity`): one
    group holds a run's seeds."""
    groups: Dict[str, List[Any]] = {}
    for r in flatten_results(items):
        groups.setdefault(run_identity(getattr(r, "config", None) or {}), []).append(r)
    return groups


class ResultStore:
    """A folder of results keyed by config hash (``<root>/<key>.json``)."""

    def __init__(self, root: Union[str, os.PathLike, None] = None):
        self.root = Path(root if root is not None else os.environ.get(ENV_VAR, "results")).expanduser()

    def path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def weights_path(self, key: str) -> Path:
        return self.root / f"{key}.pt"

    def checkpoint_dir(self, key: str) -> Path:
        return self.root / "checkpoints" / key

    def log_dir(self) -> Path:
        return self.root / "logs"

    def __contains__(self, cfg: Union[RunConfig, str]) -> bool:
        key = cfg if isinstance(cfg, str) else cfg.key()
        return self.path(key).is_file()

    def get(self, cfg: Union[RunConfig, str]) -> Optional[Result]:
        key = cfg if isinstance(cfg, str) else cfg.key()
        p = self.path(key)
        d = read_json(p, "result file")
        if d is None:
            return None
        try:
            return Result.from_dict(d)
        except TypeError as e:  # valid JSON, but not a Result (a field is missing)
            raise CorruptFileError(f"{p}: not a result file ({e}). Delete it to recompute, or "
                                   f"restore it from git or a results archive") from e

    def put(self, result: Result) -> Path:
        return write_json(self.path(result.key), result.to_dict())

    def delete(self, key: str) -> None:
        for p in (self.path(key), self.weights_path(key)):
            p.unlink(missing_ok=True)

    def __iter__(self) -> Iterator[Result]:
        if not self.root.is_dir():
            return
        for p in sorted(self.root.glob("*.json")):
            try:  # a damaged file is skipped here; get() names it
                yield Result.from_dict(read_json(p, "result file"))
            except (CorruptFileError, TypeError):
                continue

    def results(self) -> List[Result]:
        return list(self)

    def __len__(self) -> int:
        return len(list(self.root.glob("*.json"))) if self.root.is_dir() else 0

    def __repr__(self) -> str:
        return f"ResultStore({str(self.root)!r}, {len(self)} results)"

