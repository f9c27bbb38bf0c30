"""What the augmentation and regularisation verdicts rest on: the gap between final
training and test accuracy of each configuration, how far a run lies from a report's
pair of numbers, and the chapter's rules (each returns a
:class:`~cnnreport.analysis.verdicts.Verdict` from 95% intervals over seeds).

A configuration is a list of :class:`cnnreport.core.store.Result` (one per seed); accuracies
are read with :func:`cnnreport.analysis.readings.acc` (finished runs only, in %).
"""
from __future__ import annotations

import math
from typing import List, Mapping, Optional, Sequence, Tuple

from ..core import stats as S
from . import verdicts as V
from . import readings as R

# Report 001's base recipe: "training accuracy steadily rising until it approaches 100%,
# test accuracy fluctuating around 90%".  Approaching 100% is read as above 95%: within 5
# points of it (the report's own training accuracies of this recipe are 94.87-97.99%).
APPROACHING_100 = 95.0
AROUND_90 = 90.0
# "No visible overfitting": the final training accuracy at most this many points above the
# test accuracy (the report's own erasing run: 89.888 - 88.860 = 1.03 points).
NO_OVERFIT_GAP = 2.0


def gap_table(runs: Mapping[str, Sequence], split: str = "001"):
    """One row per label of ``{label: [Result per seed]}``: final training and test
    accuracy (test read as ``split``), their difference in points, the rise of the test
    loss from its lowest epoch to the last (mean over finished runs), the epochs and
    whether the runs are pending.  Returns a DataFrame; NaN where no run finished."""
    import numpy as np
    import pandas as pd
    rows = {}
    for k, rs in runs.items():
        ok = R.done(rs)
        tl = [np.asarray(r.history["test_loss_curve"], dtype=float) for r in ok]
        rows[k] = {"final train (%)": R.acc(rs, "final_train"), "test (%)": R.acc(rs, split),
                   "train - test (points)": R.acc(rs, "final_train") - R.acc(rs, split),
                   "test loss: last - lowest": float(np.mean([v[-1] - np.nanmin(v) for v in tl]))
                   if tl else float("nan"),
                   "epochs": rs[0].config["epochs"],
                   "status": "pending" if R.is_pending(rs) else "done"}
    return pd.DataFrame.from_dict(rows, orient="index")


def distance_from_claim(results: Sequence, claimed: Tuple[float, float], split: str = "001") -> float:
    """How far a configuration's final training and test accuracy (``split``) lie from a
    report's ``claimed = (train, test)`` in points: the larger of the two differences
    (NaN without a finished run)."""
    return max(abs(R.acc(results, "final_train") - claimed[0]),
               abs(R.acc(results, split) - claimed[1]))


def closer_reading(distances: Mapping[str, float], tie: float = 0.01) -> Optional[str]:
    """Which of two readings lies closer to the report (``{name: distance}``, two entries):
    its name, "neither" when they are within ``tie`` points, None when one is missing."""
    (a, da), (b, db) = distances.items()
    if not (math.isfinite(da) and math.isfinite(db)):
        return None
    return "neither" if abs(da - db) < tie else (a if da < db else b)


def train_test_gaps(results: Sequence, split: str = "001") -> List[float]:
    """Per finished run, its final training accuracy minus its test accuracy (read as
    ``split``) in points: the gap of each seed, paired within the run."""
    return [tr - te for r in R.done(results)
            for tr, te in zip(R.accs([r], "final_train"), R.accs([r], split))]


def base_recipe_fit(train: Sequence[float], test: Sequence[float], tolerance: float,
                    noise: Optional[S.Noise] = None, train_bound: float = APPROACHING_100,
                    test_claim: float = AROUND_90) -> V.Verdict:
    """Report 001's "with crop + flip, training accuracy approaches 100% while the test
    accuracy stays around 90%": the training accuracies' interval above ``train_bound`` and
    the test accuracies a number claim of ``test_claim`` within ``tolerance``; both must hold."""
    return V.all_of({f"training above {train_bound:g}%": V.threshold(train, train_bound, below=False, noise=noise),
                     f"test around {test_claim:g}%": V.number_claim(test, test_claim, tolerance, noise)})


def no_visible_overfitting(gaps: Sequence[float], bound: float = NO_OVERFIT_GAP,
                           noise: Optional[S.Noise] = None) -> V.Verdict:
    """"No visible overfitting": the interval of the per-seed train - test gaps lies below
    ``bound`` points."""
    return V.threshold(gaps, bound, below=True, noise=noise, unit=" points")


def erasing_helps(erasing: Sequence[float], control: Sequence[float], noise: Optional[S.Noise] = None,
                  control_label: str = "crop + flip") -> V.Verdict:
    """Report 001's "random erasing improves generalisation": the erasing runs' test
    accuracies above those of their crop + flip control (``control_label``), on the interval
    of the difference of our seeds.  The report's own runs cannot say it: one run each,
    0.14 points apart, where its quotes of one recipe spread over 2.78 points."""
    return V.comparison(("crop + flip + erasing", erasing), (control_label, control), noise)


def claimed_best(best, groups: Mapping, n_claimed: int, noise: Optional[S.Noise] = None,
                 name=str) -> V.Verdict:
    """A report's claimed best setting ``best`` among ``groups`` (setting -> accuracies over
    seeds, the settings run here), of the ``n_claimed`` settings the report compared: it
    against each other one on its interval (:func:`~cnnreport.analysis.verdicts.best_of`).
    With some claimed settings not run it can be contradicted but not confirmed; ``name``
    turns a setting into its label."""
    labelled = {name(k): v for k, v in groups.items()}
    if best not in groups or len(groups) < 2:
        return V.Verdict(S.INCONCLUSIVE, ", ".join(labelled) or "nothing run",
                         f"{name(best)} and at least one other setting must run to be compared",
                         sum(len(S.finite(v)) for v in groups.values()))
    found = V.best_of(name(best), labelled, noise)
    if found.outcome == S.HOLDS and len(groups) < n_claimed:
        return V.Verdict(S.INCONCLUSIVE, found.measured,
                         f"{found.reason}, but only {len(groups)} of the {n_claimed} settings compared ran",
                         found.n)
    return found
