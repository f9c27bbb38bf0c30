"""Move results between machines as checked tar.gz archives.

:func:`pack` writes result files of a results folder (``<key>.json``, the landscape caches
``landscape/<key>-<hash>.json`` and checkpoints ``checkpoints/<key>/last.pt``) into one
tar.gz of at most :data:`PART_LIMIT` bytes, split into numbered parts
(``results.tar.gz``, ``results.part2.tar.gz``, ...) when it would be larger.  A member
that alone would not fit a part is left out and named.  Every archive holds a
``manifest.json`` with the SHA-256 of each member.

:func:`unpack` merges an archive into a results folder and checks every member first:

* the path is safe: relative, no ``..``, a regular file (no links, devices or folders to
  create), and one of the three shapes above or a NumPy result ``scratch/<key>.json`` (a
  checkpoint only as ``checkpoints/<key>/last.pt``);
* its bytes match the manifest (a transfer that corrupted a file is caught);
* a result is JSON with the fields of :class:`cnnreport.core.store.Result`, its config
  validates as a :class:`cnnreport.core.config.RunConfig` (a NumPy result's as a
  :mod:`cnnreport.scratch.config` config), and the key recomputed from the config equals
  both the file name and the ``key`` field; a landscape cache likewise,
  with its probe settings; a checkpoint loads with ``torch.load(weights_only=True)``
  (nothing in it is executed: the only classes allowed beyond tensors are NumPy's array
  and dtypes, for the saved random state) and names the key of its folder;
* nothing stored is replaced: a file identical to the one present is fine, a different
  result under an existing key is refused (a checkpoint may replace an older one of the
  same run, one with fewer epochs).

A refused member is named with the reason and the other members still merge; the
command exits non-zero when anything was refused.

The queue packs only what it produced on the GPU, so NumPy results (made on a CPU) are
never in its archives; unpack accepts them so that results move between machines one way.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ..core.cache import atomic_write_bytes

PART_LIMIT = 16 * 1024 * 1024
MEMBER_LIMIT = 1024 * 1024 * 1024  # no single member above 1 GiB is read
MANIFEST = "manifest.json"
RESULT_RE = re.compile(r"^(?:controls/)?([0-9a-f]{16})\.json$")   # controls/: store.CONTROLS_DIR
SCRATCH_RE = re.compile(r"^scratch/([0-9a-f]{16})\.json$")
LANDSCAPE_RE = re.compile(r"^landscape/([0-9a-f]{16})-([0-9a-f]{16})\.json$")
CHECKPOINT_RE = re.compile(r"^(?:controls/)?checkpoints/([0-9a-f]{16})/last\.pt$")
STATUSES = ("ok", "diverged")


class PackError(RuntimeError):
    pass


# -- packing ---------------------------------------------------------------------------------
def part_name(out: Path, i: int) -> Path:
    """``results.tar.gz``, then ``results.part2.tar.gz``, ``results.part3.tar.gz``, ..."""
    if i == 1:
        return out
    name = out.name
    stem, ext = (name[:-7], ".tar.gz") if name.endswith(".tar.gz") else (out.stem, out.suffix)
    return out.with_name(f"{stem}.part{i}{ext}")


def _sort_key(rel: str) -> Tuple[int, str]:
    return (2 if "checkpoints/" in rel else 1 if rel.startswith("landscape/") else 0, "")


def pack(root: Union[str, Path], members: Sequence[str], out: Union[str, Path], *,
         limit: int = PART_LIMIT, max_parts: Optional[int] = None) -> Tuple[List[Path], List[str]]:
    """Write ``members`` (paths relative to ``root``) into ``out`` and, if needed, further
    parts of at most ``limit`` bytes each.  Returns the archives written and one line per
    member left out (missing, too big for a part, or beyond ``max_parts``)."""
    root, out = Path(root), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    left_out: List[str] = []
    items: List[Tuple[str, bytes, int]] = []
    for rel in sorted(dict.fromkeys(members), key=_sort_key):  # results first, checkpoints last
        p = root / rel
        if not p.is_file():
            left_out.append(f"{rel}: not found under {root}")
            continue
        data = p.read_bytes()
        est = len(zlib.compress(data, 6)) + 1024  # gzip of a tar of it: about the same plus a header
        if est * 1.02 + 4096 > limit:
            left_out.append(f"{rel}: {est / 2**20:.1f} MiB compressed, more than a part may hold "
                            f"({limit / 2**20:.0f} MiB); not packed")
            continue
        items.append((rel, data, est))
    parts: List[List[Tuple[str, bytes, int]]] = [[]]
    used = 4096.0
    for it in items:
        if parts[-1] and used + it[2] * 1.02 > limit:
            parts.append([])
            used = 4096.0
        parts[-1].append(it)
        used += it[2] * 1.02
    if max_parts is not None and len(parts) > max_parts:
        for part in parts[max_parts:]:
            left_out += [f"{rel}: would need archive part {max_parts + 1} or later (at most {max_parts})"
                         for rel, _, _ in part]
        parts = parts[:max_parts]
    written = []
    for i, part in enumerate(parts, 1):
        if not part and i > 1:
            continue
        target = part_name(out, i)
        manifest = {"parts": len(parts), "part": i, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "files": {rel: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                              for rel, data, _ in part}}
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=6) as tar:
            for rel, data in [(MANIFEST, json.dumps(manifest, indent=1).encode())] + [(r, d) for r, d, _ in part]:
                info = tarfile.TarInfo(rel)
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
                tar.addfile(info, io.BytesIO(data))
        if buf.tell() > limit:
            raise PackError(f"{target}: {buf.tell() / 2**20:.1f} MiB, over the {limit / 2**20:.0f} MiB limit "
                            f"(the size estimate was off); pack fewer files")
        atomic_write_bytes(target, buf.getvalue())
        written.append(target)
    return written, left_out


# -- unpacking -------------------------------------------------------------------------------
@dataclass
class UnpackReport:
    archive: str
    merged: List[str] = field(default_factory=list)
    identical: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    refused: List[Tuple[str, str]] = field(default_factory=list)


def safe_name(name: str) -> Optional[str]:
    """The member's path if it is a safe relative path, else None."""
    if not name or "\\" in name or name.startswith("/") or "\x00" in name:
        return None
    p = PurePosixPath(name)
    if p.is_absolute() or any(part in ("..", "") for part in p.parts):
        return None
    parts = [x for x in p.parts if x != "."]
    return "/".join(parts) if parts else None


