"""Name -> constructor tables, one verb family for all of them.

Every pluggable part of the project lives in a :class:`Registry`:

========================================  ===========================================
``cnnreport.models.MODELS``               network builders (``input_shape``, ``family``)
``cnnreport.models.ACTIVATIONS``          activation modules (``torch_class``)
``cnnreport.core.components.OPTIMIZERS``       optimizers
``cnnreport.core.components.SCHEDULES``        learning-rate schedules
``cnnreport.core.components.LOSSES``           losses
``cnnreport.core.augment.AUGMENTATIONS``       batched augmentations
``cnnreport.experiments.EXPERIMENTS``     a chapter's training runs
========================================  ===========================================

and every registry answers the same verbs::

    @REG.register("name", **metadata)     # decorator; or REG.register("name", fn, ...)
    REG.get("name")                       # the constructor
    REG.build("name", *args, **kwargs)    # call it, arguments checked first
    REG.names()                           # sorted names
    REG.info("name")                      # an Entry: name, summary, builder, metadata
    REG.unregister("name")                # tests only: take an entry out again

Names are lower-case and case-insensitive.  A registered name is its constructor's
``__name__`` wherever Python allows it (``def none`` is schedule ``"none"``); classes
keep their CapWords names (augmentation ``"crop"`` is ``RandomCrop``).  Registering a
name twice is an error, and an unknown name raises :class:`UnknownNameError` listing
every allowed name, so a typo in a config is reported with the fix next to it.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class UnknownNameError(KeyError, ValueError):
    """Raised for a name that is not in a registry.  Subclasses both KeyError and
    ValueError so callers can catch whichever reads more naturally."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Entry:
    """One registered constructor and what is known about it without calling it.

    Metadata given at registration reads as attributes: ``MODELS.info("lenet").input_shape``.
    """

    name: str                      # the registered (lower-case) name
    fn: Callable[..., Any] = field(repr=False)
    summary: str                   # first line of the constructor's (or its module's) docstring
    metadata: Dict[str, Any] = field(default_factory=dict)

    @property
    def builder(self) -> str:
        """``module.qualname`` of the constructor: where to read its code."""
        return f"{self.fn.__module__}.{self.fn.__qualname__}"

    def __getattr__(self, key: str) -> Any:
        # Only called for names that are not fields: look them up in the metadata.
        if key.startswith("__"):
            raise AttributeError(key)
        meta = object.__getattribute__(self, "metadata")
        if key in meta:
            return meta[key]
        raise AttributeError(f"{self.name!r} has no metadata {key!r}; it has: "
                             f"{', '.join(sorted(meta)) or '(none)'}")


def _summary(fn: Callable[..., Any]) -> str:
    """First line of the constructor's docstring, else of its module's (a chapter's
    experiment function is documented by its module)."""
    doc = fn.__doc__ if fn.__doc__ else getattr(inspect.getmodule(fn), "__doc__", None)
    return (doc or "").strip().split("\n")[0]


class Registry:
    """A case-insensitive name -> constructor table.

    ``defaults`` names the metadata an entry may carry and its default value; with it,
    registering unknown metadata is an error.  ``check`` may normalise (return) the
    metadata dict of a new entry, or raise ``ValueError`` on a bad one.

    >>> acts = Registry("activation")
    >>> @acts.register("relu")
    ... def relu():
    ...     '''The rectifier.'''
    >>> acts.names(), acts.info("relu").summary
    (['relu'], 'The rectifier.')
    """

    def __init__(self, kind: str, defaults: Optional[Mapping[str, Any]] = None,
                 check: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None) -> None:
        self.kind = kind
        self._defaults = dict(defaults) if defaults is not None else None
        self._check = check
        self._entries: Dict[str, Entry] = {}

    # -- registration -------------------------------------------------------------
    def register(self, name: Optional[str] = None, fn: Optional[Callable[..., Any]] = None,
                 **metadata: Any):
        """Register ``fn`` under ``name`` with ``metadata``.

        Usable as ``@reg.register("x", **metadata)``, ``@reg.register()`` (the
        function's name) or ``reg.register("x", fn, **metadata)``.  A duplicate name
        or bad metadata raises ``ValueError`` and leaves the table unchanged.
        """
        if self._defaults is not None:
            unknown = sorted(set(metadata) - set(self._defaults))
            if unknown:
                raise ValueError(f"unknown {self.kind} metadata {', '.join(unknown)}; "
                                 f"allowed: {', '.join(sorted(self._defaults)) or '(none)'}")
            metadata = {**self._defaults, **metadata}
        if self._check is not None:
            metadata = self._check(dict(metadata))

        def deco(f: F) -> F:
            key = (name or f.__name__).lower()
            if key in self._entries:
                raise ValueError(
                    f"duplicate {self.kind} name {key!r}: it is already registered "
                    f"to {self._entries[key].builder}; choose another name"
                )
            summary = _summary(f)
            self._entries[key] = Entry(key, f, summary, dict(metadata))
            return f

        return deco(fn) if fn is not None else deco

    def unregister(self, name: str) -> Callable[..., Any]:
        """Remove ``name`` and return its constructor (for tests that register a
        temporary entry); an unknown name raises :class:`UnknownNameError`."""
        return self._entries.pop(self._key(name)).fn

    # -- lookup -------------------------------------------------------------------
    def _key(self, name: Any) -> str:
        if not isinstance(name, str):
            raise UnknownNameError(
                f"{self.kind} name must be a string, got {name!r} ({type(name).__name__}); "
                f"allowed: {', '.join(self.names())}"
            )
        key = name.lower()
        if key not in self._entries:
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; allowed: {', '.join(self.names())}"
            )
        return key

    def get(self, name: str) -> Callable[..., Any]:
        """The constructor registered as ``name``."""
        return self._entries[self._key(name)].fn

    def info(self, name: str) -> Entry:
        """The :class:`Entry` of ``name``: summary, builder and metadata."""
        return self._entries[self._key(name)]

    def build(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the constructor of ``name``.

        The arguments are checked against its signature first: a wrong one raises
        ``TypeError`` naming the entry and the arguments it accepts."""
        fn = self.get(name)
        try:
            sig = inspect.signature(fn)
        except (TypeError, ValueError):  # a builtin without a signature: just call it
            return fn(*args, **kwargs)
        try:
            sig.bind(*args, **kwargs)
        except TypeError as exc:
            accepted = ", ".join(p for p in sig.parameters if p != "self")
            raise TypeError(f"bad arguments for {self.kind} {name!r}: {exc}; "
                            f"accepted: {accepted or '(none)'}") from None
        return fn(*args, **kwargs)

    def names(self) -> List[str]:
        """Sorted registered names."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
