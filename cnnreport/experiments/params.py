"""A chapter's parameters: the cell tagged ``parameters`` is the chapter's contract.

Each statement of that cell declares one parameter with a type annotation, a default
and a comment, optionally ending in constraints in square brackets::

    from typing import List, Optional

    seeds: List[int] = [0]            # one run per seed [non-empty, unique, >= 0]
    width: float = 0.125              # channel multiplier [> 0]
    train_subset: Optional[int] = 2000  # training images; None keeps all [> 0]
    profile: str = "quick"            # the profile [one of: smoke | quick | full]

Types: ``int``, ``float`` (an int is accepted, a bool is not), ``bool``, ``str``,
``Optional[X]``, ``List[X]`` and a plain ``list``.  Constraints: ``> N``, ``>= N``,
``< N``, ``<= N`` (each element of a list; None passes), ``non-empty``, ``unique`` and
``one of: a | b | c``.  A float must be finite wherever it appears.

This module reads the cell straight from the Jupytext source with the standard library
and PyYAML (no jupytext, no kernel), so a bad value is reported in milliseconds, before
any kernel starts, and the planner and the GPU queue can use it on a machine without
Jupyter.  ``resolve`` gives the values a chapter runs with at a profile: the defaults,
then ``params/<profile>/<chapter>.yaml``, then explicit overrides; ``check`` and
``validate`` hold values against the contract; ``help_text`` documents it.
"""
from __future__ import annotations

import ast
import difflib
import io
import math
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n((?::[^\n]*\n)*)(.*?)^```\s*$", re.M | re.S)
_PERCENT_CELL = re.compile(r"^# %%[^\n]*\btags=\[[^\]\n]*[\"']parameters[\"'][^\n]*\n(.*?)(?=^# %%|\Z)",
                           re.M | re.S)
_COMPARE = re.compile(r"^(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)$")
_COMPARATORS = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
                "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}
_FORM = "write each parameter as `name: Type = default  # what it is [constraints]`"


class ParameterError(ValueError):
    """A chapter parameter has a bad value, or the chapter's parameters cell is malformed.

    ``problems`` holds one line per bad parameter, so a command can print them all."""

    def __init__(self, message: str, problems: Sequence[str] = ()):
        super().__init__(message)
        self.problems = list(problems)


# -- types and constraints ---------------------------------------------------------------------
@dataclass(frozen=True)
class ParamType:
    """A parsed annotation: ``kind`` is int, float, bool, str, list or optional; ``item``
    is the element type of ``List[X]`` or the inner type of ``Optional[X]``."""
    kind: str
    item: Optional["ParamType"] = None

    def __str__(self) -> str:
        if self.kind == "optional":
            return f"Optional[{self.item}]"
        if self.kind == "list":
            return f"List[{self.item}]" if self.item else "list"
        return self.kind

    def example(self) -> str:
        """A value of this type in words, for an error message."""
        if self.kind == "optional":
            return f"{self.item.example()}, or None"
        if self.kind == "list":
            sample = {"float": "[0.1, 0.5]", "str": "[a, b]", "bool": "[true, false]"}
            return f"a list such as {sample.get(self.item.kind if self.item else '', '[0, 1]')}"
        return {"int": "a whole number such as 3", "float": "a number such as 0.5",
                "bool": "true or false", "str": "text such as abc"}[self.kind]

    def scalar(self) -> "ParamType":
        """The type the numeric and choice constraints apply to (elements of a list)."""
        t = self.item if self.kind == "optional" else self
        return (t.item or ParamType("any")) if t.kind == "list" else t

    def base(self) -> "ParamType":
        return self.item if self.kind == "optional" else self


_SCALARS = {"int", "float", "bool", "str"}


def parse_type(annotation: str) -> ParamType:
    """The :class:`ParamType` of an annotation such as ``Optional[List[int]]``."""
    try:
        node = ast.parse(annotation.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(f"annotation {annotation!r} is not valid Python") from None
    return _type_of(node, annotation)


def _type_name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):  # typing.List
        return node.attr
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    return ""


