"""Layer 3, compute: the full profile as work to do.

``plan`` (every run of a profile, tiers, state, costs), ``queue`` (train within a budget,
pack and unpack), ``archive`` (checked result archives), ``remote`` (the GPU machine's one
command) and ``costs`` (estimated seconds on an H200 and on this CPU).  It may import the
core and the experiment definitions, nothing above; ``remote`` and what it imports run on
the GPU machine's plain stack.
"""
