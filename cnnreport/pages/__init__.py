"""Layer 5, pages: what a chapter page uses.

``chapter`` (Chapter: runs, glue, noise, settings tables), ``audit`` (audit rows from the
verdict rules, their page and summary), ``pending`` (the runs-waiting page), ``tables`` (a
DataFrame as a page shows it, missing numbers as a dash) and ``explorer`` (interactive
views).  It may import every layer below (core, experiments, compute, analysis and plots),
never the build layer.
"""
