"""Parity of an exported GNN ``model.onnx`` with :meth:`GNNRecommender.score_candidates` in PyTorch.

Both sides read the same int8 anime vectors and compact tables (:class:`GNNScorer`), so the check
measures the export alone: histories of lengths 0 .. H (one full, one with a repeated anime), passed
at their own length or with padding after them (the history dimension is dynamic), each
scored on a small candidate set (its own anime, their relatives and random ones: every candidate
rated) and on the whole catalog (two stages: only the ``rank_candidates`` best are rated). Scores and
ratings must agree within the tolerance wherever both are finite, and they must be finite at the
same candidates, except where two watch logits tie at the cut (counted). Separately, the same cases
are scored by the float model (float vectors and tables): the largest rating change from the int8
rounding is reported, not checked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from gnn.export import ExportError
from gnn.export.gnn_scorer import GNNScorer
from gnn.export.parity import session, single_thread
from gnn.models.recommender import GNNRecommender


@dataclass(frozen=True)
class GNNParityReport:
    max_abs_diff: float          # score and rating, wherever both sides are finite
    score_max_abs_diff: float
    rating_max_abs_diff: float
    histories: int
    candidate_pairs: int
    catalog_rows: int
    cut_ties: int                # candidates rated on one side only (a tie at the rank_candidates cut)
    quantization_max_rating_diff: float  # int8 tables vs the float model, same cases (reported only)
    tolerance: float

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (f"max |diff| {self.max_abs_diff:.2e} (tolerance {self.tolerance:g}; {self.histories} histories, "
                f"{self.candidate_pairs} candidates incl. the whole catalog of {self.catalog_rows}; int8 vectors "
                f"move ratings by at most {self.quantization_max_rating_diff:.2e})")


def _history(rng: np.random.Generator, n_anime: int, length: int, H: int, low: float, high: float,
             repeat: bool) -> tuple[np.ndarray, np.ndarray]:
    hist, rating = np.zeros(H, dtype=np.int64), np.zeros(H, dtype=np.float32)
    length = min(length, H, n_anime - 1)
    if length:
        hist[:length] = rng.choice(np.arange(1, n_anime), size=length, replace=False)
        if repeat and length > 2:
            hist[length - 1] = hist[0]
        rating[:length] = np.round(rng.uniform(low, high, size=length) * 2) / 2  # whole and half steps
    return hist, rating


@torch.no_grad()
def _torch(model: GNNRecommender, h: torch.Tensor, tables, hist: np.ndarray, rating: np.ndarray,
           anime: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = torch.from_numpy(hist).unsqueeze(0)
    z = torch.where(a > 0, model.normalize(torch.from_numpy(rating)).unsqueeze(0), torch.zeros(1, len(hist)))
    score, r = model.score_candidates(a, z.float(), torch.from_numpy(anime), h, tables)
    return score.numpy(), r.numpy()


def _diff(got: np.ndarray, want: np.ndarray) -> tuple[float, int]:
    """Max |got - want| where both are finite, and how many positions are finite on one side only."""
    fg, fw = np.isfinite(got), np.isfinite(want)
    both = fg & fw
    return (float(np.abs(got[both] - want[both]).max()) if both.any() else 0.0), int((fg != fw).sum())


def check_gnn_parity(scorer: GNNScorer, model: GNNRecommender, onnx_path: str | Path, max_history: int,
                     tolerance: float = 1e-4, n_histories: int = 24, seed: int = 0) -> GNNParityReport:
    """Compare ``onnx_path`` with the model; raise :class:`ExportError` on a difference above ``tolerance``."""
    with single_thread():
        sess = session(onnx_path)
        h_q, tables_q = scorer.reference_tables()
        ref = scorer.m
        h_f, tables_f = model.item_state(), model.tables
        rng = np.random.default_rng(seed)
        n_anime, H, C = h_q.shape[0], max_history, model.config.rank_candidates
        lengths = [0, 1, H, H, 2, 5] + rng.integers(0, H + 1, size=max(0, n_histories - 6)).tolist()
        worst_s = worst_r = quant = 0.0
        ties = pairs = 0
        for i, length in enumerate(lengths):
            hist, rating = _history(rng, n_anime, int(length), H, model.rating_low, model.rating_high, i == 3)
            # The history input is as long as the history (one slot at least), or 3 slots longer (padding).
            slots = min(H, max(1, int((hist > 0).sum())) + 3 * (i % 2))
            hist, rating = hist[:slots], rating[:slots]
            own = hist[hist > 0]
            rel = tables_f.rel_idx[torch.from_numpy(own)].numpy().ravel() if len(own) else np.zeros(0, np.int64)
            small = np.unique(np.concatenate([own, rel[rel > 0], rng.integers(1, n_anime, size=C)]))[:C]
            for anime in (small, np.arange(1, n_anime, dtype=np.int64)):
                got_s, got_r = sess.run(["score", "rating"], {"hist_anime": hist[None], "hist_rating": rating[None],
                                                             "anime": anime})
                want_s, want_r = _torch(ref, h_q, tables_q, hist, rating, anime)
                if np.isnan(got_s).any() or (np.isfinite(got_s) != ~np.isnan(got_r)).any():
                    raise ExportError(f"parity check failed: ONNX returned NaN scores or unpaired ratings "
                                      f"(a history of length {length})")
                (ds, ts), (dr, _) = _diff(got_s, want_s), _diff(got_r, want_r)
                worst_s, worst_r, ties, pairs = max(worst_s, ds), max(worst_r, dr), ties + ts, pairs + len(anime)
                quant = max(quant, _diff(want_r, _torch(model, h_f, tables_f, hist, rating, anime)[1])[0])
    worst = max(worst_s, worst_r)
    report = GNNParityReport(max_abs_diff=worst, score_max_abs_diff=worst_s, rating_max_abs_diff=worst_r,
                             histories=len(lengths), candidate_pairs=pairs, catalog_rows=n_anime - 1,
                             cut_ties=ties, quantization_max_rating_diff=quant, tolerance=tolerance)
    if not worst <= tolerance or ties > 2 * len(lengths):
        raise ExportError(f"parity check failed: max |ONNX - PyTorch| = {worst:.3g} (tolerance {tolerance:g}), "
                          f"{ties} candidates rated on one side only; nothing was deployed")
    return report