def _type_of(node: ast.AST, annotation: str) -> ParamType:
    allowed = "int, float, bool, str, list, List[X] or Optional[X]"
    if isinstance(node, ast.Subscript):
        outer, inner = _type_name(node.value), node.slice
        if outer == "Optional":
            return ParamType("optional", _type_of(inner, annotation))
        if outer in ("List", "list"):
            return ParamType("list", _type_of(inner, annotation))
        if outer == "Union" and isinstance(inner, ast.Tuple) and len(inner.elts) == 2 \
                and "None" in map(_type_name, inner.elts):
            other = next(e for e in inner.elts if _type_name(e) != "None")
            return ParamType("optional", _type_of(other, annotation))
        raise ValueError(f"unknown annotation {annotation!r}; allowed: {allowed}")
    name = _type_name(node)
    if name in _SCALARS:
        return ParamType(name)
    if name in ("list", "List"):
        return ParamType("list")
    raise ValueError(f"unknown annotation {annotation!r}; allowed: {allowed}")


@dataclass(frozen=True)
class Rule:
    """One constraint: ``op`` is a comparison, ``non-empty``, ``unique`` or ``one of``."""
    op: str
    arg: Any = None
    text: str = ""


def parse_rule(text: str) -> Rule:
    """A :class:`Rule` from one comma-separated item of a comment's trailing ``[...]``."""
    t = " ".join(text.split())
    m = _COMPARE.match(t)
    if m:
        n = float(m.group(2))
        return Rule(m.group(1), int(n) if n.is_integer() and "." not in m.group(2) else n, t)
    if t in ("non-empty", "unique"):
        return Rule(t, None, t)
    if t.startswith("one of:"):
        options = [o.strip() for o in t[len("one of:"):].split("|") if o.strip()]
        if options:
            return Rule("one of", tuple(options), t)
    raise ValueError(f"unknown constraint {text.strip()!r}; allowed: > N, >= N, < N, <= N, non-empty, "
                     f"unique, one of: a | b (a comment's trailing [...] lists constraints)")


def _rule_fits(rule: Rule, t: ParamType) -> Optional[str]:
    """Why ``rule`` cannot apply to a parameter of type ``t`` (None when it can)."""
    base, scalar = t.base(), t.scalar()
    if rule.op in _COMPARATORS and scalar.kind not in ("int", "float", "any"):
        return f"constraint '{rule.text}' needs a number or a list of numbers, not {t}"
    if rule.op in ("non-empty", "unique") and base.kind not in ("list", "str"):
        return f"constraint '{rule.text}' needs a list or a str, not {t}"
    return None


# -- the contract ------------------------------------------------------------------------------
@dataclass
class Param:
    name: str
    annotation: str            # the annotation as written, e.g. "Optional[int]"
    default: Any
    comment: str = ""          # the comment without its constraints
    constraints: List[str] = field(default_factory=list)
    line: str = ""             # the source line
    where: str = ""            # "<chapter file>:<line>", for messages
    type: Optional[ParamType] = field(default=None, repr=False, compare=False)
    rules: List[Rule] = field(default_factory=list, repr=False, compare=False)


def book_dir(root: Union[str, Path, None] = None) -> Path:
    if root is None:
        from ..core.paths import repo_root
        root = repo_root()
    return Path(root) / "book"


def chapter_source(chapter: Union[str, Path], root: Union[str, Path, None] = None) -> Path:
    """``book/<chapter>.md`` for a chapter name; a path is returned as it is."""
    p = Path(chapter)
    if p.suffix in (".md", ".py"):
        return p
    return book_dir(root) / f"{chapter}.md"


def _find_cell(source: Union[str, Path]) -> Tuple[str, int]:
    """The parameters cell's source and the file line number of its first line."""
    text = Path(source).read_text()
    if Path(source).suffix == ".py":  # a percent-format chapter: `# %% tags=["parameters"]`
        m = _PERCENT_CELL.search(text)
        if m:
            return m.group(1), text.count("\n", 0, m.start(1)) + 1
    for m in _CELL.finditer(text):
        opts, body = m.group(1), m.group(2)
        if re.search(r"^:tags:.*\bparameters\b", opts, re.M):
            return body, text.count("\n", 0, m.start(2)) + 1
    raise ParameterError(f"{source}: no code cell tagged 'parameters'; a chapter declares its "
                         f"parameters in a cell with ':tags: [parameters]'")


