"""One trainer per run: a per-run lock file under ``<results>/locks/<key>.lock``.

Two queue processes, or a queue and a chapter, may reach the same pending run at once.
The lock is created atomically (``O_CREAT | O_EXCL``) and holds the owner's host and
pid; a lock whose process is gone (on this host) is stale and taken over.  A second
trainer either skips the run (:class:`RunLocked`, the queue) or waits for the owner to
finish and then loads its result (:func:`cnnreport.core.runs.run_or_load`).
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Iterator, Optional, Union

WAIT_POLL_S = 5.0  # seconds between looks at a lock held by another process
UNREADABLE_STALE_S = 60.0  # an unreadable lock this old was left half written by a dead writer


class RunLocked(RuntimeError):
    """Another live process is training this run."""

    def __init__(self, key: str, owner: dict):
        super().__init__(f"run {key} is being trained by pid {owner.get('pid')} on {owner.get('host')}; "
                         f"skip it, or wait for it and load the stored result")
        self.key, self.owner = key, owner


def lock_path(root: Union[str, os.PathLike], key: str) -> Path:
    return Path(root) / "locks" / f"{key}.lock"


def _alive(owner: dict) -> bool:
    if owner.get("host") != socket.gethostname():
        return True  # another machine's process cannot be checked: assume it lives
    try:
        os.kill(int(owner.get("pid", -1)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OverflowError):
        return int(owner.get("pid", -1)) > 0
    return True


def owner_of(path: Path) -> Optional[dict]:
    """The lock's owner; None when there is no lock; ``{}`` when it is unreadable (being
    written right now)."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}


def _live(path: Path, owner: dict) -> bool:
    """Whether ``owner`` (read from ``path``) still holds the lock."""
    if owner == {}:  # unreadable: being written, unless it has stayed so for long
        try:
            return time.time() - path.stat().st_mtime < UNREADABLE_STALE_S
        except FileNotFoundError:
            return False
    return _alive(owner)


def _try_create(path: Path) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        json.dump({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}, f)
    return True


def held_by_other(root: Union[str, os.PathLike], key: str) -> Optional[dict]:
    """The owner of a live lock on ``key`` held by another process; None when free or stale."""
    path = lock_path(root, key)
    owner = owner_of(path)
    if owner is None or owner.get("pid") == os.getpid() and owner.get("host") == socket.gethostname():
        return None
    return (owner or {"pid": None, "host": None}) if _live(path, owner) else None


@contextlib.contextmanager
def run_lock(root: Union[str, os.PathLike], key: str) -> Iterator[None]:
    """Hold the lock on ``key`` while the body trains; raise :class:`RunLocked` when a live
    process holds it.  A stale lock (its process died) is removed and taken."""
    path = lock_path(root, key)
    while not _try_create(path):
        owner = owner_of(path)
        if owner is None:
            continue  # released between the two looks
        if _live(path, owner):
            raise RunLocked(key, owner)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # stale: its process is gone, or it was never fully written
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def wait_for(root: Union[str, os.PathLike], key: str, poll_s: Optional[float] = None,
             timeout_s: Optional[float] = None) -> None:
    """Return once no live process holds the lock on ``key`` (looking every ``poll_s``
    seconds, default :data:`WAIT_POLL_S`)."""
    poll_s = WAIT_POLL_S if poll_s is None else poll_s
    t0 = time.monotonic()
    while held_by_other(root, key) is not None:
        if timeout_s is not None and time.monotonic() - t0 > timeout_s:
            raise TimeoutError(f"run {key} is still locked after {timeout_s:.0f}s")
        time.sleep(poll_s)
