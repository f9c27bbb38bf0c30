"""Where things live: the checkout, the book, the results folder of a profile.

Standard library only, so every part of the project (the GPU queue included) resolves
paths the same way.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

PROFILES = ("smoke", "quick", "full")
RESULTS_ENV = "CNNREPORT_RESULTS"


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


def results_root(profile: str, root: Union[str, Path, None] = None) -> Path:
    """``$CNNREPORT_RESULTS`` (set by ``cnnreport.run`` for a chapter's kernel), else
    ``<checkout>/results/<profile>``."""
    env = os.environ.get(RESULTS_ENV)
    if env:
        return Path(env)
    return Path(root or repo_root()) / "results" / profile