def parameters_cell(source: Union[str, Path]) -> str:
    """The source of the cell tagged ``parameters`` in a MyST chapter."""
    return _find_cell(source)[0]


def _comments(cell: str) -> Dict[int, str]:
    """Cell line number -> the text of the comment on that line."""
    out: Dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(cell).readline):
            if tok.type == tokenize.COMMENT:
                out[tok.start[0]] = tok.string[1:].strip()
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def _constraints(comment: str) -> Tuple[str, List[str]]:
    """Split a comment into its text and the items of its trailing ``[...]``."""
    m = re.search(r"\[([^\[\]]*)\]\s*$", comment)
    if not m:
        return comment, []
    items = [c.strip() for c in m.group(1).split(",") if c.strip()]
    return comment[: m.start()].rstrip(" ;"), items


def _declaration(node: ast.stmt, cell: str, where: str, comments: Dict[int, str]) -> Param:
    """One :class:`Param` from an annotated assignment, or a ParameterError saying what is missing."""
    name = node.target.id
    ann = ast.get_source_segment(cell, node.annotation) or ""
    if node.value is None:
        raise ParameterError(f"{where}: parameter {name!r} has no default; {_FORM}")
    try:
        default = ast.literal_eval(node.value)
    except ValueError:
        raise ParameterError(f"{where}: the default of parameter {name!r} must be a literal, got "
                             f"{ast.get_source_segment(cell, node.value)!r}") from None
    said = [comments[i] for i in range(node.lineno, (node.end_lineno or node.lineno) + 1) if i in comments]
    if not said or not " ".join(said).strip():
        raise ParameterError(f"{where}: parameter {name!r} has no comment; say what it is after "
                             f"'#' on its line ({_FORM})")
    comment, items = _constraints(" ".join(said))
    try:
        ptype = parse_type(ann)
        rules = [parse_rule(c) for c in items]
    except ValueError as e:
        raise ParameterError(f"{where}: parameter {name!r}: {e}") from None
    for r in rules:
        why = _rule_fits(r, ptype)
        if why:
            raise ParameterError(f"{where}: parameter {name!r}: {why}")
    lines = cell.splitlines()
    param = Param(name, ann, default, comment, items, lines[node.lineno - 1], where, ptype, rules)
    bad = problems_of(param, default)
    if bad:
        raise ParameterError(f"{where}: the default of parameter {name!r} breaks its own contract: "
                             f"expected {bad}")
    return param


