"""The process's peak resident set size: each benchmark job runs alone in its process, so it is that job's."""

from __future__ import annotations

import resource
import sys

_RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _RSS_UNIT / 2**20, 1)
