"""One command line with verbs: ``cnnreport <verb> ...`` (the console script) or, in a plain
checkout such as the GPU machine's, ``python -m cnnreport <verb> ...``.

Each verb is the ``main`` of the module that owns it, imported only when that verb runs, so
``cnnreport remote`` needs nothing beyond the GPU machine's stack and ``cnnreport --help``
imports no torch.
"""
from __future__ import annotations

import importlib
import sys
from typing import Optional, Sequence

# verb -> (module, what it does); each module's ``main(argv)`` takes the verb's arguments.
VERBS = {
    "plan": ("compute.plan", "list every run of a profile: tiers, state, estimated GPU-minutes and CPU-hours"),
    "queue": ("compute.queue", "train the pending runs within a time budget; pack or unpack result archives"),
    "remote": ("compute.remote", "the GPU machine's one command: prepare the data, train within a budget, pack"),
    "run": ("build.run", "run one chapter through papermill with a parameter file and overrides"),
    "book": ("build.book", "run every chapter of a profile and build the HTML book"),
    "sweep": ("build.sweep", "run a chapter over a grid of parameter values"),
    "data": ("core.data", "download or check the datasets (<root>/<name>.npz)"),
    "costs": ("compute.costs", "measure the cost model's FLOP and parameter tables"),
}


def usage() -> str:
    width = max(map(len, VERBS))
    lines = ["usage: cnnreport <verb> [arguments]  (or: python -m cnnreport <verb> ...)", "", "verbs:"]
    lines += [f"  {v:<{width}}  {what}" for v, (_, what) in VERBS.items()]
    lines += ["", "cnnreport <verb> --help shows a verb's arguments."]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    verb, rest = argv[0], argv[1:]
    if verb not in VERBS:
        print(f"error: unknown verb {verb!r}; verbs: {', '.join(VERBS)}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"cnnreport.{VERBS[verb][0]}")
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
