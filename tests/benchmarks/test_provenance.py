"""Where a result comes from: the command, the commit and the machine."""

from __future__ import annotations

import re
import sys

from benchmarks.provenance import command_line, git_commit, machine_info


def test_the_command_is_shell_quoted_as_typed(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["benchmarks/compare.py", "--out", "my results", "--grid", "a=1"])
    assert command_line() == "python benchmarks/compare.py --out 'my results' --grid a=1"


def test_commit_and_machine_are_recorded():
    commit = git_commit()
    assert set(commit) == {"commit", "dirty"} and isinstance(commit["dirty"], bool)
    assert commit["commit"] is None or re.fullmatch(r"[0-9a-f]{40}", commit["commit"])
    machine = machine_info()
    assert machine["cpus_usable"] >= 1 and machine["torch"] and machine["python"].count(".") == 2
