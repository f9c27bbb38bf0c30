"""The run config: one dataclass that fully describes a training run.

Built from a plain dict (what papermill and YAML give) with :meth:`RunConfig.from_dict`,
which validates every key before anything runs and raises one :class:`ConfigError`
naming the key, the bad value and what is allowed.  :meth:`RunConfig.key` hashes the
canonical JSON of the fields that change the result, so equal configs share a key no
matter how the dict was written, and a GPU result is found again on a CPU.
"""
from __future__ import annotations

import ast
import dataclasses
import re
import inspect
import typing
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

from .cache import canonical_json, key_of

SCHEMA_VERSION = 2  # 2: builder defaults filled into the *_args dicts; test curves always recorded

# Fields that say how to run or where a run comes from, not what to compute: left out of
# the hash so a result computed on a GPU in bf16 is reused by a CPU build of the book, and
# one training that two chapters share has one key.  The one list of them: everything
# that needs "the fields that are not the result's identity" imports it from here.
EXECUTION_FIELDS = ("device", "precision", "channels_last", "compile", "eval_batch_size",
                    "checkpoint_every", "name", "chapter", "label")
# Fields added after results were stored: they enter the key only when they differ from
# this default, so adding one changes no stored key.
KEYED_WHEN_SET = {"split": "stratified"}


def provenance(config: Any) -> Tuple[str, str]:
    """``(chapter, label)`` of a run config (a dict or a :class:`RunConfig`).

    Read from the ``chapter`` and ``label`` fields; results stored before those fields
    existed carry them only in ``name`` as ``"chapter: label"``, which is parsed then.
    A config with neither gives ``("", name)``."""
    d = config.to_dict() if isinstance(config, RunConfig) else dict(config or {})
    chapter, label, name = d.get("chapter") or "", d.get("label") or "", d.get("name") or ""
    if chapter:
        return chapter, label or name
    head, sep, tail = name.partition(": ")
    if sep and head and " " not in head:  # a chapter name is one word
        return head, tail
    return "", label or name


class ConfigError(ValueError):
    """A config key has a bad value; the message names key, value and what is allowed.

    ``key`` and ``value`` are read back from the message ("config key 'k': bad value v")
    so a caller can say where the value came from (a chapter parameter, say)."""

    @property
    def key(self) -> Optional[str]:
        m = re.match(r"config key '([^']+)'", str(self))
        return m.group(1) if m else None

    @property
    def value(self) -> Any:
        m = re.match(r"config key '[^']+': bad value (.+?)(?: of type \w+)?;", str(self))
        if not m:
            return None
        try:
            return ast.literal_eval(m.group(1))
        except (ValueError, SyntaxError):
            return m.group(1)


