"""Name -> constructor tables.

Every pluggable component of the project (models, activations, losses, optimizers,
schedules, augmentations) lives in a :class:`Registry`.  A registry is a plain mapping
from a lower-case name to a callable; registering a name twice is an error, and asking
for an unknown name raises a :class:`KeyError` subclass that lists every allowed name,
so a typo in a config is reported with the fix next to it.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Optional, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class UnknownNameError(KeyError, ValueError):
    """Raised for a name that is not in a registry.  Subclasses both KeyError and
    ValueError so callers can catch whichever reads more naturally."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class Registry:
    """A case-insensitive name -> constructor table.

    >>> acts = Registry("activation")
    >>> @acts.register("relu")
    ... def relu(): ...
    >>> acts.names()
    ['relu']
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._table: Dict[str, Callable[..., Any]] = {}
        self._docs: Dict[str, str] = {}

    # -- registration -------------------------------------------------------------
    def register(self, name: Optional[str] = None, fn: Optional[Callable[..., Any]] = None):
        """Register ``fn`` under ``name``; usable as ``@reg.register("x")``,
        ``@reg.register()`` (uses the function's name) or ``reg.register("x", fn)``."""

        def deco(f: F) -> F:
            key = (name or f.__name__).lower()
            if key in self._table:
                raise ValueError(
                    f"duplicate {self.kind} name {key!r}: it is already registered "
                    f"to {self._table[key]!r}; choose another name"
                )
            self._table[key] = f
            self._docs[key] = (f.__doc__ or "").strip().split("\n")[0]
            return f

        return deco(fn) if fn is not None else deco

    # -- lookup -------------------------------------------------------------------
    def get(self, name: str) -> Callable[..., Any]:
        if not isinstance(name, str):
            raise UnknownNameError(
                f"{self.kind} name must be a string, got {name!r} ({type(name).__name__}); "
                f"allowed: {', '.join(self.names())}"
            )
        key = name.lower()
        if key not in self._table:
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; allowed: {', '.join(self.names())}"
            )
        return self._table[key]

    def build(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Look up ``name`` and call its constructor."""
        return self.get(name)(*args, **kwargs)

    def names(self) -> List[str]:
        return sorted(self._table)

    def describe(self) -> Dict[str, str]:
        """name -> first line of the constructor's docstring."""
        return {k: self._docs[k] for k in self.names()}

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._table

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