def _config_key(config: Dict[str, Any], numpy: bool) -> str:
    """The key of a result's config: a RunConfig's, or (``numpy``) a NumPy run's."""
    from ..core.config import ConfigError, RunConfig
    if not numpy:
        try:
            return RunConfig.from_dict(config).key()
        except ConfigError as e:
            raise ValueError(f"its config does not validate: {e}") from None
    from ..scratch.config import config_key
    try:
        return config_key(config)
    except (ValueError, TypeError) as e:
        raise ValueError(f"its config does not validate as a NumPy run's: {e}") from None


def _check_result(data: bytes, stem: str, numpy: bool = False) -> Dict[str, Any]:
    from ..core.store import Result
    try:
        d = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"not valid JSON ({e})") from None
    if not isinstance(d, dict):
        raise ValueError("not a JSON object")
    unknown = sorted(set(d) - set(Result.__dataclass_fields__))
    if unknown:
        raise ValueError(f"fields that a Result does not have: {', '.join(unknown)}")
    for k, t in (("key", str), ("config", dict), ("status", str), ("history", dict)):
        if not isinstance(d.get(k), t):
            raise ValueError(f"field {k!r} missing or not a {t.__name__}")
    if d["status"] not in STATUSES:
        raise ValueError(f"status {d['status']!r} is not a finished run ({' or '.join(STATUSES)})")
    for k in ("test_acc", "final_test_acc"):
        v = d.get(k)
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 1):
            raise ValueError(f"field {k!r} = {v!r} is not an accuracy in [0, 1]")
    if not all(isinstance(v, list) for v in d["history"].values()):
        raise ValueError("history holds a value that is not a list")
    key = _config_key(d["config"], numpy)
    if key != stem or d["key"] != key:
        raise ValueError(f"forged or stale: the key of its config is {key}, the file is named {stem} "
                         f"and says key {d['key']}")
    try:
        Result.from_dict(d)
    except TypeError as e:
        raise ValueError(f"not a Result: {e}") from None
    return d


