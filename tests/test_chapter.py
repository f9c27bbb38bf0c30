"""The chapter helper: parameters, runs through the experiments registry, pending runs."""
import dataclasses

import pytest

from cnnreport import experiments as E
from cnnreport.pages.audit import PENDING
from cnnreport.pages.chapter import Chapter, may_train, settings_table
from cnnreport.core.store import Result, ResultStore

TINY = dict(dataset="tiny", model="mlp", model_args={"hidden": [16], "input_shape": [3, 32, 32]},
            epochs=2, batch_size=16, optimizer="adam", lr=3e-3, val_fraction=0.25, device="cpu")


@pytest.fixture
def registered():
    """A throwaway chapter 'tinych' in the experiments registry, removed afterwards."""
    @E.EXPERIMENTS.register("tinych")
    def tinych(p):
        return (E.seeded("tinych", "a", {"small": TINY}, p["seeds"], report="001")
                + E.seeded("tinych", "b", {"wide": dict(TINY, model_args={"hidden": [32],
                                                                        "input_shape": [3, 32, 32]})},
                           p["seeds"], extra=True))
    yield tinych
    E.EXPERIMENTS.unregister("tinych")


def chapter(tmp_path, monkeypatch, profile, **params):
    monkeypatch.setenv("CNNREPORT_RESULTS", str(tmp_path / "results"))
    ch = Chapter("tinych", profile, progress=False)
    ch.params = {"seeds": [0, 1], **params}
    return ch


def test_full_profile_on_cpu_trains_nothing_and_rows_are_pending(tmp_path, monkeypatch, registered, tiny_root):
    monkeypatch.setenv("CNNREPORT_DATA", str(tiny_root))
    monkeypatch.delenv("CNNREPORT_TRAIN", raising=False)
    ch = chapter(tmp_path, monkeypatch, "full")
    assert ch.train is False and may_train("full") is False
    runs = ch.experiments("a")
    assert list(runs) == ["small"] and [r.status for r in runs["small"]] == ["pending", "pending"]
    assert ch.is_pending(runs) and ch.done(runs["small"]) == [] and ch.accs(runs["small"]) == []
    assert len(ResultStore(tmp_path / "results")) == 0
    row = ch.audit.number("001", "claim", 90.0, ch.accs(runs["small"]), 1.0, needs=runs)
    assert row.verdict == PENDING and "python -m cnnreport queue --profile full --chapters tinych" in row.reason
    row = ch.audit.check("001", "qualitative", True, "x", needs=[runs["small"][0]])
    assert row.verdict == PENDING


def test_asked_to_train_the_full_profile_trains_and_stores(tmp_path, monkeypatch, registered, tiny_root):
    monkeypatch.setenv("CNNREPORT_DATA", str(tiny_root))
    monkeypatch.setenv("CNNREPORT_TRAIN", "1")
    ch = chapter(tmp_path, monkeypatch, "full")
    runs = ch.experiments("a")
    assert [r.status for r in runs["small"]] == ["ok", "ok"]
    assert [r.config["seed"] for r in runs["small"]] == [0, 1]
    assert runs["small"][0].config["name"] == "tinych: small"
    assert len(ResultStore(tmp_path / "results")) == 2
    # stored now: a CPU build without the flag loads them instead of marking them pending
    monkeypatch.delenv("CNNREPORT_TRAIN")
    again = chapter(tmp_path, monkeypatch, "full").experiments("a")
    assert [r.key for r in again["small"]] == [r.key for r in runs["small"]] and not ch.is_pending(again)


def test_accuracy_read_the_way_each_report_read_it():
    r = Result(key="k", config={}, test_acc=0.80, final_test_acc=0.75,
               history={"val_acc": [0.7, 0.9], "train_acc": [0.8, 0.95]}, best_epoch=2)
    assert Chapter.accs([r], "000") == [80.0]      # report 000: the selected (best) epoch
    assert Chapter.accs([r], "001") == [75.0]      # report 001: after the last epoch
    assert Chapter.accs([r], "final_test") == [75.0] and Chapter.accs([r], "best_val") == [90.0]
    with pytest.raises(ValueError, match="unknown split"):
        Chapter.accs([r], "nope")


def test_unknown_group_is_named(tmp_path, monkeypatch, registered):
    ch = chapter(tmp_path, monkeypatch, "quick")
    with pytest.raises(ValueError, match="no runs in group 'zzz'"):
        ch.experiments("zzz")


def test_settings_table_rows_and_sources():
    md = settings_table([("epochs", 50, "report text", "section 3 says so"),
                         ("batch", 128, "assumption", "no report states it")]).data
    assert md.splitlines()[0] == "| setting | value | source | why |"
    assert "| epochs | 50 | report text | section 3 says so |" in md
    assert md.splitlines()[-1].startswith("| precision | bf16 autocast") and "| assumption |" in md.splitlines()[-1]
    with pytest.raises(ValueError, match="source 'a blog'"):
        settings_table([("x", 1, "a blog", "no")])
    with pytest.raises(ValueError, match="is \\(setting, value, source, reason\\)"):
        settings_table([("x", 1, "report text")])