@dataclass
class RunConfig:
    """Everything that defines a training run.  Units are in the comments."""

    # data
    dataset: str = "cifar10"            # cifar10 | mnist | fashion_mnist | a file <name>.npz in the data root
    val_fraction: float = 0.2           # share of the training set held out for validation (0.2 = 4:1)
    split: str = "stratified"           # stratified (each class's share kept) | random (torch random_split style)
    train_subset: Optional[int] = None  # images kept from the training split (None = all)
    val_subset: Optional[int] = None    # images kept from the validation split
    test_subset: Optional[int] = None   # images kept from the test set (None = all 10,000)
    subset_mode: str = "per_class"      # per_class (first n/K of each class) | random
    normalization: str = "dataset"      # dataset (per-channel stats) | half (mean 0.5, std 0.5, report 003)
    augment: List[Any] = field(default_factory=list)  # names or {"name": ..., args}, in order
    # model
    model: str = "basic_cnn"
    model_args: Dict[str, Any] = field(default_factory=dict)  # e.g. {"activation": "gelu", "width": 0.5}
    # optimisation
    epochs: int = 10                    # passes over the training split
    batch_size: int = 128               # images per step
    optimizer: str = "sgd"
    lr: float = 0.01                    # peak learning rate
    momentum: float = 0.0               # SGD only
    nesterov: bool = False              # SGD only
    weight_decay: float = 0.0           # L2 (sgd, adam) or decoupled (adamw)
    schedule: str = "none"
    schedule_args: Dict[str, Any] = field(default_factory=dict)
    loss: str = "cross_entropy"
    loss_args: Dict[str, Any] = field(default_factory=dict)
    grad_clip: Optional[float] = None   # max global grad norm, None = off
    early_stopping: Optional[int] = None  # patience in epochs without a new best val accuracy
    divergence_patience: int = 5        # epochs stuck at chance (loss ~ ln K) before a run counts as diverged, 0 = off
    seed: int = 0                       # fixes init, split, shuffling, augmentation
    # evaluation
    eval_every: int = 1                 # epochs between validation passes
    tta: bool = False                   # average logits over the image and its mirror at evaluation
    # execution (not part of the result's identity)
    device: str = "auto"                # auto | cpu | cuda | cuda:N
    precision: str = "auto"             # auto (bf16 on cuda and native-bf16 cpus, else fp32) | fp32 | bf16
    channels_last: Optional[bool] = None  # None = on wherever bf16 runs
    compile: bool = False               # torch.compile the model
    eval_batch_size: int = 1024         # images per evaluation batch
    checkpoint_every: int = 1           # epochs between checkpoints, 0 = never
    name: str = ""                      # free display label for tables and plots
    chapter: str = ""                   # provenance: the chapter that asked for the run ("" = none)
    label: str = ""                     # provenance: its row or legend label in that chapter

    # -- construction and validation ---------------------------------------------------
    @classmethod
    def from_dict(cls, d: Union[Dict[str, Any], "RunConfig"]) -> "RunConfig":
        """Validate a plain dict and build a config; raises :class:`ConfigError`."""
        if isinstance(d, RunConfig):
            d = d.to_dict()
        if not isinstance(d, dict):
            raise ConfigError(f"a run config must be a dict, got {type(d).__name__}")
        allowed = [f.name for f in dataclasses.fields(cls)]
        for k in d:
            if k not in allowed:
                raise ConfigError(f"unknown config key {k!r}; allowed keys: {', '.join(allowed)}")
        hints = typing.get_type_hints(cls)
        values = {}
        for k, v in d.items():
            values[k] = _check_type(k, v, hints[k])
        cfg = cls(**values)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        from .augment import AUGMENTATIONS, build_augmentations, normalize_spec
        from .components import LOSSES, OPTIMIZERS, SCHEDULES
        from ..models import ACTIVATIONS, MODELS

        _positive(self, "lr", "epochs", "batch_size", "eval_every", "eval_batch_size")
        for k in ("train_subset", "val_subset", "test_subset", "grad_clip"):
            if getattr(self, k) is not None and getattr(self, k) <= 0:
                raise ConfigError(f"config key {k!r}: bad value {getattr(self, k)!r}; must be > 0 or null")
        if self.early_stopping is not None and self.early_stopping < 1:
            raise ConfigError(f"config key 'early_stopping': bad value {self.early_stopping!r}; "
                              f"a patience in epochs >= 1, or null to switch it off")
        if self.early_stopping is not None and self.val_fraction == 0:
            raise ConfigError("config key 'early_stopping': needs a validation split to stop on, but "
                              "val_fraction is 0; set val_fraction (e.g. 0.2) or early_stopping to null")
        for k in ("momentum", "weight_decay", "checkpoint_every", "divergence_patience"):
            if getattr(self, k) < 0:
                raise ConfigError(f"config key {k!r}: bad value {getattr(self, k)!r}; must be >= 0")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ConfigError(f"config key 'val_fraction': bad value {self.val_fraction!r}; must be in [0, 1)")
        _choice("subset_mode", self.subset_mode, ["per_class", "random"])
        _choice("split", self.split, ["stratified", "random"])
        _choice("normalization", self.normalization, ["dataset", "half"])
        _choice("precision", self.precision, ["auto", "fp32", "bf16"])
        if not (self.device in ("auto", "cpu", "cuda", "mps") or self.device.startswith("cuda:")):
            raise ConfigError(f"config key 'device': bad value {self.device!r}; allowed: auto, cpu, cuda, cuda:N, mps")
        for key, reg in (("model", MODELS), ("optimizer", OPTIMIZERS), ("schedule", SCHEDULES),
                         ("loss", LOSSES)):
            name = getattr(self, key)
            if name.lower() not in reg:
                raise ConfigError(f"config key {key!r}: unknown {reg.kind} {name!r}; "
                                  f"allowed: {', '.join(reg.names())}")
        act = self.model_args.get("activation")
        if act is not None and act not in ACTIVATIONS:
            raise ConfigError(f"config key 'model_args.activation': unknown activation {act!r}; "
                              f"allowed: {', '.join(ACTIVATIONS.names())}")
        _check_kwargs("model_args", MODELS.get(self.model), self.model_args,
                      skip=("num_classes", "in_channels"))
        _check_kwargs("schedule_args", SCHEDULES.get(self.schedule), self.schedule_args,
                      skip=("opt", "lr", "epochs", "steps_per_epoch"))
        _check_kwargs("loss_args", LOSSES.get(self.loss), self.loss_args)
        if self.optimizer != "sgd" and (self.momentum or self.nesterov):
            raise ConfigError(f"config keys 'momentum'/'nesterov' apply to sgd only, but optimizer "
                              f"is {self.optimizer!r}; set them to 0/false")
        if self.nesterov and self.momentum <= 0:
            raise ConfigError("config key 'nesterov': true needs momentum > 0")
        for i, spec in enumerate(self.augment):
            try:
                name, _ = normalize_spec(spec)
                if name not in AUGMENTATIONS:
                    raise ConfigError(f"config key 'augment[{i}]': unknown augmentation {name!r}; "
                                      f"allowed: {', '.join(AUGMENTATIONS.names())}")
                build_augmentations([spec])
            except ConfigError:
                raise
            except (ValueError, TypeError) as e:
                raise ConfigError(f"config key 'augment[{i}]': bad value {spec!r}: {e}") from e

    def limit_problems(self) -> List[str]:
        """What this (valid) config asks that its data or model cannot give, each naming the
        limit: a subset larger than its split, a batch larger than the training set, a width
        that rounds a layer to zero channels.  Empty when the dataset file is not there to
        measure (the trainer then checks again)."""
        from .data import sizes
        out: List[str] = []
        found = sizes(self.dataset)
        if found is not None:
            n_train, n_test = found
            n_val = int(round(n_train * self.val_fraction))
            splits = {"train_subset": (n_train - n_val, f"training images of {self.dataset} after the "
                                                         f"validation split (val_fraction {self.val_fraction:g})"),
                      "val_subset": (n_val, f"validation images of {self.dataset} (val_fraction "
                                            f"{self.val_fraction:g})"),
                      "test_subset": (n_test, f"test images of {self.dataset}")}
            for k, (limit, what) in splits.items():
                v = getattr(self, k)
                if v is not None and v > limit:
                    out.append(f"config key {k!r}: bad value {v}; more than the {limit} {what}: use at "
                               f"most {limit}, or null for all")
            n_tr = min(n_train - n_val, self.train_subset or n_train)
            if self.batch_size > n_tr:
                out.append(f"config key 'batch_size': bad value {self.batch_size}; larger than the training "
                           f"set ({n_tr} images): use at most {n_tr}")
        width = self.model_args.get("width")
        if width is not None and width < 1:
            import torch
            from ..models import MODELS
            try:
                with torch.device("meta"):  # builds the layers without allocating their weights
                    MODELS.build(self.model, num_classes=10, **self.model_args)
            except ValueError as e:
                if "rounds a layer" in str(e):
                    out.append(f"config key 'model_args.width': bad value {width}; {e}")
        return out

    def check_limits(self) -> "RunConfig":
        """Raise :class:`ConfigError` for the first of :meth:`limit_problems`."""
        problems = self.limit_problems()
        if problems:
            raise ConfigError(problems[0])
        return self

    # -- identity --------------------------------------------------------------------
    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    def identity(self) -> Dict[str, Any]:
        """The fields that change the result, with defaults filled in.

        The ``*_args`` dicts get their builder's defaults, so ``{"width": 1.0}`` and
        ``{}`` name the same training and share one key."""
        from .components import LOSSES, SCHEDULES
        from ..models import MODELS

        d = self.to_dict()
        for k in EXECUTION_FIELDS:
            d.pop(k, None)
        for k, default in KEYED_WHEN_SET.items():
            if d.get(k) == default:
                d.pop(k)
        d["model"], d["optimizer"] = d["model"].lower(), d["optimizer"].lower()
        d["schedule"], d["loss"] = d["schedule"].lower(), d["loss"].lower()
        d["model_args"] = {**keyword_defaults(MODELS.get(d["model"]), ("num_classes", "in_channels")),
                           **d["model_args"]}
        d["schedule_args"] = {**keyword_defaults(SCHEDULES.get(d["schedule"]),
                                          ("opt", "lr", "epochs", "steps_per_epoch")),
                              **d["schedule_args"]}
        d["loss_args"] = {**keyword_defaults(LOSSES.get(d["loss"])), **d["loss_args"]}
        d["schema"] = SCHEMA_VERSION
        return d

    def canonical_json(self) -> str:
        return canonical_json(self.identity())

    def key(self) -> str:
        """The one cache hash (:func:`cnnreport.core.cache.key_of`) of :meth:`identity`."""
        return key_of(self.identity())

    def replace(self, **changes: Any) -> "RunConfig":
        """A validated copy with some fields changed."""
        d = self.to_dict()
        d.update(changes)
        return RunConfig.from_dict(d)


