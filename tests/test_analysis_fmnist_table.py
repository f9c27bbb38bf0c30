"""Report 002's table: our summary of a run's seeds, the table beside the report's, and the
audit rows that compare runs of it."""
import math

import numpy as np
import pytest

from cnnreport.core import stats as S
from cnnreport.analysis import fmnist_table as T
from cnnreport.pages.audit import Audit
from cnnreport.core.store import Result


def _run(acc, status="ok", val=(0.5, 0.8), train=(0.5, 0.85), loss=0.3, reason="", epoch_time=(2.0, 4.0)):
    return Result(key=f"{acc}-{status}", config={}, status=status, reason=reason,
                  test_acc=None if acc is None else acc / 100, final_test_acc=None if acc is None else acc / 100,
                  final_test_loss=loss, test_loss=0.9,
                  history={"val_acc": list(val), "train_acc": list(train), "epoch_time": list(epoch_time)})


def test_final_test_loss_prefers_the_last_epoch():
    assert T.final_test_loss(_run(90.0, loss=0.25)) == 0.25
    assert T.final_test_loss(_run(90.0, loss=None)) == 0.9


def test_summary_of_seeds():
    s = T.summary([_run(90.0, loss=0.2), _run(92.0, loss=0.4, val=(0.5, 0.9), train=(0.5, 0.9))])
    assert s["acc"] == pytest.approx(91.0) and s["acc_sd"] == pytest.approx(math.sqrt(2))
    assert s["test_loss"] == pytest.approx(0.3)
    assert s["gap"] == pytest.approx((5.0 + 0.0) / 2)
    assert s["status"] == "ok" and s["note"] == "" and s["epoch_s"] == pytest.approx(3.0)
    assert math.isnan(T.summary([_run(90.0)])["acc_sd"])
    assert s["seeds"] == "2 of 2"
    assert T.summary([_run(90.0), Result(key="p", config={}, status="pending")])["seeds"] == "1 of 2"


def test_summary_status_and_notes():
    assert T.summary([Result(key="p", config={}, status="pending")])["status"] == "pending"
    div = T.summary([_run(None, status="diverged", reason="loss stuck at ln 10")])
    assert div["status"] == "diverged" and div["note"] == "loss stuck at ln 10" and math.isnan(div["acc"])
    # seeds that disagree: the status says how many diverged, the accuracy is the others'
    mixed = T.summary([_run(None, status="diverged", reason="stuck"), _run(75.0), _run(None, status="diverged")])
    assert mixed["status"] == "2 of 3 seeds diverged" and mixed["acc"] == pytest.approx(75.0)
    assert mixed["note"] == "stuck" and mixed["seeds"] == "3 of 3"
    flat = T.summary([_run(10.0, val=(0.1, 0.12))])
    assert flat["status"] == "ok" and flat["note"] == T.AT_CHANCE


def test_run_number():
    assert T.run_number("run 17") == 17
    assert T.run_number("run x") == -1 and T.run_number("this run") == -1


def _table():
    report_runs = {"run 1": {"lr": 0.01}, "run 2": {"lr": 0.05}}
    runs = {"run 2": [_run(91.0), _run(93.0)], "mine": [_run(80.0)]}
    grid = {"mine": {"lr": 0.1}}
    report = {1: (91.66, 0.279, 4.73), 2: (91.69, 0.2617, 4.76)}
    return runs, T.report_table(report_runs, runs, grid, report, ["lr"])


def test_report_table_lays_ours_beside_the_report():
    runs, table = _table()
    assert list(table.index) == ["run 1", "run 2", "mine"]
    assert table.loc["run 2", "acc"] == pytest.approx(92.0) and table.loc["run 2", "claimed_acc"] == 91.69
    assert math.isnan(table.loc["run 1", "acc"]) and table.loc["run 1", "claimed_gap"] == 4.73
    assert table.loc["mine", "lr"] == 0.1 and math.isnan(table.loc["mine", "claimed_acc"])


