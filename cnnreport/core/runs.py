"""Train-or-load: the one place that decides whether a run needs training.

It sits above both :mod:`cnnreport.core.store` (which only reads and writes results) and
:mod:`cnnreport.training` (which only trains), so neither imports the other.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, Optional, Union

from .config import RunConfig
from .locks import RunLocked, wait_for
from .store import Result, ResultStore


def run_or_load(config: Union[RunConfig, Dict[str, Any]], store: Union[ResultStore, str, os.PathLike, None] = None,
                *, force: bool = False, progress: bool = True, save_weights: bool = False,
                data=None, train: bool = True, load_data: Optional[Callable[[], Any]] = None) -> Result:
    """Return the stored result of ``config``, training it first if it is not stored.

    ``force=True`` trains again and overwrites.  ``train=False``: a run that is not stored
    comes back as a pending placeholder (:meth:`Result.placeholder`) instead of training.
    ``load_data``: called for the dataset only when the run must train (``data`` is the
    dataset itself).  An interrupted run resumes from its checkpoint in
    ``<store>/checkpoints/<key>/``.  When another process is training the same run
    (:mod:`cnnreport.core.locks`), wait for it and load its result.  A dict config is validated
    here, once, and handed to :func:`cnnreport.training.fit` as a :class:`RunConfig`.
    """
    cfg = config if isinstance(config, RunConfig) else RunConfig.from_dict(config)
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    if not force:
        found = store.get(cfg)
        if found is not None:
            return found
    if not train:
        return Result.placeholder(cfg)
    from ..training import fit  # torch is imported only when something must be trained
    if data is None and load_data is not None:
        data = load_data()
    try:
        return fit(cfg, store=store, progress=progress, save_weights=save_weights, data=data)
    except RunLocked:  # another process trains it: wait for it, then load what it stored
        wait_for(store.root, cfg.key())
        found = store.get(cfg)
        if found is None:  # it stopped without a result (out of time, killed): train it here
            return fit(cfg, store=store, progress=progress, save_weights=save_weights, data=data)
        return found
