"""The audit's page logic on top of the verdict rules: pending, not comparable, noise."""
import json

import pytest

from cnnreport.core import stats as S
from cnnreport.pages.audit import (BY_EYE, CONTRADICTED, FLAW, HOLDS, INCONCLUSIVE, NOT_COMPARABLE, NOT_REPRODUCED,
                             PENDING, REPRODUCED, Audit, audit_html, fmt_mean_std, load_rows, mean_std)
from cnnreport.analysis import verdicts as V
from cnnreport.core.store import Result


def test_number_within_and_outside_tolerance_at_full():
    a = Audit("ch", "full")
    assert a.number("001", "acc", 90.0, [89.8, 90.0, 90.1], 1.0).verdict == REPRODUCED
    row = a.number("001", "acc", 90.0, [87.0, 87.1, 87.2], 1.0)
    assert row.verdict == NOT_REPRODUCED and "widened by ±1 point (mean -2.90 points from the claim)" in row.reason and "n=3" in row.measured
    # three seeds too far apart to pin the number down within the tolerance
    assert a.number("001", "acc", 90.0, [88.0, 90.0, 92.0], 1.0).verdict == INCONCLUSIVE
    assert a.number("001", "acc", 90.0, [], 1.0).verdict == NOT_REPRODUCED  # nothing finished


def test_one_seed_borrows_the_chapters_noise_or_waits_for_it():
    run = Result(key="a", config={"model": "lenet"}, test_acc=0.9)
    asked = []

    def lookup(report, models):
        asked.append((report, list(models)))
        return S.noise([[90.0, 90.2, 89.8]], source="noise run x")
    a = Audit("ch", "full", noise_lookup=lookup)
    row = a.number("004", "acc", 90.3, [90.0], 1.0, needs=[run])
    assert row.verdict == REPRODUCED and "pooled noise sd" in row.measured and asked == [("004", ["lenet"])]
    bare = Audit("ch", "full")
    row = bare.number("004", "acc", 90.3, [90.0], 1.0, needs=[run])
    assert row.verdict == PENDING and "--noise" in row.reason


def test_comparisons_hold_contradict_or_stay_inconclusive():
    a = Audit("ch", "full")
    assert a.compare("002", "A > B", ("A", [92.0, 92.1, 91.9]), ("B", [90.0, 90.2, 89.9])).verdict == HOLDS
    assert a.compare("002", "A > B", ("A", [90.0, 90.2, 89.9]), ("B", [92.0, 92.1, 91.9])).verdict == CONTRADICTED
    assert a.compare("002", "A > B", ("A", [90.0, 92.0, 91.0]), ("B", [91.0, 90.0, 91.5])).verdict == INCONCLUSIVE
    q = Audit("ch", "quick")
    row = q.compare("002", "A > B", ("A", [92.0, 92.1, 91.9]), ("B", [90.0, 90.2, 89.9]))
    assert row.verdict == NOT_COMPARABLE and "'holds'" in row.reason


def test_by_eye_rows_are_the_same_at_every_profile():
    for profile in ("quick", "full"):
        row = Audit("ch", profile).verdict("001", "filters look like edges", "(visual)", V.by_eye("the filter figure"))
        assert row.verdict == BY_EYE and "filter figure" in row.measured


def test_shortened_profiles_never_judge():
    for profile in ("smoke", "quick"):
        a = Audit("ch", profile)
        assert a.number("001", "acc", 90.0, [90.0], 1.0).verdict == NOT_COMPARABLE
        row = a.check("001", "order", True, "a > b")
        assert row.verdict == NOT_COMPARABLE and "holds at the" in row.reason
        assert a.check("001", "cheap", False, "x", needs_full=False).verdict == CONTRADICTED


def test_pending_beats_every_other_verdict():
    done = Result(key="a", config={}, test_acc=0.9)
    waiting = Result(key="b", config={}, status="pending")
    a = Audit("ch", "full")
    row = a.number("001", "acc", 90.0, [90.0], 1.0, needs={"x": [done, waiting]})
    assert row.verdict == PENDING and row.measured.startswith("90.00%") and row.measured.endswith("(partial)")
    assert "1 run(s)" in row.reason and "--chapters ch" in row.reason
    assert a.check("001", "q", True, "x", needs=[done]).verdict == HOLDS


