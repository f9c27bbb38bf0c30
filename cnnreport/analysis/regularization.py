"""What the augmentation and regularisation verdicts rest on: the gap between final
training and test accuracy of each configuration, how far a run lies from a report's
pair of numbers, and whether a claimed best setting is best.

A configuration is a list of :class:`cnnreport.store.Result` (one per seed); accuracies
are read with :meth:`cnnreport.chapter.Chapter.acc` (finished runs only, in %).
"""
from __future__ import annotations

import math
from typing import Mapping, Optional, Sequence, Tuple


def gap_table(runs: Mapping[str, Sequence], split: str = "001"):
    """One row per label of ``{label: [Result per seed]}``: final training and test
    accuracy (test read as ``split``), their difference in points, the rise of the test
    loss from its lowest epoch to the last (mean over finished runs), the epochs and
    whether the runs are pending.  Returns a DataFrame; NaN where no run finished."""
    import numpy as np
    import pandas as pd
    from ..chapter import Chapter
    rows = {}
    for k, rs in runs.items():
        ok = Chapter.done(rs)
        tl = [np.asarray(r.history["test_loss_curve"], dtype=float) for r in ok]
        rows[k] = {"final train (%)": Chapter.acc(rs, "final_train"), "test (%)": Chapter.acc(rs, split),
                   "train - test (points)": Chapter.acc(rs, "final_train") - Chapter.acc(rs, split),
                   "test loss: last - lowest": float(np.mean([v[-1] - np.nanmin(v) for v in tl]))
                   if tl else float("nan"),
                   "epochs": rs[0].config["epochs"],
                   "status": "pending" if Chapter.is_pending(rs) else "done"}
    return pd.DataFrame.from_dict(rows, orient="index")


def distance_from_claim(results: Sequence, claimed: Tuple[float, float], split: str = "001") -> float:
    """How far a configuration's final training and test accuracy (``split``) lie from a
    report's ``claimed = (train, test)`` in points: the larger of the two differences
    (NaN without a finished run)."""
    from ..chapter import Chapter
    return max(abs(Chapter.acc(results, "final_train") - claimed[0]),
               abs(Chapter.acc(results, split) - claimed[1]))


def closer_reading(distances: Mapping[str, float], tie: float = 0.01) -> Optional[str]:
    """Which of two readings lies closer to the report (``{name: distance}``, two entries):
    its name, "neither" when they are within ``tie`` points, None when one is missing."""
    (a, da), (b, db) = distances.items()
    if not (math.isfinite(da) and math.isfinite(db)):
        return None
    return "neither" if abs(da - db) < tie else (a if da < db else b)


def claimed_best_holds(accs: Mapping[float, float], claimed, n_claimed: int) -> Optional[bool]:
    """Whether ``claimed`` (a setting, e.g. dropout 0.7) has the best of the finite values
    ``accs`` (``{setting: accuracy}``).  Judged True or False once all ``n_claimed``
    settings ran; False already when another setting run here beats it; else None."""
    best = max(accs, key=accs.get) if accs else None
    if len(accs) == n_claimed:
        return best == claimed
    if claimed in accs and best != claimed:
        return False  # another setting already beats it
    return None
