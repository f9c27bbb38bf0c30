"""One plotting package: every figure a chapter draws is ``plots.<name>``, there is one
smoothing, no plot module reaches into another's private helpers, and importing the
package costs nothing until a figure is asked for."""
import ast
import re
import subprocess
import sys
from pathlib import Path

from cnnreport import plots

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cnnreport" / "plots"
MODULES = sorted(PACKAGE.glob("*.py"))
# ``plots.name(`` in the chapters and in library code that draws (the explorer)
CALL = re.compile(r"\bplots\.([A-Za-z_]\w*)\s*\(")


def _called_names():
    texts = [p.read_text() for p in sorted((ROOT / "book").glob("*.md"))]
    texts += [p.read_text() for p in (ROOT / "cnnreport").rglob("*.py") if PACKAGE not in p.parents]
    return {name for text in texts for name in CALL.findall(text)}


def test_every_function_the_chapters_call_is_exported():
    called = _called_names()
    assert {"training_curves", "compare_bar", "augmentation_grid", "factor_effects",
            "curves_vs_reference", "probe_measures"} <= called  # the scan finds the chapters' calls
    missing = sorted(n for n in called if not callable(getattr(plots, n, None)))
    assert missing == []
    assert set(plots.__all__) <= set(dir(plots))
    assert all(callable(getattr(plots, n)) for n in plots.__all__)


def test_one_plotting_package_and_one_import_in_the_chapters():
    assert sorted(p.name for p in (ROOT / "cnnreport").glob("plot*")) == ["plots"]
    for md in sorted((ROOT / "book").glob("*.md")):
        for line in md.read_text().splitlines():
            if re.match(r"\s*(from|import) cnnreport\b", line) and "plot" in line:
                assert re.fullmatch(r"\s*from cnnreport import ([\w, ]+)", line), f"{md.name}: {line}"
                assert "plots" in line.split("import", 1)[1].replace(",", " ").split(), line


def _functions(tree):
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def test_one_smoothing_function():
    smoothers = []
    for path in MODULES:
        for fn in _functions(ast.parse(path.read_text())):
            calls = {getattr(c.func, "attr", getattr(c.func, "id", None))
                     for c in ast.walk(fn) if isinstance(c, ast.Call)}
            if "convolve" in calls or "smooth" in fn.name:
                smoothers.append(f"{path.stem}.{fn.name}")
    assert smoothers == ["curves.moving_average"]
    assert plots.moving_average is plots.curves.moving_average


def test_no_module_imports_a_private_helper():
    private = [(path.name, a.name) for path in MODULES for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.ImportFrom) for a in node.names
               if a.name.startswith("_")]
    assert private == []


def test_importing_the_package_loads_no_plotting_module():
    code = ("import sys; from cnnreport import plots; "
            "assert 'matplotlib' not in sys.modules and 'cnnreport.plots.curves' not in sys.modules; "
            "plots.compare_bar; assert 'cnnreport.plots.compare' in sys.modules; "
            "assert 'cnnreport.plots.images' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
