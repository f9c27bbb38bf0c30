"""Where things live: the checkout, the book, the results folder of a profile.

Standard library only, so every part of the project (the GPU queue included) resolves
paths the same way.  The one home of:

* :data:`PROFILES`, the parameter profiles (argparse choices, chapter texts, params/);
* :func:`data_root`, the folder of the datasets' ``.npz`` files, with :data:`DATA_ENV`;
* :func:`results_root`, the results folder of a profile (chapters, the book's timings,
  sweeps, the planner and the queue), with :data:`RESULTS_ENV`, the variable that
  ``cnnreport.build.run`` sets for a chapter's kernel and that :class:`cnnreport.core.store.ResultStore`
  reads when it is given no folder.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

PROFILES = ("smoke", "quick", "full")
RESULTS_ENV = "CNNREPORT_RESULTS"
DATA_ENV = "CNNREPORT_DATA"
DEFAULT_DATA_ROOT = Path("~/.cache/cnnreport/data")


def data_root(root: Union[str, os.PathLike, None] = None) -> Path:
    """The folder that holds the datasets' ``.npz`` files: ``root``, else ``$CNNREPORT_DATA``,
    else ``~/.cache/cnnreport/data``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(DATA_ENV)
    return Path(env).expanduser() if env else DEFAULT_DATA_ROOT.expanduser()


def repo_root(start: Optional[Path] = None) -> Path:
    """The folder holding ``_config.yml``, searching upwards (as Jupyter Book does)."""
    p = (start or Path.cwd()).resolve()
    for d in (p, *p.parents):
        if (d / "_config.yml").is_file():
            return d
    here = Path(__file__).resolve().parent.parent  # the checkout this package lives in
    if (here / "_config.yml").is_file():
        return here
    raise FileNotFoundError(f"no _config.yml in {p} or any parent: run from inside the cnnreport checkout")


def results_root(profile: str, root: Union[str, Path, None] = None, *, from_env: bool = True) -> Path:
    """``$CNNREPORT_RESULTS`` (set by ``cnnreport.build.run`` for a chapter's kernel), else
    ``<checkout>/results/<profile>``; ``from_env=False`` skips the variable (for the
    code that decides what to set it to)."""
    env = os.environ.get(RESULTS_ENV) if from_env else None
    if env:
        return Path(env)
    return Path(root or repo_root()) / "results" / profile