def test_flaw_rows_and_html():
    a = Audit("ch", "quick")
    a.flaw("002", "batch size", "the table contradicts the text")
    assert a.rows[0].verdict == FLAW
    html = audit_html(a.rows)
    assert '<table class="audit-table">' in html and 'id="audit-table"' in html and FLAW in html
    # the audit page's table: a chapter column linking to the chapter's table, and its own
    # column widths (book/_static/cnnreport.css), without the anchor
    page = audit_html(a.rows, with_chapter=True)
    assert '<table class="audit-table by-chapter">' in page and 'id="audit-table"' not in page
    assert '<td><a href="ch.html#audit-table">ch</a></td>' in page


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


def test_the_summary_counts_rows_per_report_and_outcome():
    from cnnreport.pages.audit import outcome_counts, summary_sentence
    a = Audit("ch", "full")
    a.compare("002", "A > B", ("A", [92.0, 92.1, 91.9]), ("B", [90.0, 90.2, 89.9]))
    a.number("002", "acc", 90.0, [87.0, 87.1, 87.2], 1.0)
    a.flaw("000, 001", "shared", "one measurement for two reports")
    counts = outcome_counts(a.rows)
    assert list(counts.index) == ["000", "001", "002"]
    assert counts.loc["002", HOLDS] == 1 and counts.loc["002", NOT_REPRODUCED] == 1
    assert counts.loc["000", FLAW] == counts.loc["001", FLAW] == 1
    text = summary_sentence(counts, "full")
    assert "4 rows. Held: 1; did not hold: 1; inconclusive at our seeds: 0" in text and "002 1/1/0/0" in text
    assert "No chapter" in summary_sentence(outcome_counts([]), "quick")


def _seeds(n_stored: int, n_planned: int = 3, acc: float = 0.9, model: str = "alexnet_fmnist"):
    """One run's seeds: the first ``n_stored`` trained, the rest pending."""
    return [Result(key=f"{model}{s}", config={"model": model, "seed": s},
                   **({"test_acc": acc} if s < n_stored else {"status": "pending"})) for s in range(n_planned)]


def _noise_lookup(report, models):
    return S.noise([[90.0, 90.2, 89.8], [91.0, 91.3, 90.9]], source="noise runs 2, 15")


def test_a_number_is_judged_on_its_first_seed_while_the_others_train():
    a = Audit("hyperparams", "full", noise_lookup=_noise_lookup)
    run = _seeds(1)
    row = a.number("002", "acc", 90.3, [90.0], 1.0, needs=run)
    assert row.verdict == REPRODUCED and row.seeds_waiting == 2
    assert "interim, on 1 of 3 seed runs" in row.reason and "--chapters hyperparams" in row.reason
    far = a.number("002", "acc", 94.0, [90.0], 1.0, needs=run)
    assert far.verdict == NOT_REPRODUCED and far.seeds_waiting == 2
    # once every seed is stored the row is no longer interim
    assert a.number("002", "acc", 90.3, [90.0, 90.1, 89.9], 1.0, needs=_seeds(3)).seeds_waiting == 0


def test_an_interim_verdict_needs_a_seed_of_every_run_and_known_noise():
    a = Audit("hyperparams", "full", noise_lookup=_noise_lookup)
    better, worse = _seeds(1, model="vgg_fmnist"), _seeds(0)
    row = a.compare("002", "A > B", ("A", [92.0]), ("B", []), needs=[better, worse])
    assert row.verdict == PENDING and row.seeds_waiting == 0 and "waits for 5 run(s)" in row.reason
    held = a.compare("002", "A > B", ("A", [95.0]), ("B", [90.0]), needs=[better, _seeds(1)])
    assert held.verdict == HOLDS and held.seeds_waiting == 4
    unknown = Audit("hyperparams", "full", noise_lookup=lambda r, m: S.noise([], source="noise runs"))
    row = unknown.number("002", "acc", 90.3, [90.0], 1.0, needs=_seeds(1))
    assert row.verdict == PENDING and row.seeds_waiting == 0