def _imported(tree: ast.Module) -> set:
    """Names the cell imports (``from typing import List`` gives ``List``)."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _typing_names(annotation: ast.AST) -> set:
    """The typing names an annotation uses bare (``List`` in ``List[int]``)."""
    return {n.id for n in ast.walk(annotation)
            if isinstance(n, ast.Name) and n.id in ("List", "Optional", "Union")}


def declared(chapter: Union[str, Path], root: Union[str, Path, None] = None) -> Dict[str, Param]:
    """name -> :class:`Param` for every parameter of a chapter, in source order.

    Raises :class:`ParameterError` naming the chapter file and line when the cell breaks
    the contract: a parameter without annotation, default or comment, an unknown
    annotation or constraint, or a default its own constraints reject."""
    src = chapter_source(chapter, root)
    if not src.is_file():
        raise FileNotFoundError(f"chapter source {src} does not exist")
    cell, first = _find_cell(src)
    try:
        tree = ast.parse(cell)
    except SyntaxError as e:
        raise ParameterError(f"{src}:{first + (e.lineno or 1) - 1}: the parameters cell is not valid "
                             f"Python: {e.msg}") from None
    comments = _comments(cell)
    imported = _imported(tree)
    out: Dict[str, Param] = {}
    for node in tree.body:
        where = f"{src}:{first + node.lineno - 1}"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            p = _declaration(node, cell, where, comments)
            missing = _typing_names(node.annotation) - imported
            if missing:
                raise ParameterError(f"{where}: parameter {p.name!r} uses {', '.join(sorted(missing))} "
                                     f"without importing it; the kernel evaluates the annotation, so add "
                                     f"`from typing import {', '.join(sorted(missing))}` to the parameters cell")
        elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            names = ", ".join(t.id for t in node.targets)
            raise ParameterError(f"{where}: parameter {names} has no type annotation; {_FORM}")
        else:
            raise ParameterError(f"{where}: only parameter declarations and imports belong in the "
                                 f"parameters cell; {_FORM}")
        if p.name in out:
            raise ParameterError(f"{where}: parameter {p.name!r} is declared twice (first at {out[p.name].where})")
        out[p.name] = p
    return out


def defaults(chapter: Union[str, Path], root: Union[str, Path, None] = None) -> Dict[str, Any]:
    return {n: p.default for n, p in declared(chapter, root).items()}


# -- checking values ---------------------------------------------------------------------------
def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _type_problem(t: ParamType, v: Any) -> bool:
    """Whether ``v`` is not a value of type ``t``."""
    if t.kind == "optional":
        return v is not None and _type_problem(t.item, v)
    if t.kind == "int":
        return not (isinstance(v, int) and not isinstance(v, bool))
    if t.kind == "float":
        return not _is_number(v)
    if t.kind == "bool":
        return not isinstance(v, bool)
    if t.kind == "str":
        return not isinstance(v, str)
    if t.kind == "list":
        if not isinstance(v, (list, tuple)):
            return True
        return t.item is not None and any(_type_problem(t.item, x) for x in v)
    return False


def _nonfinite(v: Any) -> bool:
    if isinstance(v, float):
        return not math.isfinite(v)
    if isinstance(v, (list, tuple)):
        return any(_nonfinite(x) for x in v)
    return False


def _got(t: ParamType, v: Any) -> str:
    """What the value is, where its repr alone would mislead (text that reads as a number,
    a bool where a number is expected, a wrong element)."""
    base = t.base()
    if isinstance(v, str) and base.kind in ("int", "float", "list"):
        nan = v.strip().lower().lstrip("+-.") in ("nan", "inf", "infinity")
        return f"got the string {v!r}" + (" (YAML reads nan and inf as text, and a number "
                                          "parameter must be finite anyway)" if nan else "")
    if isinstance(v, bool) and base.kind in ("int", "float"):
        return "got a bool"
    if base.kind == "list" and base.item and isinstance(v, (list, tuple)):
        wrong = next(x for x in v if _type_problem(base.item, x))
        return f"element {wrong!r} is not {base.item}"
    return ""


def _same(a: Any, b: Any) -> bool:
    """Equality that keeps True apart from 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - an array or another odd value is simply not equal
        return False


def _option_matches(option: str, v: Any) -> bool:
    if isinstance(v, str):
        return v == option
    try:
        return _same(ast.literal_eval(option), v)
    except (ValueError, SyntaxError):
        return False


def _rule_problem(rule: Rule, v: Any) -> Optional[str]:
    """What ``rule`` expects, when ``v`` breaks it (None when it holds)."""
    if v is None:
        return None
    many = isinstance(v, (list, tuple))
    items = list(v) if many else [v]
    each = "each element " if many else ""
    if rule.op in _COMPARATORS:
        ok = all(_is_number(x) and _COMPARATORS[rule.op](x, rule.arg) for x in items)
        return None if ok else f"{each}{rule.op} {rule.arg}"
    if rule.op == "non-empty":
        return None if len(v) else "non-empty"
    if rule.op == "unique":
        repeats = [x for i, x in enumerate(v) if any(_same(x, y) for y in list(v)[:i])]
        return None if not repeats else f"unique {'elements' if many else 'characters'} " \
                                        f"({repeats[0]!r} repeats)"
    if rule.op == "one of":
        ok = all(any(_option_matches(o, x) for o in rule.arg) for x in items)
        return None if ok else f"{each}one of {' | '.join(rule.arg)}"
    return None


