"""The run policy on plain numbers: selection, early stopping, divergence (no training)."""
import math

import pytest

from cnnreport.training.policy import DIVERGED, EARLY_STOP, OK, Policy, PolicyState, at_chance, first_nonfinite

LEARNING = (0.5, 0.9)  # (train loss, train accuracy) of a run that learns: never at chance


def run(policy, val_accs, evaluated=None, train=None):
    """Feed per-epoch numbers until the policy stops; returns (state, decisions)."""
    state, out = PolicyState(), []
    for e, va in enumerate(val_accs):
        tl, ta = train[e] if train else LEARNING
        d = policy.end_of_epoch(state, e, tl, ta, True if evaluated is None else evaluated[e], va)
        out.append(d)
        if d.stop != OK:
            break
    return state, out


def test_best_epoch_is_the_first_highest_validation_accuracy():
    state, ds = run(Policy(4), [0.3, 0.9, 0.5, 0.9])
    assert state.best_epoch == 2 and state.best_val == 0.9 and state.bad == 2
    assert [d.improved for d in ds] == [True, True, False, False]  # a tie keeps the earlier epoch


def test_without_a_validation_split_the_last_evaluated_epoch_wins():
    state, _ = run(Policy(4), [None] * 4, evaluated=[True, False, True, False])
    assert state.best_epoch == 3 and state.bad == 0


def test_epochs_not_evaluated_neither_improve_nor_count_as_bad():
    state, ds = run(Policy(4, early_stopping=1), [0.5, float("nan"), 0.6], evaluated=[True, False, True])
    assert state.best_epoch == 3 and all(d.stop == OK for d in ds)


def test_a_nan_validation_accuracy_is_no_improvement():
    state, _ = run(Policy(4), [0.5, float("nan")])
    assert state.best_epoch == 1 and state.bad == 1


def test_early_stopping_after_patience_evaluations_without_a_better_one():
    state, ds = run(Policy(4, early_stopping=2), [0.5, 0.8, 0.7, 0.6, 0.9, 0.9])
    assert len(ds) == 4 and ds[-1].stop == EARLY_STOP and "2 epochs" in ds[-1].reason
    assert state.best_epoch == 2
    for off in (None, 0):
        assert len(run(Policy(4, early_stopping=off), [0.5, 0.4, 0.3, 0.2])[1]) == 4


def test_chance_needs_both_loss_about_ln_k_and_accuracy_about_one_over_k():
    K = 10
    assert at_chance(math.log(K), 0.10, K) and at_chance(0.98 * math.log(K), 0.15, K)
    assert not at_chance(math.log(K), 0.16, K) and not at_chance(0.97 * math.log(K), 0.1, K)


def test_divergence_after_patience_consecutive_epochs_at_chance():
    chance, learning = (math.log(4), 0.25), LEARNING
    train = [chance, learning, chance, chance, chance]
    state, ds = run(Policy(4, divergence_patience=2), [0.5] * 5, train=train)
    assert len(ds) == 4 and ds[-1].stop == DIVERGED and "stuck at chance for 2 epochs" in ds[-1].reason
    assert state.chance_epochs == 2
    assert run(Policy(4, divergence_patience=0), [0.5] * 5, train=train)[1][-1].stop == OK


def test_divergence_is_reported_before_early_stopping():
    chance = (math.log(4), 0.25)
    _, ds = run(Policy(4, early_stopping=1, divergence_patience=2), [0.5, 0.4], train=[chance, chance])
    assert ds[-1].stop == DIVERGED


def test_first_nonfinite_step():
    assert first_nonfinite([1.0, 0.5]) is None
    assert first_nonfinite([1.0, float("inf"), float("nan")]) == 1
    assert first_nonfinite([]) is None


def test_state_round_trips_through_a_checkpoint_ledger():
    s = PolicyState(best_val=0.7, best_epoch=3, bad=1, chance_epochs=0)
    ledger = {"epoch": 4, **s.to_dict(), "best_state": None, "train_time": 1.5}
    assert PolicyState.from_dict(ledger) == s
    with pytest.raises(KeyError):
        PolicyState.from_dict({"epoch": 1})
