"""The one way this project names, writes and reads a cached file.

Every cache here is a JSON file named by a key: the results store (``<key>.json``, a
:class:`cnnreport.core.store.Result`), the NumPy runs (``scratch/<key>.json``, Results too),
the loss-landscape probes (``landscape/<key>-<key>.json``) and the sweep's run markers.
They share three rules, kept here once so no cache drifts from the others:

* **one hash**: :func:`key_of` is 16 hex digits of the SHA-256 of :func:`canonical_json`
  (sorted keys, no spaces, unknown objects as ``str``).  Equal settings give equal keys
  on every machine and Python version, and 64 bits make a collision among a project's
  few thousand runs practically impossible;
* **one writer**: :func:`write_json` makes the value standard JSON (:func:`json_safe`: no
  NaN/inf, no NumPy scalars) and writes it with :func:`atomic_write_bytes`, a temporary
  file in the same folder renamed into place, so a reader never sees half a file and two
  writers of one key leave one complete copy;
* **one reader**: :func:`read_json` returns None for a missing file and raises
  :class:`CorruptFileError` naming the file and the fix for one that does not parse
  (a disk filled up, a copy was cut short), instead of a bare JSONDecodeError.

Standard library and NumPy only: the GPU machine's queue and the torch-free
:mod:`cnnreport.scratch` import it.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Optional, Union

KEY_LENGTH = 16  # hex digits of a key

PathLike = Union[str, "os.PathLike[str]"]


def canonical_json(obj: Any) -> str:
    """The one text a value hashes as: sorted keys, no spaces, other objects as ``str``."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def key_of(obj: Any) -> str:
    """16 hex digits of the SHA-256 of :func:`canonical_json` of ``obj``."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:KEY_LENGTH]


def json_safe(o: Any) -> Any:
    """``o`` as standard JSON values: NaN and inf become null (JSON has neither), NumPy
    scalars and arrays become Python numbers and lists, tuples become lists."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: json_safe(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [json_safe(v) for v in o]
    ndim = getattr(o, "ndim", None)
    if ndim == 0 and hasattr(o, "item"):
        return json_safe(o.item())
    if ndim is not None and hasattr(o, "tolist"):
        return json_safe(o.tolist())
    return o


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename;
    on any error the temporary file is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: PathLike, obj: Any) -> Path:
    """Write ``json_safe(obj)`` as compact JSON to ``path``, atomically; returns the path."""
    path = Path(path)
    atomic_write_bytes(path, json.dumps(json_safe(obj), separators=(",", ":")).encode())
    return path


class CorruptFileError(ValueError):
    """A cached file exists but is not readable JSON."""


def read_json(path: PathLike, what: str = "cache file") -> Optional[Any]:
    """The parsed JSON of ``path``; None if there is no such file.

    A file that does not parse raises :class:`CorruptFileError` with the path and the
    fix: delete the file and the next build recomputes it (or restore it from git or a
    results archive, for runs that are costly to recompute)."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CorruptFileError(
            f"{path}: unreadable {what}, not valid JSON ({e}). Delete it to recompute, or "
            f"restore it from git or a results archive") from e
