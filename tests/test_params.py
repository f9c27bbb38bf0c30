"""A chapter's parameters cell as its contract: parsing, checking values, help, blame.

Everything here reads chapter sources with the standard library; no kernel starts."""
import math
import textwrap
from pathlib import Path

import pytest
import yaml

from cnnreport.experiments import params as P
from cnnreport.build.book import chapters

ROOT = Path(__file__).resolve().parents[1]

CONTRACT = """\
from typing import List, Optional

profile: str = "quick"            # parameter profile that produced this page [one of: smoke | quick | full]
seeds: List[int] = [0]            # one run per seed [non-empty, unique, >= 0]
width: float = 0.125              # channel multiplier; 1.0 gives the reports' sizes [> 0]
train_subset: Optional[int] = 2000  # training images per run; None keeps all [> 0]
epochs_001: int = 2               # report 001: epochs [>= 1]
batch_size: int = 64              # images per step [> 0]
lrs: List[float] = [0.001]        # learning rates [non-empty, > 0, < 1]
augment: list = ["crop"]          # augmentations [unique, one of: crop | flip]
scheduler: bool = False           # decay the learning rate
grid: Optional[str] = None        # a sweep file
"""


def write_chapter(folder: Path, cell: str, name: str = "tiny", body: str = "print('ran')") -> Path:
    """A MyST chapter with the given parameters cell (and a _config.yml: a checkout root)."""
    (folder / "_config.yml").write_text("title: t\n")
    src = folder / f"{name}.md"
    src.write_text("---\njupytext:\n  text_representation:\n    format_name: myst\nkernelspec:\n"
                   "  name: python3\n  display_name: Python 3\n---\n\n# Tiny\n\n"
                   "```{code-cell} ipython3\n:tags: [parameters]\n\n" + cell +
                   "```\n\n```{code-cell} ipython3\n" + body + "\n```\n")
    return src


@pytest.fixture
def chapter(tmp_path):
    return write_chapter(tmp_path, CONTRACT)


def cell_line(src: Path, text: str) -> int:
    """The file line number of the line holding ``text``."""
    return next(i for i, line in enumerate(src.read_text().splitlines(), 1) if text in line)


# -- parsing ---------------------------------------------------------------------------------------
def test_declared_reads_types_constraints_comments_and_lines(chapter):
    d = P.declared(chapter)
    assert list(d) == ["profile", "seeds", "width", "train_subset", "epochs_001", "batch_size",
                       "lrs", "augment", "scheduler", "grid"]
    seeds = d["seeds"]
    assert (seeds.annotation, seeds.default, str(seeds.type)) == ("List[int]", [0], "List[int]")
    assert seeds.comment == "one run per seed" and seeds.constraints == ["non-empty", "unique", ">= 0"]
    assert d["width"].comment == "channel multiplier; 1.0 gives the reports' sizes"
    assert str(d["train_subset"].type) == "Optional[int]" and str(d["augment"].type) == "list"
    assert d["profile"].rules[0].arg == ("smoke", "quick", "full")
    assert d["width"].where == f"{chapter}:{cell_line(chapter, 'width: float')}"
    assert P.defaults(chapter)["grid"] is None


@pytest.mark.parametrize("cell, problem", [
    ("x = 1  # a value\n", "has no type annotation"),
    ("x: int = 1\n", "has no comment"),
    ("x: int = 1  #\n", "has no comment"),
    ("x: dict = {}  # a mapping\n", "unknown annotation 'dict'"),
    ("x: int = 1  # a value [positive]\n", "unknown constraint 'positive'"),
    ("x: str = 'a'  # a name [> 0]\n", "needs a number or a list of numbers"),
    ("x: int = 1  # a count [unique]\n", "needs a list or a str"),
    ("x: List[int] = [1]  # values\n", "from typing import List"),
    ("x: int = 0  # a count [> 0]\n", "breaks its own contract: expected > 0"),
    ("x: int = int('1')  # a count\n", "must be a literal"),
    ("x: int = 1  # a\nx: int = 2  # b\n", "declared twice"),
    ("print(1)\n", "only parameter declarations and imports"),
])
def test_a_malformed_contract_names_file_and_line(tmp_path, cell, problem):
    src = write_chapter(tmp_path, "from typing import Optional\n\n" + cell)
    with pytest.raises(P.ParameterError) as e:
        P.declared(src)
    last = cell.strip().splitlines()[-1] if "twice" in problem else cell.strip().splitlines()[0]
    assert f"{src}:{cell_line(src, last)}:" in str(e.value)
    assert problem in str(e.value)