def problems_of(param: Param, value: Any) -> Optional[str]:
    """What ``param`` expects that ``value`` is not, as "<expected>[, got ...]", or None."""
    t = param.type or parse_type(param.annotation)
    if _type_problem(t, value):
        got = _got(t, value)
        return f"{t} ({t.example()})" + (f", {got}" if got else "")
    if _nonfinite(value):
        return "a finite number" if not isinstance(value, (list, tuple)) else "finite numbers"
    broken = [w for w in (_rule_problem(r, value) for r in param.rules) if w]
    return " and ".join(broken) or None


def _as_declared(chapter_or_declared, name: Optional[str]) -> Tuple[Dict[str, Param], str]:
    if isinstance(chapter_or_declared, Mapping):
        return dict(chapter_or_declared), name or "the chapter"
    return declared(chapter_or_declared), name or Path(str(chapter_or_declared)).stem


def check(chapter_or_declared: Union[str, Path, Mapping[str, Param]],
          values: Mapping[str, Any], name: Optional[str] = None) -> List[str]:
    """One line per bad parameter in ``values``: the parameter, the value, what is expected
    and the default, e.g. ``seeds = 3: expected List[int] (a list such as [0, 1]); default [0]``.
    Names the chapter does not declare get a line too.  Empty when every value is good.
    ``name`` is the chapter's name in those lines (default: the file's stem)."""
    decl, chapter = _as_declared(chapter_or_declared, name)
    lines = []
    for key, value in values.items():
        p = decl.get(key)
        if p is None:
            close = difflib.get_close_matches(key, list(decl), n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            lines.append(f"{key} = {value!r}: not a parameter of {chapter}; {hint}"
                         f"it declares {', '.join(decl) or 'none'}")
            continue
        bad = problems_of(p, value)
        if bad:
            lines.append(f"{key} = {value!r}: expected {bad}; default {p.default!r}")
    return lines


def validate(chapter: Union[str, Path, Mapping[str, Param]], values: Mapping[str, Any],
             label: Optional[str] = None) -> None:
    """Raise :class:`ParameterError` listing every bad value of ``values`` (see :func:`check`),
    each line prefixed with ``label`` (default: the chapter's path)."""
    named = label or (None if isinstance(chapter, Mapping) else str(chapter))
    lines = check(chapter, values, name=Path(named).stem if named else None)
    if lines:
        where = named or "parameters"
        raise ParameterError("\n".join(f"{where}: {line}" for line in lines), lines)


# YAML 1.1 (PyYAML) reads ``1e-4`` and ``1e6`` as text, since its float needs a dot; YAML 1.2,
# papermill's ``-p`` and every reader of a learning rate read them as numbers.  One without a
# dot that names a whole number (``1e6``, ``5e4``) is an int, so it fits a count parameter.
_EXP_RE = r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"
_EXP_TAG = "tag:cnnreport,2026:exponent-number"


def _exponent_number(loader, node):
    text = loader.construct_scalar(node).replace("_", "")
    value = float(text)
    return int(value) if "." not in text and value.is_integer() else value


def _loader():
    import re
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader that also reads exponent numbers without a dot (``1e-4``) as numbers."""
    Loader.add_implicit_resolver(_EXP_TAG, re.compile(_EXP_RE), list("-+0123456789"))
    Loader.add_constructor(_EXP_TAG, _exponent_number)
    return Loader


def yaml_load(text: str) -> Any:
    """YAML as the parameter files and ``-p`` read it: safe, with ``1e-4`` a number."""
    import yaml
    return yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass


def parse_value(text: str) -> Any:
    """A ``-p NAME VALUE`` value: YAML (``3``, ``0.5``, ``1e-4``, ``true``, ``null``,
    ``[0, 1]``); ``None`` also means None, and text YAML cannot read stays text."""
    import yaml
    if text.strip() == "None":
        return None
    try:
        return yaml_load(text)
    except yaml.YAMLError:
        return text


# -- profiles ----------------------------------------------------------------------------------
def load_file(path: Union[str, Path, None]) -> Dict[str, Any]:
    """A YAML parameter file as a dict (empty for None)."""
    if not path:
        return {}
    import yaml
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"parameter file {p} does not exist")
    try:
        data = yaml_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        raise ParameterError(f"{p}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ParameterError(f"{p}: a parameter file must be a mapping of name: value, got {type(data).__name__}")
    return data


def _name_and_root(chapter: Union[str, Path], root: Union[str, Path, None]) -> Tuple[str, Path]:
    """A chapter's name, and the checkout it belongs to (a path's own checkout)."""
    p = Path(chapter)
    if p.suffix in (".md", ".py"):
        if root is None:
            from ..core.paths import repo_root
            root = repo_root(p.resolve().parent)
        return p.stem, Path(root)
    return str(chapter), book_dir(root).parent


def profile_file(chapter: Union[str, Path], profile: str, root: Union[str, Path, None] = None) -> Path:
    name, base = _name_and_root(chapter, root)
    return base / "params" / profile / f"{name}.yaml"


def resolve(chapter: Union[str, Path], profile: str, overrides: Optional[Mapping[str, Any]] = None,
            root: Union[str, Path, None] = None) -> Dict[str, Any]:
    """The values a chapter runs with: defaults, the profile's file, then ``overrides``."""
    decl = declared(chapter, root)
    values = {n: p.default for n, p in decl.items()}
    values.update(load_file(profile_file(chapter, profile, root)))
    values.update(overrides or {})
    unknown = sorted(set(values) - set(decl))
    if unknown:
        raise ParameterError(f"{chapter}: unknown parameter(s) {unknown}; the chapter declares {sorted(decl)}")
    if "profile" in decl:
        values["profile"] = profile
    return values


