"""The rows a recommendation returns: one dict per listed anime, what the CLI prints and the page mirrors.

:func:`anime_rows` turns ranked anime indices into rows (rank, ids, title, the shown value, format, year,
and optionally the ranking score and a reason); :func:`mark_planned` marks the rows (and their cards'
other entries) that are on a plan-to-watch list. Used by :class:`gnn.inference.OnnxRecommender`.
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np


def number(x: float) -> float | None:
    """Rounded for output; None (JSON null) where the model gave no number."""
    return round(float(x), 4) if math.isfinite(float(x)) else None


def anime_rows(order: Iterable[int], values: np.ndarray, key: str, display: Sequence[dict | None],
               anime_ids: Sequence, reasons: Iterable[str] | None = None,
               ranking: np.ndarray | None = None) -> list[dict]:
    """One row per anime index of ``order``, ranked from 1: ``values[i]`` under ``key`` (e.g.
    ``predicted_rating``), ``ranking_score`` from ``ranking`` when given, ``reason`` from ``reasons`` (one
    per anime, in order) when given; title, format and year from the export's ``display`` entry."""
    rows = []
    reasons = iter(reasons) if reasons is not None else None
    for rank, i in enumerate(order, start=1):
        entry = display[i] or {}
        rows.append({"rank": rank, "anime_id": anime_ids[i], "anime_index": int(i),
                     "title": entry.get("title"), key: number(values[i]),
                     **({"ranking_score": number(ranking[i])} if ranking is not None else {}),
                     "format": entry.get("format"), "year": entry.get("year"),
                     **({"reason": next(reasons)} if reasons is not None else {})})
    return rows


def mark_planned(rows: list[dict], planned: set[int]) -> list[dict]:
    """``"planned": true/false`` on every row and card's other entry once a plan-to-watch list (anime
    indices) is given; rows are left unmarked for an empty one."""
    for row in (rows if planned else []):
        for r in [row, *row.get("other_entries", [])]:
            r["planned"] = r["anime_index"] in planned
    return rows
