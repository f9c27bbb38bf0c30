"""Layer 6, build: the commands that execute chapters.

``run`` (one chapter through papermill, parameters checked first), ``book`` (every chapter of
a profile, then Jupyter Book) and ``sweep`` (a chapter over a grid).  The top layer: nothing
in the package imports it, except the command line (``cnnreport.__main__``).
"""