def test_page_helpers_for_pending_runs(tmp_path, monkeypatch):
    import myst_nb
    glued = {}
    monkeypatch.setattr(myst_nb, "glue", lambda k, v, display=False: glued.__setitem__(k, v))
    ch = chapter(tmp_path, monkeypatch, "full")
    done = Result(key="a", config={}, test_acc=0.9)
    waiting = Result(key="b", config={}, status="pending")
    runs = {"x": [done, waiting], "y": [waiting]}
    assert ch.n_pending(runs) == 2 and "2 run(s) not computed yet" in ch.pending_note(runs).data
    assert ch.pending_note({"x": [done]}).data == ""
    assert ch.firsts(runs) == {"x": done}
    ch.glue("a", 1.234, needs=runs["x"])
    ch.glue("b", float("nan"), needs=[done])
    ch.glue("c", 1.234, needs=[done])
    assert glued == {"a": "[pending]", "b": "n/a", "c": "1.23"}


def test_one_seed_rows_borrow_the_noise_runs_once_they_are_stored(tmp_path, monkeypatch, registered, tiny_root):
    monkeypatch.setenv("CNNREPORT_DATA", str(tiny_root))
    monkeypatch.setitem(E.NOISE_RUNS, "001", (("tinych", "a", "small"),))
    monkeypatch.delenv("CNNREPORT_TRAIN", raising=False)
    waiting = chapter(tmp_path, monkeypatch, "full")
    noise = waiting.noise("001", ["mlp"])
    assert not noise.known and len(noise.waiting) == 2 and "tinych: small" in noise.source
    monkeypatch.setenv("CNNREPORT_TRAIN", "1")
    ch = chapter(tmp_path, monkeypatch, "full")
    runs = ch.experiments("a")
    noise = ch.noise("001", ["mlp"])
    assert noise.known and noise.df == 1 and noise.groups == 1
    assert not ch.noise("001", ["resnet18"]).known     # no noise run of that model
    one = ch.accs(runs["small"][:1])
    row = ch.audit.number("001", "one seed", one[0], one, 1.0, needs=runs["small"][:1])
    assert "pooled noise sd" in row.measured and row.verdict != PENDING
    assert "mixed precisions" not in noise.source
    # one seed retrained at the other precision (this CPU's "auto" may be either): the source
    # says the sd holds that effect too
    store = ResultStore(tmp_path / "results")
    other = runs["small"][1]
    flipped = "fp32" if other.environment["precision"] == "bf16" else "bf16"
    store.put(dataclasses.replace(other, environment={**other.environment, "precision": flipped}))
    mixed = chapter(tmp_path, monkeypatch, "full").noise("001", ["mlp"])
    assert mixed.known and "seeds trained at mixed precisions" in mixed.source and "small (bf16 and fp32)" in mixed.source


def test_precisions_of_the_finished_runs():
    from cnnreport.analysis.readings import precisions
    runs = [Result(key="a", config={}, environment={"precision": "fp32"}),
            Result(key="b", config={}, environment={"precision": "bf16"}),
            Result(key="c", config={}), Result(key="d", config={}, status="pending",
                                               environment={"precision": "fp64"})]
    assert precisions(runs) == ["bf16", "fp32", "unrecorded"]
    assert precisions(runs[:1] * 2) == ["fp32"]


def test_the_runs_bar_shows_only_while_something_trains(tmp_path, monkeypatch, registered, tiny_root):
    """A page rendered from stored runs (or one that may not train) keeps no progress bar."""
    import tqdm.auto
    shown = []

    class Bar:  # records whether each bar of the chapter's runs was enabled (not the trainer's)
        def __init__(self, *args, desc="", total=None, disable=False, **kw):
            if desc.endswith(" runs"):
                shown.append((desc, total, not disable))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def __getattr__(self, name):  # update, set_postfix, close, ...: nothing to draw
            return lambda *a, **k: None

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    monkeypatch.setenv("CNNREPORT_DATA", str(tiny_root))
    monkeypatch.setenv("CNNREPORT_TRAIN", "0")  # nothing may train: pending placeholders, no bar
    ch = chapter(tmp_path, monkeypatch, "full")
    ch.progress = True
    assert ch.is_pending(ch.experiments("a"))
    monkeypatch.setenv("CNNREPORT_TRAIN", "1")  # two runs to train: the bar counts them
    ch = chapter(tmp_path, monkeypatch, "full")
    ch.progress = True
    assert not ch.is_pending(ch.experiments("a"))
    ch.experiments("a")  # both stored now: loaded, no bar
    assert shown == [("tinych runs", 2, False), ("tinych runs", 2, True), ("tinych runs", 2, False)]


def test_an_empty_pending_note_displays_nothing(monkeypatch):
    """With every run stored the note is empty and must not show a repr on the page;
    otherwise it is Markdown."""
    import IPython.display as D
    from IPython.core.interactiveshell import InteractiveShell
    from cnnreport.pages.chapter import Note
    shell = InteractiveShell.instance()
    assert shell.display_formatter.format(Note("")) == ({}, {})
    published = []
    monkeypatch.setattr(shell.display_pub, "publish", lambda data, metadata=None, **kw: published.append(data))
    D.display(Note(""))
    assert published == []
    D.display(Note("*pending: 1 run(s)*"))
    assert published and published[-1]["text/markdown"] == "*pending: 1 run(s)*"