def test_a_chapter_without_a_parameters_cell_is_named(tmp_path):
    src = tmp_path / "plain.md"
    src.write_text("# Plain\n\n```{code-cell} ipython3\nx = 1\n```\n")
    with pytest.raises(P.ParameterError, match="plain.md: no code cell tagged 'parameters'"):
        P.declared(src)


def test_typing_module_annotations_and_union_none_are_understood():
    assert str(P.parse_type("typing.List[int]")) == "List[int]"
    assert str(P.parse_type("Union[int, None]")) == "Optional[int]"
    assert str(P.parse_type("Optional[List[float]]")) == "Optional[List[float]]"
    with pytest.raises(ValueError, match="unknown annotation"):
        P.parse_type("Dict[str, int]")


# -- checking values -------------------------------------------------------------------------------
ISSUE_CASES = [  # -p NAME VALUE from the issue, and the line each must give
    ("seeds", "3", "seeds = 3: expected List[int] (a list such as [0, 1]); default [0]"),
    ("epochs_001", "abc", "epochs_001 = 'abc': expected int (a whole number such as 3), "
                          "got the string 'abc'; default 2"),
    ("width", "-1", "width = -1: expected > 0; default 0.125"),
    ("width", "nan", "width = 'nan': expected float (a number such as 0.5), got the string 'nan'"),
    ("width", ".nan", "width = nan: expected a finite number; default 0.125"),
    ("width", ".inf", "width = inf: expected a finite number; default 0.125"),
    ("seeds", "[]", "seeds = []: expected non-empty; default [0]"),
    ("batch_size", "true", "batch_size = True: expected int (a whole number such as 3), got a bool; default 64"),
    ("seeds", "[0, 0]", "seeds = [0, 0]: expected unique elements (0 repeats); default [0]"),
]


@pytest.mark.parametrize("name, text, line", ISSUE_CASES)
def test_each_bad_value_of_the_issue_gives_one_line(chapter, name, text, line):
    lines = P.check(chapter, {name: P.parse_value(text)})
    assert len(lines) == 1 and lines[0].startswith(line), lines


@pytest.mark.parametrize("values", [
    {"width": 1},                      # an int is a float
    {"train_subset": None},            # Optional
    {"train_subset": P.parse_value("None")},
    {"seeds": [0, 1, 2], "lrs": [1e-3, 0.1], "augment": ["crop", "flip"], "scheduler": True},
    {"profile": "full", "grid": "params/sweeps/x.yaml"},
])
def test_good_values_pass(chapter, values):
    assert P.check(chapter, values) == []


@pytest.mark.parametrize("values, expected", [
    ({"width": True}, "got a bool"),
    ({"seeds": [0, -1]}, "expected each element >= 0"),
    ({"seeds": [0, "a"]}, "element 'a' is not int"),
    ({"lrs": [0.1, float("nan")]}, "finite numbers"),
    ({"lrs": [2.0]}, "each element < 1"),
    ({"lrs": []}, "non-empty"),
    ({"augment": ["crop", "blur"]}, "each element one of crop | flip"),
    ({"augment": ["crop", "crop"]}, "unique elements ('crop' repeats)"),
    ({"profile": "fast"}, "expected one of smoke | quick | full; default 'quick'"),
    ({"train_subset": 0}, "expected > 0; default 2000"),
    ({"train_subset": "all"}, "expected Optional[int] (a whole number such as 3, or None)"),
    ({"scheduler": 1}, "expected bool (true or false)"),
    ({"grid": 3}, "expected Optional[str]"),
])
def test_bad_values_say_what_is_expected(chapter, values, expected):
    lines = P.check(chapter, values)
    assert len(lines) == 1 and expected in lines[0], lines


