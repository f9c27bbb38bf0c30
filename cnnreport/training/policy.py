"""The decisions a run makes from its per-epoch numbers: which epoch to keep, when to stop.

Pure Python on plain floats (no torch), so each rule is tested without training:

* selection: the best epoch is the first with the highest validation accuracy; with no
  validation split the last evaluated epoch is kept.  The test set never takes part.
* early stopping: stop after ``early_stopping`` evaluations without a better one.
* divergence: a non-finite training loss, or ``divergence_patience`` epochs in a row at
  chance (loss about ln K and accuracy about 1/K, as report 002's Adam at lr 0.01 did:
  diverged without producing a NaN).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Dict, Optional, Sequence

OK, DIVERGED, EARLY_STOP = "ok", "diverged", "early_stop"


@dataclass
class PolicyState:
    """What the policy remembers between epochs (saved in every checkpoint)."""

    best_val: float = -1.0
    best_epoch: Optional[int] = None  # 1-based
    bad: int = 0                      # evaluations since the last improvement
    chance_epochs: int = 0            # consecutive epochs at chance

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "PolicyState":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__})

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass
class Decision:
    """The outcome of one epoch: whether its weights are the new best, and whether to stop."""

    improved: bool = False
    stop: str = OK      # ok (go on) | diverged | early_stop
    reason: str = ""


def first_nonfinite(step_losses: Sequence[float]) -> Optional[int]:
    """0-based index of the first NaN or infinite step loss, or None."""
    return next((i for i, v in enumerate(step_losses) if not math.isfinite(v)), None)


def at_chance(train_loss: float, train_acc: float, num_classes: int) -> bool:
    """Accuracy at most 1.5/K and loss at least 0.98 ln K: the run learns nothing."""
    return train_acc <= 1.5 / num_classes and train_loss >= 0.98 * math.log(num_classes)


@dataclass
class Policy:
    """Selection, early stopping and divergence rules of one run (0 or None turns a rule off)."""

    num_classes: int
    early_stopping: Optional[int] = None  # patience in evaluations; None or 0: off
    divergence_patience: int = 0

    def end_of_epoch(self, state: PolicyState, epoch: int, train_loss: float, train_acc: float,
                     evaluated: bool, val_acc: Optional[float]) -> Decision:
        """Update ``state`` after ``epoch`` (0-based) and decide.

        ``evaluated``: whether this epoch was evaluated (``eval_every``); ``val_acc`` is
        None when the run has no validation split, and then the latest epoch wins.
        """
        d = Decision()
        if evaluated:
            score = val_acc if val_acc is not None else float(epoch)
            if score > state.best_val:
                state.best_val, state.best_epoch, state.bad = score, epoch + 1, 0
                d.improved = True
            else:
                state.bad += 1
        K = self.num_classes
        state.chance_epochs = state.chance_epochs + 1 if at_chance(train_loss, train_acc, K) else 0
        if self.divergence_patience and state.chance_epochs >= self.divergence_patience:
            d.stop = DIVERGED
            d.reason = (f"stuck at chance for {state.chance_epochs} epochs (train loss "
                        f"{train_loss:.3f} ~ ln {K} = {math.log(K):.3f}, accuracy {100 * train_acc:.1f}%)")
        elif self.early_stopping and state.bad >= self.early_stopping:
            d.stop = EARLY_STOP
            d.reason = f"early stop: no better validation accuracy for {self.early_stopping} epochs"
        return d
