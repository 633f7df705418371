"""Lantern Shop's one load driver: ``make load``, the benchmarks and the load image use it.

``hey`` sends the requests (:mod:`load.hey` runs it and reads its summary); every order of a run
carries one run tag, and :mod:`load.store` counts the run's DISTINCT order ids in the orders
table afterwards, so a lost or a doubled order shows as missing or extra, never as a difference
of two counters. ``python -m load --help`` (or ``lantern-load`` in the image) says how to run it.
"""