def _check_landscape(data: bytes, rel: str, root: Path) -> Dict[str, Any]:
    from ..core.config import ConfigError, RunConfig
    from ..core.landscape import cache_path
    try:
        d = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"not valid JSON ({e})") from None
    if not isinstance(d, dict) or not isinstance(d.get("config"), dict):
        raise ValueError("not a landscape cache (no config)")
    try:
        key = RunConfig.from_dict(d["config"]).key()
        expect = cache_path(d["config"], int(d["probe_every"]), [float(f) for f in d["eta_factors"]], root)
    except (ConfigError, KeyError, TypeError, ValueError) as e:
        raise ValueError(f"its config or probe settings do not validate: {e}") from None
    if d.get("key") != key or expect.relative_to(root).as_posix() != rel:
        raise ValueError(f"forged or stale: its config and probe settings give {expect.name}, "
                         f"its key field says {d.get('key')}")
    return d


_NUMPY_OK = re.compile(r"^numpy(\._core|\.core)?(\.multiarray)?\.(_reconstruct|ndarray|dtype)$|^numpy\.dtypes\.\w+DType$")


def _load_checkpoint(data: bytes) -> Dict[str, Any]:
    import torch
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(data))
    bad = [g for g in unsafe if not _NUMPY_OK.match(g)]
    if bad:
        raise ValueError(f"holds objects other than tensors and NumPy arrays: {', '.join(bad[:5])}")
    import importlib
    allowed = []
    for g in unsafe:
        mod, _, name = g.rpartition(".")
        try:
            allowed.append(getattr(importlib.import_module(mod), name))
        except (ImportError, AttributeError):
            raise ValueError(f"needs {g}, which this NumPy does not have") from None
    import numpy as np
    # dtype classes (numpy.dtypes.UInt32DType for the saved NumPy random state) are built
    # while unpickling an array's dtype, so they are not listed above; they run no code.
    allowed += [getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith("DType")]
    with torch.serialization.safe_globals(allowed):
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def _check_checkpoint(data: bytes, key: str) -> Dict[str, Any]:
    try:
        ck = _load_checkpoint(data)
    except ValueError:
        raise
    except Exception as e:  # noqa: BLE001 - whatever torch says about a broken file
        raise ValueError(f"not a readable checkpoint ({type(e).__name__}: {str(e)[:200]})") from None
    if not isinstance(ck, dict) or ck.get("key") != key:
        raise ValueError(f"forged or misplaced: it is the checkpoint of {ck.get('key') if isinstance(ck, dict) else '?'}, "
                         f"stored under checkpoints/{key}/")
    missing = [k for k in ("model", "optimizer", "schedule", "history", "steps", "state", "rng") if k not in ck]
    if missing:
        raise ValueError(f"not a trainer checkpoint (missing {', '.join(missing)})")
    return ck


def _members(tar: tarfile.TarFile, report: UnpackReport):
    """The archive's members; a truncated or corrupt stream ends the iteration, named."""
    while True:
        try:
            m = tar.next()
        except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
            report.refused.append(("(rest of the archive)", f"unreadable from here on: {type(e).__name__}: {e}"))
            return
        if m is None:
            return
        yield m


