"""Benchmarks, run as ``python -m rnnviz.bench NAME [options]``.

Each benchmark is a module of this package with a ``main(argv)``; every one prints its own
figures beside a reference measured in the same run (torch, or the engine's own compute time),
so that ratios, not absolute times, are compared between machines.
"""