def test_several_breaks_of_one_parameter_make_one_line(chapter):
    lines = P.check(chapter, {"seeds": [-1, -1]})
    assert lines == ["seeds = [-1, -1]: expected unique elements (-1 repeats) and each element >= 0; default [0]"]


def test_unknown_names_are_listed_with_the_declared_ones(chapter):
    lines = P.check(chapter, {"seed": 1, "width": -2})
    assert len(lines) == 2
    assert lines[0].startswith("seed = 1: not a parameter of tiny; did you mean seeds? it declares profile, seeds,")
    assert lines[1].startswith("width = -2")


def test_validate_raises_with_every_line(chapter):
    with pytest.raises(P.ParameterError) as e:
        P.validate(chapter, {"seeds": 3, "width": -1, "batch_size": 64})
    assert len(e.value.problems) == 2
    assert str(e.value).splitlines() == [f"{chapter}: {line}" for line in e.value.problems]
    P.validate(chapter, {"seeds": [1]})  # nothing to say: no exception


def test_check_accepts_a_declared_mapping(chapter):
    d = P.declared(chapter)
    assert P.check(d, {"seeds": 3}) == P.check(chapter, {"seeds": 3})


def test_parse_value_reads_yaml_like_the_command_line():
    assert P.parse_value("3") == 3 and P.parse_value("[0, 1]") == [0, 1]
    assert P.parse_value("nan") == "nan" and math.isnan(P.parse_value(".nan"))
    assert P.parse_value("None") is None and P.parse_value("null") is None
    assert P.parse_value("a: b: c") == "a: b: c"  # not YAML: kept as text


# -- profiles and help -------------------------------------------------------------------------------
def test_resolve_and_help_use_the_quick_profile(chapter):
    quick = chapter.parent / "params" / "quick"
    quick.mkdir(parents=True)
    (quick / "tiny.yaml").write_text("profile: quick\nwidth: 0.5\nseeds: [0, 1]\n")
    assert P.resolve(chapter, "quick")["width"] == 0.5
    text = P.help_text(chapter)
    assert "params/quick/tiny.yaml" in text
    assert "  width: float (default 0.5)  [> 0]\n      channel multiplier; 1.0 gives the reports' sizes" in text
    assert "  seeds: List[int] (default [0, 1])  [non-empty, unique, >= 0]\n      one run per seed" in text
    assert "  grid: Optional[str] (default None)\n      a sweep file" in text
    for name in P.declared(chapter):
        assert f"  {name}: " in text


def test_help_without_a_profile_file_shows_the_cell_defaults(chapter):
    text = P.help_text(chapter)
    assert "the cell's defaults" in text and "  width: float (default 0.125)" in text


