"""Benchmarks: one harness (:mod:`benchmarks.harness`) behind ``compare.py`` and ``scaling.py``.

See ``benchmarks/README.md`` for the commands, the metrics and the latest tables.
"""
