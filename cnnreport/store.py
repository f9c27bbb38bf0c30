"""The results store: one small JSON file per run, keyed by the hash of its config.

``<root>/<key>.json`` holds a :class:`Result`; weights, when asked for, go beside it as
``<key>.pt``.  Every write goes to a temporary file in the same folder and is renamed
into place, so a reader never sees a torn file and concurrent writers of the same key
leave one complete copy.  The root is the ``root`` argument, else ``$CNNREPORT_RESULTS``,
else ``./results``.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Union

from .config import RunConfig

ENV_VAR = "CNNREPORT_RESULTS"

# Per-epoch series in ``Result.history``, in this order.
HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "test_loss_curve",
                "test_acc_curve", "lr", "epoch_time", "images_per_sec")


@dataclass
class Result:
    """What a run produced.  ``history`` lists are per epoch, ``steps`` per optimizer step."""

    key: str
    config: Dict[str, Any]
    status: str = "ok"                      # ok | diverged | pending (not trained yet, see cnnreport.queue)
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
    per_class_acc: List[float] = field(default_factory=list)
    confusion: List[List[int]] = field(default_factory=list)  # rows: true class, cols: predicted
    classes: List[str] = field(default_factory=list)
    num_params: Optional[int] = None
    train_time: Optional[float] = None      # seconds, training epochs only
    total_time: Optional[float] = None      # seconds, including evaluation
    environment: Dict[str, Any] = field(default_factory=dict)
    n_train: Optional[int] = None
    n_val: Optional[int] = None
    n_test: Optional[int] = None
    first_conv: List[Any] = field(default_factory=list)  # weights of the first conv layer (O, C, k, k), for filter plots

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"

    @property
    def pending(self) -> bool:
        """Not trained yet: a placeholder for a run that waits for a GPU."""
        return self.status == "pending"

    @classmethod
    def placeholder(cls, cfg: RunConfig) -> "Result":
        """The stand-in for a run that is not stored and may not be trained here."""
        return cls(key=cfg.key(), config=cfg.to_dict(), status="pending",
                   reason="not trained yet: it waits for a GPU (python -m cnnreport.queue)")

    @property
    def best_val_acc(self) -> Optional[float]:
        va = self.history.get("val_acc") or []
        return max(va) if va else None

    def to_dict(self) -> Dict[str, Any]:
        from dataclasses import asdict
        return asdict(self)

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


def json_safe(o: Any) -> Any:
    """JSON has no NaN/inf: write them as null so the file stays standard JSON.  NumPy
    scalars become Python numbers."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: json_safe(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [json_safe(v) for v in o]
    if getattr(o, "ndim", None) == 0 and hasattr(o, "item"):
        return json_safe(o.item())
    return o


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ResultStore:
    """A folder of results keyed by config hash."""

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
        if not p.is_file():
            return None
        try:
            return Result.from_dict(json.loads(p.read_text()))
        except (json.JSONDecodeError, TypeError) as e:
            raise ValueError(f"{p}: unreadable result file ({e}); delete it to recompute") from e

    def put(self, result: Result) -> Path:
        p = self.path(result.key)
        atomic_write_bytes(p, json.dumps(json_safe(result.to_dict()), separators=(",", ":")).encode())
        return p

    def delete(self, key: str) -> None:
        for p in (self.path(key), self.weights_path(key)):
            p.unlink(missing_ok=True)

    def __iter__(self) -> Iterator[Result]:
        if not self.root.is_dir():
            return
        for p in sorted(self.root.glob("*.json")):
            try:
                yield Result.from_dict(json.loads(p.read_text()))
            except (json.JSONDecodeError, TypeError):
                continue

    def results(self) -> List[Result]:
        return list(self)

    def __len__(self) -> int:
        return len(list(self.root.glob("*.json"))) if self.root.is_dir() else 0

    def __repr__(self) -> str:
        return f"ResultStore({str(self.root)!r}, {len(self)} results)"


def run_or_load(config: Union[RunConfig, Dict[str, Any]], store: Union[ResultStore, str, os.PathLike, None] = None,
                *, force: bool = False, progress: bool = True, save_weights: bool = False,
                data=None) -> Result:
    """Return the stored result of ``config``, training it first if it is not stored.

    ``force=True`` trains again and overwrites.  An interrupted run resumes from its
    checkpoint in ``<store>/checkpoints/<key>/``.
    """
    from .trainer import fit

    cfg = RunConfig.from_dict(config)
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    if not force:
        found = store.get(cfg)
        if found is not None:
            return found
    return fit(cfg, store=store, progress=progress, save_weights=save_weights, data=data)
