"""The package's layers: every import of every module (deferred ones in functions too) points
to its own layer or one below, and no module reaches into another package's private names."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "cnnreport"

# Bottom to top; a package belongs to the first layer that names it.
LAYERS = (
    ("core", ("cnnreport.core", "cnnreport.models", "cnnreport.training", "cnnreport.scratch")),
    ("experiments", ("cnnreport.experiments",)),
    ("compute", ("cnnreport.compute",)),
    ("analysis", ("cnnreport.analysis", "cnnreport.plots")),
    ("pages", ("cnnreport.pages",)),
    ("build", ("cnnreport.build",)),
)
TOP = ("cnnreport", "cnnreport.__main__")  # the lazy re-exports and the command line sit above all


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str):
    for i, (_, packages) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in packages):
            return i
    return None


def imports(source: str, me: str, is_init: bool = False):
    """(imported module, names, line) of every import in ``source`` (the text of module
    ``me``), relative ones resolved."""
    package = me if is_init else me.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names = [a.name for a in node.names]
            if not node.module and node.level:  # from . import x: x may be a module
                for n in names:
                    yield f"{mod}.{n}", [], node.lineno
            else:
                yield mod, names, node.lineno


def upward(source: str, me: str, is_init: bool = False):
    """The imports of module ``me`` that run to a higher layer (or to the top)."""
    mine = layer_of(me)
    out = []
    for mod, _, line in imports(source, me, is_init):
        if not mod.startswith("cnnreport") or mine is None:
            continue
        theirs = layer_of(mod)
        if theirs is None and mod in TOP:
            out.append(f"line {line}: {mod} (the top)")
        elif theirs is not None and theirs > mine:
            out.append(f"line {line}: {mod} ({LAYERS[theirs][0]} above {LAYERS[mine][0]})")
    return out


def private(source: str, me: str, is_init: bool = False):
    """The private names module ``me`` imports from another package."""
    my_package = me if is_init else me.rpartition(".")[0]
    return [f"line {line}: {n} from {mod}" for mod, names, line in imports(source, me, is_init)
            if mod.startswith("cnnreport") and not (mod == my_package or mod.startswith(my_package + "."))
            for n in names if n.startswith("_") and not n.startswith("__")]


FILES = sorted(PKG.rglob("*.py"))


def test_every_module_belongs_to_a_layer():
    loose = [module_name(p) for p in FILES if layer_of(module_name(p)) is None and module_name(p) not in TOP]
    assert not loose, f"modules in no layer: {loose}; put them in a layer's package (see LAYERS)"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PKG)))
def test_no_import_runs_back_up(path):
    bad = upward(path.read_text(), module_name(path), path.name == "__init__.py")
    assert not bad, f"{module_name(path)} imports upwards: " + "; ".join(bad)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PKG)))
def test_no_module_reaches_into_another_packages_private_names(path):
    bad = private(path.read_text(), module_name(path), path.name == "__init__.py")
    assert not bad, f"{module_name(path)} imports private names of another package: " + "; ".join(bad)


def test_the_checks_catch_what_they_are_for():
    """They can fail: a core module that imports a page (relative or absolute, or deferred in a
    function), or the command line, and a page that borrows a private helper of the core."""
    assert upward("from ..pages.chapter import Chapter\n", "cnnreport.core.store") == \
        ["line 1: cnnreport.pages.chapter (pages above core)"]
    assert upward("def f():\n    import cnnreport.build.run\n", "cnnreport.analysis.verdicts") == \
        ["line 2: cnnreport.build.run (build above analysis)"]
    assert upward("from .. import __main__\n", "cnnreport.core.data")[0].endswith("(the top)")
    assert upward("from ..core import stats\nfrom . import audit\n", "cnnreport.pages.chapter") == []
    assert private("from ..core.config import _defaults\n", "cnnreport.compute.costs") == \
        ["line 1: _defaults from cnnreport.core.config"]
    assert private("from .plan import _state\n", "cnnreport.compute.queue") == []