def test_a_bad_yaml_parameter_file_is_named(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("seeds: [0\n")
    with pytest.raises(P.ParameterError, match="p.yaml: not valid YAML"):
        P.load_file(f)


# -- blame -------------------------------------------------------------------------------------------
def test_blame_names_the_parameter_that_fed_a_config_key():
    values = {"epochs_000": 3, "epochs_001": "abc", "label": "abc", "seeds": [0]}
    assert P.blame(values, "epochs", "abc") == "chapter parameter epochs_001 = 'abc'"


def test_blame_prefers_the_same_name_then_a_value_match():
    values = {"curve_lr": 0.1, "lr": 0.1, "sgd_lr": 0.5}
    assert P.blame(values, "lr", 0.1) == "chapter parameter lr = 0.1"
    assert P.blame({"a": -1, "b": 2}, "width", -1) == "chapter parameter a = -1"
    assert P.blame({"epochs_001": 2, "epochs_003": 2}, "epochs", 2) == \
        "chapter parameter epochs_001 or epochs_003 = 2"


def test_blame_keeps_bools_apart_and_looks_into_lists():
    assert P.blame({"scheduler": True, "batch_size": 1}, "batch_size", 1) == "chapter parameter batch_size = 1"
    assert P.blame({"seeds": [0, -3]}, "seed", -3) == "chapter parameter seeds = [0, -3] (holding -3)"
    assert P.blame({"width": 0.5}, "epochs", "abc") is None
    assert P.blame({"width": 0.5}, None, 0.5) is None
    assert P.blame({"model_args": 1, "width": -2}, "model_args.width", -2) == "chapter parameter width = -2"


# -- the real chapters -------------------------------------------------------------------------------
BOOK = ROOT / "book"
NAMES = chapters(BOOK)


@pytest.mark.parametrize("name", NAMES)
def test_every_real_chapter_meets_the_contract(name):
    """Annotation and comment on every parameter, known constraints, and every profile's
    file passes the check: a full-profile run cannot fail on a typo after hours of work."""
    decl = P.declared(BOOK / f"{name}.md")  # raises on a malformed cell
    assert decl, f"{name}: no parameters"
    for p in decl.values():
        assert p.comment, f"{p.where}: {p.name} has no comment"
    for profile in ("smoke", "quick", "full"):
        path = ROOT / "params" / profile / f"{name}.yaml"
        assert path.is_file(), f"missing {path}"
        values = yaml.safe_load(path.read_text()) or {}
        assert P.check(decl, values, name) == [], f"{path}"
        if "profile" in decl:
            assert values.get("profile") == profile, f"{path}: profile must be {profile!r}"


SHARED_BAD = {"seeds": [3, [], [0, 0], [-1]], "width": [-1, 0, float("nan"), "nan"],
              "batch_size": [True, 0, "abc"], "train_subset": [0, -5],
              "profile": ["fast"]}


@pytest.mark.parametrize("name", NAMES)
def test_real_chapters_reject_the_issue_values(name):
    """The common parameters declare the constraints the issue asks for (unique seeds, a
    positive width...): the re-annotated cells must turn each of these into an error."""
    decl = P.declared(BOOK / f"{name}.md")
    missed = [(k, v) for k, bad in SHARED_BAD.items() if k in decl for v in bad
              if not P.check(decl, {k: v})]
    assert not missed, f"{name} accepts {missed}"


def test_a_percent_format_chapter_has_the_same_contract(tmp_path):
    src = tmp_path / "pc.py"
    src.write_text('# %% [markdown]\n# # Title\n\n# %% tags=["parameters"]\nfrom typing import List\n'
                   'seeds: List[int] = [0]  # one run per seed [unique]\n\n# %%\nprint(seeds)\n')
    d = P.declared(src)
    assert d["seeds"].where == f"{src}:6"
    assert P.check(d, {"seeds": [1, 1]}) == ["seeds = [1, 1]: expected unique elements (1 repeats); default [0]"]


def test_exponent_numbers_read_as_numbers_in_files_and_overrides(tmp_path):
    from cnnreport.experiments.params import load_file, parse_value
    assert parse_value("1e-4") == 1e-4 and isinstance(parse_value("1e-4"), float)
    assert parse_value("1e6") == 1_000_000 and isinstance(parse_value("1e6"), int)   # a count
    assert parse_value("1.5e3") == 1500.0 and parse_value("e5") == "e5"
    f = tmp_path / "p.yaml"
    f.write_text("lr: 3e-4\ntrain_subset: 5e4\nlabel: 1e-3x\n")
    assert load_file(f) == {"lr": 3e-4, "train_subset": 50_000, "label": "1e-3x"}
