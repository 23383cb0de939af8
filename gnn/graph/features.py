"""Anime node features: numeric catalog facts with missing values made explicit.

Columns (in this order), one row per anime index (row 0 = padding, all zeros):
log-popularity z-score, average-score z-score, year z-score, log-episodes
z-score, one "missing" flag for each of those four, then a one-hot of the
format (one column per :data:`FORMATS`, plus "unknown"). A missing number is
set to the mean (0 after z-scoring) and its flag to 1, so the encoder can tell
"average" from "unknown", except the unknown year of an announced anime (status
NOT_YET_RELEASED), which is the newest year of the catalog (flag still 1): it is
not out yet, so it is no anime of an average year. Statistics come from the
anime in the graph only.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from gnn.data.schema import FORMATS, Anime

FEATURE_NAMES: tuple[str, ...] = (
    "popularity", "average_score", "year", "episodes",
    "popularity_missing", "average_score_missing", "year_missing", "episodes_missing",
    *(f"format_{f}" for f in FORMATS), "format_unknown",
)


def _raw_numbers(anime: Sequence[Anime]) -> np.ndarray:
    def log1p(v: float | None) -> float:
        return math.log1p(v) if v is not None and v >= 0 else math.nan

    return np.array([[log1p(a.popularity),
                      math.nan if a.average_score is None else a.average_score,
                      math.nan if a.year is None else a.year,
                      log1p(a.episodes)] for a in anime], dtype=np.float64).reshape(len(anime), 4)


def zscore_columns(values: np.ndarray) -> np.ndarray:
    """Z-score each column over its known values; NaN (missing) becomes 0."""
    out = np.zeros_like(values)
    for j in range(values.shape[1]):
        col = values[:, j]
        known = ~np.isnan(col)
        if known.any():
            mean = col[known].mean()
            std = col[known].std() or 1.0
            out[known, j] = (col[known] - mean) / std
    return out


def anime_features(anime: Sequence[Anime]) -> torch.Tensor:
    """``[len(anime) + 1, len(FEATURE_NAMES)]`` float tensor; row 0 is the padding anime."""
    raw = _raw_numbers(anime)
    numbers = zscore_columns(raw)
    missing = np.isnan(raw).astype(np.float64)
    year = FEATURE_NAMES.index("year")
    announced = np.array([a.status == "NOT_YET_RELEASED" and a.year is None for a in anime], dtype=bool)
    if announced.any() and (missing[:, year] == 0).any():
        numbers[announced, year] = numbers[missing[:, year] == 0, year].max()
    fmt = np.zeros((len(anime), len(FORMATS) + 1))
    for i, a in enumerate(anime):
        fmt[i, FORMATS.index(a.format) if a.format in FORMATS else len(FORMATS)] = 1.0
    x = np.concatenate([numbers, missing, fmt], axis=1)
    return torch.cat([torch.zeros(1, x.shape[1]), torch.as_tensor(x, dtype=torch.float32)])


def normalized_scores(anime: Sequence[Anime]) -> tuple[list[float], list[float]]:
    """Z-scored log-popularity and average score per anime (missing -> 0, the mean)."""
    numbers = zscore_columns(_raw_numbers(anime)[:, :2])
    return numbers[:, 0].round(6).tolist(), numbers[:, 1].round(6).tolist()


def supported_features(x: torch.Tensor, warm: torch.Tensor, rated_popularity: bool = True) -> torch.Tensor:
    """``x`` (:func:`anime_features`, ``[n, F]``) as a model trained on the ``warm [n]`` anime (those with
    training ratings) should read it, where a number of an anime nobody rated has no support:

    * **an unknown popularity is the lowest known one** (its flag stays 1), not the mean: a catalog
      records no members count for anime that nobody tracked (18 % of the MAL catalog; its 14 rated
      anime without one have 6-31 training ratings), so "unknown" means obscure. At the mean, such anime
      were scored as if of middling popularity, and with a flag that almost no rated anime trains, the
      announced anime shown to a fan of Attack on Titan were nearly all of unknown popularity (85 % of
      the top 20). ``rated_popularity=False`` moves only anime nobody rated (for a catalog whose
      popularity is missing at random, as the synthetic sample's).
    * **a year outside the warm anime's years is clamped to them**: the model learns what a year means
      only from rated anime (MAL: up to 2022), so an anime announced for 2026 is read as one from the
      last rated year rather than extrapolated four years on (and one older than all, as the first);
      so is an announced anime without a year, which :func:`anime_features` reads as the newest.

    Row 0 (padding) and the anime's other columns are left as they are; without warm anime, ``x`` itself.
    """
    pop, year = FEATURE_NAMES.index("popularity"), FEATURE_NAMES.index("year")
    pop_missing, year_missing = FEATURE_NAMES.index("popularity_missing"), FEATURE_NAMES.index("year_missing")
    x = x.clone()
    rows = torch.arange(len(x)) > 0
    known = rows & (x[:, pop_missing] == 0)
    if known.any():
        x[rows & ~known & (~warm.bool() | rated_popularity), pop] = x[known, pop].min()
    seen = rows & warm.bool() & (x[:, year_missing] == 0)
    if seen.any():   # only anime without a training rating move (rated ones, undated too, keep their value)
        cold = rows & ~warm.bool()
        x[cold, year] = x[cold, year].clamp(x[seen, year].min(), x[seen, year].max())
    return x
