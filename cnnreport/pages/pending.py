"""The text of the book's page of pending runs (``book/pending.md``), from the plan.

Per chapter and tier: the runs not stored at the profile, their estimated time on the
H200 and the command that computes them; then the totals per tier.  It reads only the
plan (:mod:`cnnreport.compute.plan`): no data, no training.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, Tuple, Union

from ..compute import plan as P


def queue_command(profile: str, seconds: float, chapter: str = "", tier: int = 0) -> str:
    budget = max(60, int(math.ceil(seconds * 1.2 / 60.0)) * 60)  # 20% room, whole minutes
    sel = (f" --chapters {chapter}" if chapter else "") + (f" --tier {tier}" if tier else "")
    return f"python -m cnnreport queue --profile {profile}{sel} --budget {budget}"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def pending_markdown(profile: str, results: Union[str, Path, None] = None) -> Tuple[str, Dict[str, int]]:
    """Markdown listing the pending runs of ``profile`` and ``{"runs", "pending"}`` counts."""
    plan = P.build(profile, results=results, strict=False)
    pending = plan.pending()
    counts = {"runs": len(plan.entries), "pending": len(pending)}
    out = []
    for c, why in plan.errors.items():
        out.append(f"```{{warning}}\nChapter {c} could not be planned: {_md(why)}\n```\n")
    if not pending:
        out.append(f"Nothing is pending at the {profile} profile: every run of "
                   f"{', '.join(plan.chapters) or 'the chapters'} is stored under `{Path(plan.results).name}/`.")
        return "\n".join(out), counts
    total = sum(e.remaining_s() for e in pending)
    cpu = sum(e.remaining_cpu_s() for e in pending)
    gpu_only = sum(e.gpu_only for e in pending)
    out.append(f"**{len(pending)} run(s) pending, about {P.fmt_s(total)} on one H200, or "
               f"{cpu / 3600:.1f} CPU-hours on this project's {P.CPU_THREADS}-thread CPU** "
               f"({gpu_only} of them longer than one {P.CPU_SITTING_S / 3600:.1f}-hour CPU sitting: "
               f"they wait for the GPU). All of them: `{queue_command(profile, total)}`.\n")
    tiers = plan.totals()["tiers"]
    out.append("| tier | pending runs | epochs | est. GPU-minutes | est. CPU-hours | command |")
    out.append("|---|---|---|---|---|---|")
    for t, v in tiers.items():
        if v["pending_runs"]:
            out.append(f"| {t} | {v['pending_runs']} | {v['pending_epochs']} | {v['pending_gpu_min']:.1f} | "
                       f"{v['pending_cpu_h']:.1f} | "
                       f"`{queue_command(profile, v['pending_gpu_min'] * 60, tier=int(t))}` |")
    out.append("")
    for chapter in plan.chapters:
        mine = [e for e in pending if chapter in e.chapters]
        if not mine:
            continue
        secs = sum(e.remaining_s() for e in mine)
        out.append(f"## {chapter}\n")
        cpu_h = sum(e.remaining_cpu_s() for e in mine) / 3600
        out.append(f"{len(mine)} run(s), about {P.fmt_s(secs)} on one H200 or {cpu_h:.1f} CPU-hours: "
                   f"`{queue_command(profile, secs, chapter)}`\n")
        out.append("| tier | runs (labels) | seeds | epochs | est. GPU time | est. CPU time | command |")
        out.append("|---|---|---|---|---|---|---|")
        by_tier: Dict[int, list] = {}
        for e in mine:
            t = min(u.tier for u in e.uses if u.chapter == chapter)
            by_tier.setdefault(t, []).append(e)
        for t in sorted(by_tier):
            es = by_tier[t]
            labels = sorted({u.label for e in es for u in e.uses if u.chapter == chapter})
            seeds = sorted({e.seed for e in es})
            s = sum(e.remaining_s() for e in es)
            shown = ", ".join(labels[:6]) + (f" and {len(labels) - 6} more" if len(labels) > 6 else "")
            out.append(f"| {t} | {len(es)} ({_md(shown)}) | {', '.join(map(str, seeds))} | "
                       f"{sum(e.epochs - e.epochs_done for e in es)} | {P.fmt_s(s)} | "
                       f"{P.fmt_s(sum(e.remaining_cpu_s() for e in es))} | "
                       f"`{queue_command(profile, s, chapter, t)}` |")
        out.append("")
    return "\n".join(out), counts