def test_two_seeds_stored_judge_on_their_own_spread():
    a = Audit("hyperparams", "full")   # no noise lookup: two seeds need none
    row = a.number("002", "acc", 90.0, [89.9, 90.1], 5.0, needs=_seeds(2))
    assert row.verdict == REPRODUCED and row.seeds_waiting == 1 and "interim, on 2 of 3" in row.reason


def test_curve_rules_and_shortened_profiles_wait_for_every_seed():
    a = Audit("hyperparams", "full", noise_lookup=_noise_lookup)
    found = V.Verdict(HOLDS, "rise 3% vs 9%", "", 1)
    row = a.verdict("002", "converges better", "(curves)", found, needs=_seeds(1))   # no noise: a curve's shape
    assert row.verdict == PENDING and row.measured.endswith("(partial)")
    assert "1 of 3 seed runs stored; its rule reads every seed on its own" in row.reason
    assert a.verdict("002", "c", "x", found, needs=_seeds(1), noise=_noise_lookup("002", [])).verdict == HOLDS
    quick = Audit("hyperparams", "quick", noise_lookup=_noise_lookup)
    assert quick.number("002", "acc", 90.3, [90.0], 1.0, needs=_seeds(1)).verdict == PENDING


def test_the_summary_counts_interim_rows_and_rows_round_trip_them(tmp_path):
    from cnnreport.pages.audit import interim_rows, outcome_counts, summary_sentence
    a = Audit("hyperparams", "full", noise_lookup=_noise_lookup)
    a.number("002", "acc", 90.3, [90.0], 1.0, needs=_seeds(1))
    a.number("002", "acc", 90.3, [90.0, 90.1, 89.9], 1.0, needs=_seeds(3))
    a.save(tmp_path)
    rows = load_rows(tmp_path)
    assert interim_rows(rows) == 1 and [r.seeds_waiting for r in rows] == [2, 0]
    text = summary_sentence(outcome_counts(rows), "full", interim_rows(rows))
    assert "1 of the judged rows are interim" in text
    assert "interim" not in summary_sentence(outcome_counts(rows), "full")


def test_a_pending_row_names_what_it_waits_for():
    a = Audit("hyperparams", "full", noise_lookup=_noise_lookup)
    found = V.Verdict(HOLDS, "rise", "", 0)
    # no seed stored yet: no word about reading every seed
    assert "seed runs stored" not in a.verdict("002", "c", "x", found, needs=_seeds(0)).reason
    # a one-seed rule whose noise runs are not stored says that its spread is missing
    unknown = S.Noise(source="noise runs 2, 15", waiting=("k",))
    row = a.verdict("002", "c", "x", V.Verdict(PENDING, "90%", "", 1), needs=_seeds(1), noise=unknown)
    assert row.verdict == PENDING and "noise runs that give its spread are not stored (noise runs 2, 15" in row.reason
    assert "reads every seed" not in row.reason
    # while a run it reads has no seed at all, that is what it waits for, not the noise runs
    none = a.verdict("002", "c", "x", V.Verdict(PENDING, "", "", 0), needs=[_seeds(1), _seeds(0, model="vgg_fmnist")], noise=unknown)
    assert none.verdict == PENDING and "waits for 5 run(s)" in none.reason and "noise" not in none.reason


def test_the_audit_page_lists_the_rules_from_their_one_home():
    from pathlib import Path
    from cnnreport.pages.audit import rules_markdown
    text = rules_markdown()
    items = text.splitlines()
    assert len(items) == len(V.RULES) and all(i.startswith("* **") for i in items)
    for title, rule in V.RULES.values():
        assert f"**{title}** {rule}" in text
    # the number rule says a wide interval cannot rescue a claim it excludes (core.stats.number)
    assert "however wide the interval" in V.RULES["number"][1]
    page = (Path(__file__).resolve().parents[1] / "book" / "audit.md").read_text()
    assert "rules_markdown()" in page
    assert "however wide" not in page and "t(0.975" not in page, "the page restates a rule"
