"""Counting what was kept and what was dropped, by reason.

Every input stage reports a :class:`Tally` so that ``kept + dropped == total``
holds for every input and nothing is dropped silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Tally:
    total: int = 0
    dropped: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)  # things changed but kept (e.g. retyped)

    def drop(self, reason: str, n: int = 1) -> None:
        if n:
            self.dropped[reason] += int(n)

    def note(self, what: str, n: int = 1) -> None:
        if n:
            self.notes[what] += int(n)

    @property
    def kept(self) -> int:
        return self.total - sum(self.dropped.values())

    def as_dict(self) -> dict:
        out = {"total": self.total, "kept": self.kept,
               "dropped": dict(sorted(self.dropped.items()))}
        if self.notes:
            out["notes"] = dict(sorted(self.notes.items()))
        return out

    def summary(self, name: str) -> str:
        parts = ", ".join(f"{k} {v:,}" for k, v in sorted(self.dropped.items())) or "none"
        return f"{name}: {self.total:,} read, {self.kept:,} kept, dropped: {parts}"