def unpack(archive: Union[str, Path], root: Union[str, Path]) -> UnpackReport:
    """Check every member of ``archive`` and merge the good ones into ``root``."""
    root = Path(root)
    report = UnpackReport(str(archive))
    try:
        tar = tarfile.open(archive, mode="r:*")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        report.refused.append((str(archive), f"not a readable tar archive: {type(e).__name__}: {e}"))
        return report
    manifest: Optional[Dict[str, Any]] = None
    seen = set()
    with tar:
        for m in _members(tar, report):
            name = m.name
            rel = safe_name(name)
            if m.isdir():
                continue
            if rel is None:
                report.refused.append((name, "unsafe path (absolute, '..' or empty parts)"))
                continue
            if not m.isfile():
                kind = "link" if (m.issym() or m.islnk()) else "special file"
                report.refused.append((rel, f"a {kind}, not a regular file"))
                continue
            if m.size > MEMBER_LIMIT:
                report.refused.append((rel, f"{m.size / 2**20:.0f} MiB, over the {MEMBER_LIMIT / 2**20:.0f} MiB limit"))
                continue
            if rel in seen:
                report.refused.append((rel, "appears twice in the archive"))
                continue
            seen.add(rel)
            try:
                f = tar.extractfile(m)
                data = f.read() if f is not None else b""
            except (tarfile.TarError, EOFError, OSError, zlib.error) as e:
                report.refused.append((rel, f"unreadable: {type(e).__name__}: {e}"))
                continue
            if rel == MANIFEST:
                try:
                    manifest = json.loads(data)
                    assert isinstance(manifest.get("files"), dict)
                except Exception:  # noqa: BLE001
                    report.refused.append((rel, "not a valid manifest; members are checked without it"))
                    manifest = None
                continue
            if manifest is not None:
                want = manifest["files"].get(rel)
                if want is None:
                    report.refused.append((rel, "not listed in the archive's manifest"))
                    continue
                if hashlib.sha256(data).hexdigest() != want.get("sha256"):
                    report.refused.append((rel, "corrupt: its SHA-256 differs from the manifest's"))
                    continue
            try:
                _merge(rel, data, root, report, atomic_write_bytes)
            except ValueError as e:
                report.refused.append((rel, str(e)))
    return report


def _same_json(a: bytes, b: bytes) -> bool:
    try:
        return json.loads(a) == json.loads(b)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return a == b


def _merge(rel: str, data: bytes, root: Path, report: UnpackReport, write) -> None:
    target = root / rel
    m = RESULT_RE.match(rel) or SCRATCH_RE.match(rel)
    if m:
        _check_result(data, m.group(1), numpy=m.re is SCRATCH_RE)
    elif LANDSCAPE_RE.match(rel):
        _check_landscape(data, rel, root)
    elif CHECKPOINT_RE.match(rel):
        key = CHECKPOINT_RE.match(rel).group(1)
        ck = _check_checkpoint(data, key)
        if (root / f"{key}.json").is_file():
            report.skipped.append(f"{rel} (the finished result of this run is already stored)")
            return
        if target.is_file():
            if target.read_bytes() == data:
                report.identical.append(rel)
                return
            try:
                here = _load_checkpoint(target.read_bytes())
                here_epoch = int(here.get("state", {}).get("epoch", 0))
            except Exception:  # noqa: BLE001 - an unreadable checkpoint here may be replaced
                here_epoch = -1
            if int(ck["state"].get("epoch", 0)) <= here_epoch:
                raise ValueError(f"older than the checkpoint here (epoch {ck['state'].get('epoch')} "
                                 f"<= {here_epoch}); kept the one here")
        write(target, data)
        report.merged.append(rel)
        return
    else:
        raise ValueError("not a results file (allowed: <key>.json, scratch/<key>.json, controls/<key>.json, "
                         "landscape/<key>-<hash>.json, checkpoints/<key>/last.pt)")
    if target.is_file():
        if _same_json(target.read_bytes(), data):
            report.identical.append(rel)
            return
        raise ValueError(f"a different result is already stored under this key ({target}); not replaced")
    write(target, data)
    report.merged.append(rel)


def unpack_all(archives: Sequence[Union[str, Path]], root: Union[str, Path], log=print) -> int:
    """:func:`unpack` each archive into ``root``; print what was merged and refused.
    Returns 0, or 1 when anything was refused."""
    refused = 0
    for a in archives:
        r = unpack(a, root)
        log(f"{a}: merged {len(r.merged)}, identical {len(r.identical)}, skipped {len(r.skipped)}, "
            f"refused {len(r.refused)} (into {root})")
        for rel in r.merged:
            log(f"  merged: {rel}")
        for s in r.skipped:
            log(f"  skipped: {s}")
        for rel, why in r.refused:
            log(f"  REFUSED: {rel}: {why}")
        refused += len(r.refused)
    if refused:
        log(f"{refused} file(s) refused; the good files were merged")
    return 1 if refused else 0