def help_text(chapter: Union[str, Path], profile: str = "quick", root: Union[str, Path, None] = None) -> str:
    """Every parameter with its type, default (``profile``'s value), constraints and comment,
    for ``python -m cnnreport run <chapter> --help-params``."""
    decl = declared(chapter, root)
    src = chapter_source(chapter, root)
    try:
        values = resolve(chapter, profile, root=root)
        origin = f"the {profile} profile's values ({profile_file(chapter, profile, root)})"
    except (FileNotFoundError, ParameterError) as e:
        values = {n: p.default for n, p in decl.items()}
        origin = f"the cell's defaults (no usable {profile} profile: {str(e).splitlines()[0]})"
    out = [f"Parameters of {src}", f"defaults: {origin}", ""]
    for name, p in decl.items():
        rules = f"  [{', '.join(p.constraints)}]" if p.constraints else ""
        out.append(f"  {name}: {p.type} (default {values.get(name, p.default)!r}){rules}")
        if p.comment:
            out.append(f"      {p.comment}")
    out += ["", "Set a value with -p NAME VALUE (VALUE is YAML: 3, 0.5, true, null, [0, 1]) "
                "or a file with -f params/<profile>/<chapter>.yaml."]
    return "\n".join(out)


# -- errors raised inside a chapter ------------------------------------------------------------
def _contains(v: Any, x: Any) -> bool:
    return isinstance(v, (list, tuple)) and any(_same(e, x) for e in v)


def blame(values: Mapping[str, Any], key: Optional[str], bad_value: Any) -> Optional[str]:
    """The chapter parameter that most likely fed config key ``key`` its bad value, e.g.
    ``"chapter parameter epochs_001 = 'abc'"`` for key ``epochs`` and value ``'abc'``.

    A run config is built from parameters under other names (``epochs_001`` becomes
    ``epochs``), so an error naming the config key alone points a reader to the wrong
    place.  Candidates hold the bad value (or, weaker, a list holding it); names that
    contain the key's last part win.  None when no parameter holds the value."""
    if key is None:
        return None
    short = str(key).split(".")[-1].lower()

    def score(name: str) -> int:
        v = values[name]
        held = 2 if _same(v, bad_value) else 1 if _contains(v, bad_value) else 0
        named = name.lower() == short or short in name.lower() or name.lower() in short
        return 0 if not held else held * 2 + (1 if named else 0) + (2 if name.lower() == short else 0)

    scored = [(score(n), n) for n in values]
    best = max((s for s, _ in scored), default=0)
    if best == 0:
        return None
    names = [n for s, n in scored if s == best]
    v = values[names[0]]
    value = repr(v) if _same(v, bad_value) else f"{v!r} (holding {bad_value!r})"
    return f"chapter parameter {' or '.join(names)} = {value}"
