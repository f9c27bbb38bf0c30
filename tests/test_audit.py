"""The audit's verdict logic: what decides 'reproduced' is the report's conclusion."""
import json

import pytest

from cnnreport.audit import (FLAW, NOT_COMPARABLE, NOT_REPRODUCED, PENDING, REPRODUCED, Audit,
                             audit_html, fmt_mean_std, load_rows, mean_std)
from cnnreport.store import Result


def test_number_within_and_outside_tolerance_at_full():
    a = Audit("ch", "full")
    assert a.number("001", "acc", 90.0, [89.0, 90.0, 91.5], 1.0).verdict == REPRODUCED
    row = a.number("001", "acc", 90.0, [87.0, 88.0], 1.0)
    assert row.verdict == NOT_REPRODUCED and "-2.50% from the claim" in row.reason
    assert a.number("001", "acc", 90.0, [], 1.0).verdict == NOT_REPRODUCED  # nothing finished


def test_shortened_profiles_never_judge():
    for profile in ("smoke", "quick"):
        a = Audit("ch", profile)
        assert a.number("001", "acc", 90.0, [90.0], 1.0).verdict == NOT_COMPARABLE
        row = a.check("001", "order", True, "a > b")
        assert row.verdict == NOT_COMPARABLE and "holds at the" in row.reason
        assert a.check("001", "cheap", False, "x", needs_full=False).verdict == NOT_REPRODUCED


def test_pending_beats_every_other_verdict():
    done = Result(key="a", config={}, test_acc=0.9)
    waiting = Result(key="b", config={}, status="pending")
    a = Audit("ch", "full")
    row = a.number("001", "acc", 90.0, [90.0], 1.0, needs={"x": [done, waiting]})
    assert row.verdict == PENDING and row.measured == "90.00% (n=1) (partial)"
    assert "1 run(s)" in row.reason and "--chapters ch" in row.reason
    assert a.check("001", "q", True, "x", needs=[done]).verdict == REPRODUCED


def test_flaw_rows_and_html():
    a = Audit("ch", "quick")
    a.flaw("002", "batch size", "the table contradicts the text")
    assert a.rows[0].verdict == FLAW
    html = audit_html(a.rows)
    assert "audit-table" in html and FLAW in html


def test_mean_std_skips_non_finite():
    m, s = mean_std([1.0, float("nan"), 3.0])
    assert m == 2.0 and s == pytest.approx(2 ** 0.5)
    assert fmt_mean_std([90.0]) == "90.00% (n=1)" and fmt_mean_std([]) == "no finished run"


def test_rows_round_trip_in_chapter_order(tmp_path):
    for ch in ("b", "a"):
        a = Audit(ch, "full")
        a.check("000", f"claim {ch}", None, "-")
        a.save(tmp_path)
    rows = load_rows(tmp_path, order=["b", "a"])
    assert [r.chapter for r in rows] == ["b", "a"]
    assert json.loads((tmp_path / "audit" / "a.json").read_text())[0]["claim"] == "claim a"