def _positive(cfg: RunConfig, *keys: str) -> None:
    for k in keys:
        v = getattr(cfg, k)
        if not v > 0:
            raise ConfigError(f"config key {k!r}: bad value {v!r}; must be > 0")


def _choice(key: str, value: str, allowed: List[str]) -> None:
    if value not in allowed:
        raise ConfigError(f"config key {key!r}: bad value {value!r}; allowed: {', '.join(allowed)}")


def keyword_defaults(fn, skip=()) -> Dict[str, Any]:
    """Keyword defaults of a builder, tuples as lists (as JSON would have them)."""
    sig = inspect.signature(fn.__init__ if inspect.isclass(fn) else fn)
    out = {}
    for n, p in sig.parameters.items():
        if n in skip or n == "self" or p.default is inspect.Parameter.empty:
            continue
        out[n] = list(p.default) if isinstance(p.default, tuple) else p.default
    return out


def _check_kwargs(key: str, fn, kwargs: Dict[str, Any], skip=()) -> None:
    """Reject keyword arguments that the constructor ``fn`` does not take."""
    sig = inspect.signature(fn.__init__ if inspect.isclass(fn) else fn)
    params = sig.parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return
    allowed = [n for n, p in params.items() if n not in skip and n != "self"
               and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    for k in kwargs:
        if k not in allowed:
            raise ConfigError(f"config key '{key}.{k}': not an argument of {fn.__name__}; "
                              f"allowed: {', '.join(allowed) or '(none)'}")


def _check_type(key: str, value: Any, hint: Any) -> Any:
    """Check ``value`` against a field's type hint, allowing int where float is wanted."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union:
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _check_type(key, value, inner[0])
    expected = origin or hint
    ok = {
        float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        bool: lambda v: isinstance(v, bool),
        str: lambda v: isinstance(v, str),
        list: lambda v: isinstance(v, (list, tuple)),
        dict: lambda v: isinstance(v, dict),
    }[expected]
    if not ok(value):
        raise ConfigError(f"config key {key!r}: bad value {value!r} of type {type(value).__name__}; "
                          f"expected {getattr(expected, '__name__', expected)}")
    if expected is float:
        return float(value)
    if expected is list:
        return list(value)
    return value
