"""One trainer per run: the lock is atomic, a stale one is taken over, a second trainer
skips (queue) or waits and loads (run_or_load)."""
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from cnnreport.core import locks as L
from cnnreport.core.runs import run_or_load
from cnnreport.core.store import ResultStore
from cnnreport.training import fit

CFG = dict(dataset="tiny", model="mlp", model_args={"hidden": [16], "input_shape": [3, 32, 32]}, epochs=2,
           batch_size=16, optimizer="adam", lr=3e-3, val_fraction=0.25, device="cpu", seed=1)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _hold(tmp_path, key, pid):
    path = L.lock_path(tmp_path, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "since": time.time()}))
    return path


def test_the_lock_is_exclusive_and_released(tmp_path):
    with L.run_lock(tmp_path, "k"):
        assert L.lock_path(tmp_path, "k").is_file()
        assert L.held_by_other(tmp_path, "k") is None  # our own lock
    assert not L.lock_path(tmp_path, "k").exists()


def test_a_live_owner_blocks_and_a_dead_one_is_stale(tmp_path):
    parent = os.getppid()  # alive for the whole test, and not us
    _hold(tmp_path, "k", parent)
    with pytest.raises(L.RunLocked, match=f"pid {parent}"):
        with L.run_lock(tmp_path, "k"):
            pass
    assert L.held_by_other(tmp_path, "k")["pid"] == parent
    _hold(tmp_path, "k", _dead_pid())
    assert L.held_by_other(tmp_path, "k") is None
    with L.run_lock(tmp_path, "k"):
        assert json.loads(L.lock_path(tmp_path, "k").read_text())["pid"] == os.getpid()


def test_a_half_written_lock_blocks_briefly_then_goes_stale(tmp_path):
    path = L.lock_path(tmp_path, "k")
    path.parent.mkdir(parents=True)
    path.write_text("")  # its writer died before writing the owner
    with pytest.raises(L.RunLocked):
        with L.run_lock(tmp_path, "k"):
            pass
    old = time.time() - 2 * L.UNREADABLE_STALE_S
    os.utime(path, (old, old))
    assert L.held_by_other(tmp_path, "k") is None
    with L.run_lock(tmp_path, "k"):
        assert json.loads(path.read_text())["pid"] == os.getpid()


def test_fit_refuses_a_locked_run_and_run_or_load_waits_then_loads(tiny, tmp_path, monkeypatch):
    store = ResultStore(tmp_path)
    key = fit(CFG, progress=False, data=tiny).key
    path = _hold(tmp_path, key, os.getppid())
    with pytest.raises(L.RunLocked):
        fit(CFG, store=store, progress=False, data=tiny)
    assert not store.path(key).exists()
    monkeypatch.setattr(L, "WAIT_POLL_S", 0.05)

    def the_other_trainer_finishes():
        time.sleep(0.3)
        path.unlink()  # it released the lock without a result: run_or_load trains it itself
    threading.Thread(target=the_other_trainer_finishes).start()
    t0 = time.monotonic()
    r = run_or_load(CFG, store=store, progress=False, data=tiny)
    assert time.monotonic() - t0 >= 0.3 and r.status == "ok" and store.path(key).is_file()
    assert not path.exists()
