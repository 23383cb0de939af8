"""Where a result comes from: the command as typed, the git commit and the machine (torch-free)."""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def command_line() -> str:
    """The command as typed (``python <script> <args>``), shell-quoted."""
    return " ".join(["python", *(shlex.quote(a) for a in sys.argv)])


def git_commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return out.stdout.strip()

    return {"commit": git("rev-parse", "HEAD") or None,
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def machine_info() -> dict[str, Any]:
    """Where the numbers come from (the parent's view; children inherit the environment)."""
    def version(pkg: str) -> str | None:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return None

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "cpu_count": os.cpu_count(), "cpus_usable": cpus,
            "torch": version("torch"), "torch_geometric": version("torch_geometric"),
            "onnxruntime": version("onnxruntime"), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
            "nice": os.nice(0) if hasattr(os, "nice") else None,
            "load_average_start": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None}