def test_table_runs_gathers_values_over_seeds():
    runs, table = _table()
    t = T.TableRuns(runs, table[table.index.isin(list(runs))])
    assert t.have("run 2") and not t.have("run 2", "run 1")
    assert t.acc("run 2") == pytest.approx(92.0) and math.isnan(t.acc("run 1"))
    assert t.finite("run 2") and not t.finite("run 1")
    assert t.value("run 2", "acc") == pytest.approx(92.0) and np.isnan(t.value("run 1", "acc"))
    assert t.listing(["run 2", "run 1"]) == "run 2 92.00"
    assert t.listing(["run 1"]) == T.NOT_RUN
    assert len(t.results("run 2", "run 1")) == 2
    assert t.values("run 2") == [pytest.approx(91.0), pytest.approx(93.0)] and t.values("run 1") == []
    assert t.values("run 2", "gap") == [pytest.approx(5.0)] * 2
    assert t.values("run 2", "test_loss") == [0.3, 0.3] and t.values("run 2", "val_acc") == [80.0, 80.0]
    assert t.named("run 2", "gap", "batch 128")[0] == "batch 128"
    assert list(t.group(["mine", "run 2"])) == ["mine", "run 2"]
    assert t.diverged("run 2") == 0


def test_table_runs_measures_of_the_validation_loss():
    r = Result(key="k", config={}, status="ok", history={"val_loss": [1.0, 0.5, 0.55, 0.6]})
    t = T.TableRuns({"run 17": [r]}, None)
    assert t.values("run 17", "loss_rise") == [pytest.approx(20.0)]
    assert t.values("run 17", "loss_jitter") == [pytest.approx(np.std([0.05, 0.05], ddof=1))]


def test_table_runs_noise_of_a_measure_waits_for_pending_seeds():
    runs = {"run 2": [_run(91.0, train=(0.5, 0.84)), _run(93.0), _run(92.0, train=(0.5, 0.86))],
            "run 15": [_run(90.0), Result(key="p", config={}, status="pending")]}
    t = T.TableRuns(runs, None)
    gap = T.TableRuns({"run 2": runs["run 2"]}, None).noise("gap", ["run 2", "run 28"])
    assert gap.known and gap.df == 2 and gap.sd == pytest.approx(1.0) and "run 2 (gap)" in gap.source
    waiting = t.noise("gap", ["run 2", "run 15"])
    assert not waiting.known and len(waiting.waiting) == 1


def test_table_runs_rows_say_when_a_run_is_not_made():
    from cnnreport.analysis import verdicts as V
    runs, table = _table()
    t = T.TableRuns(runs, table[table.index.isin(list(runs))])
    a = Audit("hyperparams", "full")
    t.number(a, "run 2 reaches 91.69%", 91.69, "run 2")
    t.number(a, "run 1 reaches 91.66%", 91.66, "run 1")
    t.verdict(a, "run 2 beats mine", "92 vs 80", ["run 2", "mine"],
              lambda: V.comparison(t.named("run 2"), t.named("mine"), S.noise([[80.0, 80.5, 80.2]])))
    t.verdict(a, "run 1 beats run 2", "", ["run 1", "run 2"], lambda: pytest.fail("not called for a missing run"))
    rows = a.rows
    assert len(rows) == 4
    assert rows[1].measured == T.NOT_RUN and rows[3].measured == T.NOT_RUN and "run 1" in rows[3].reason
    # run 2 has two seeds 2 points apart: a t-interval on one degree of freedom is wide
    assert rows[2].verdict == S.INCONCLUSIVE and "run 2 −" in rows[2].measured


def test_gaps_leave_out_runs_with_a_diverged_seed():
    report_runs = {"run 1": {"optimizer": "sgd"}, "run 2": {"optimizer": "sgd"},
                   "run 3": {"optimizer": "adam"}, "run 4": {"optimizer": "adam"}}
    runs = {"run 1": [_run(88.0)], "run 2": [_run(91.0), _run(93.0)],
            "run 3": [_run(None, status="diverged"), _run(75.0)], "run 4": [_run(91.5)]}
    report = {1: (91.66, 0.3, 4.7), 2: (91.0, 0.3, 4.7), 3: (10.0, 2.303, 0.0), 4: (92.0, 0.3, 4.0)}
    table = T.report_table(report_runs, runs, {}, report, ["optimizer"])
    g = T.gaps(table)
    assert sorted(g) == ["adam", "sgd"]
    assert list(g["adam"].index) == ["run 4"] and g["adam"]["run 4"] == pytest.approx(-0.5)
    assert g["sgd"].to_dict() == {"run 1": pytest.approx(-3.66), "run 2": pytest.approx(1.0)}
    assert T.gap_span(g["sgd"]) == "-3.7 (run 1) to +1.0 (run 2)"
    assert T.gap_span(g["adam"].iloc[:0]) == "not yet measured"
    # a table with no run made yet has no status column and no gaps
    assert T.gaps(T.report_table(report_runs, {}, {}, report, ["optimizer"])) == {}
