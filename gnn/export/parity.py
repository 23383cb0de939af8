"""Parity of the baseline's exported ``model.onnx`` (ONNX Runtime, CPU) with its PyTorch forward
(:class:`gnn.models.concat_head.ConcatHeadModel`; the GNN's is :mod:`gnn.export.gnn_parity`, which
shares :func:`single_thread` and :func:`session` from here).

Three checks, all on the original rating scale, all against
:meth:`RatingModel.predict` (the model's ``forward`` in eval mode, denormalized
and clamped):

* known users: random (user, anime) pairs, 20 anime per user (skipped when
  the export leaves the user table out);
* histories: random histories of lengths 0 .. H (one empty, one full, one
  with a repeated anime), each scored on random candidates and on its own
  anime (which the model scores leaving that entry out);
* the whole catalog, for one known user and for an empty history: finite
  everywhere (anime without studios, tags or relations included) and equal.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import onnxruntime as ort
import torch

from gnn.export import ExportError
from gnn.models.base import Batch
from gnn.models.concat_head import ConcatHeadModel


@dataclass(frozen=True)
class ParityReport:
    max_abs_diff: float         # over every check
    user_pairs: int
    user_max_abs_diff: float | None
    histories: int
    history_pairs: int
    history_max_abs_diff: float
    catalog_max_abs_diff: float
    catalog_rows: int           # anime scored per full-catalog check
    tolerance: float

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (f"max |diff| {self.max_abs_diff:.2e} (tolerance {self.tolerance:g}; {self.user_pairs} user pairs, "
                f"{self.histories} histories, {self.catalog_rows} anime per catalog check)")


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread: many small forwards with OpenMP threads spinning against each other
    on a busy machine took 7 ms per tiny Linear instead of microseconds (measured on a loaded 2-core box)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def session(path: str | Path, threads: int = 1) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _onnx(sess: ort.InferenceSession, user: int, hist: np.ndarray, rating: np.ndarray,
          anime: np.ndarray) -> np.ndarray:
    return sess.run(["rating"], {"user": np.array([user], dtype=np.int64), "hist_anime": hist[None],
                                 "hist_rating": rating[None], "anime": anime.astype(np.int64)})[0]


@torch.no_grad()
def _torch(model: ConcatHeadModel, user: int, hist: np.ndarray, rating: np.ndarray,
           anime: np.ndarray) -> np.ndarray:
    a = torch.from_numpy(anime.astype(np.int64))
    B = len(a)
    if user > 0:
        return model.predict(Batch(user=torch.full((B,), user), anime=a)).numpy()
    h = torch.from_numpy(hist).unsqueeze(0).expand(B, -1)
    mask = h > 0
    z = torch.where(mask, model.normalize(torch.from_numpy(rating)).unsqueeze(0).expand(B, -1), 0.0)
    batch = Batch(user=torch.zeros(B, dtype=torch.long), anime=a, hist_anime=h, hist_rating=z.float(),
                  use_history=torch.ones(B, dtype=torch.bool))
    return model.predict(batch).numpy()


def _history(rng: np.random.Generator, n_anime: int, length: int, H: int, low: float, high: float,
             repeat: bool = False) -> tuple[np.ndarray, np.ndarray]:
    hist = np.zeros(H, dtype=np.int64)
    rating = np.zeros(H, dtype=np.float32)
    length = min(length, H, n_anime - 1)
    if length:
        hist[:length] = rng.choice(np.arange(1, n_anime), size=length, replace=False)
        if repeat and length > 2:
            hist[length - 1] = hist[0]
        # Whole and half steps, like real ratings, across the whole scale.
        rating[:length] = np.round(rng.uniform(low, high, size=length) * 2) / 2
    return hist, rating


def check_parity(model: ConcatHeadModel, onnx_path: str | Path, n_anime: int, max_history: int, has_users: bool,
                 tolerance: float = 1e-4, n_pairs: int = 1000, n_histories: int = 24,
                 seed: int = 0) -> ParityReport:
    """Compare ``onnx_path`` with ``model``; raise :class:`ExportError` on a difference above ``tolerance`` or a NaN."""
    with single_thread():
        return _check(model, onnx_path, n_anime, max_history, has_users, tolerance, n_pairs, n_histories, seed)


Compare = Callable[[int, np.ndarray, np.ndarray, np.ndarray, str], float]


def _comparer(sess: ort.InferenceSession, model: ConcatHeadModel) -> Compare:
    """``compare(user, hist, rating, anime, what)``: the largest |ONNX - PyTorch| over ``anime``; an
    ONNX NaN/inf is an :class:`ExportError` naming ``what``."""
    def compare(user: int, hist: np.ndarray, rating: np.ndarray, anime: np.ndarray, what: str) -> float:
        got = _onnx(sess, user, hist, rating, anime)
        if not np.isfinite(got).all():
            bad = anime[~np.isfinite(got)][:10].tolist()
            raise ExportError(f"parity check failed: ONNX returned NaN/inf for {what} (anime indices {bad})")
        want = _torch(model, user, hist, rating, anime)
        return float(np.abs(got - want).max()) if len(anime) else 0.0
    return compare


def _known_users(compare: Compare, rng: np.random.Generator, n_users: int, n_anime: int, H: int,
                 n_pairs: int) -> tuple[float, int]:
    """Random known users, 20 random anime each, scored by ID: ``(max |diff|, pairs)``."""
    no_hist, no_rating = np.zeros(H, dtype=np.int64), np.zeros(H, dtype=np.float32)
    diff, pairs, per_user = 0.0, 0, 20
    for u in rng.integers(1, n_users, size=max(1, -(-n_pairs // per_user))):
        anime = rng.integers(1, n_anime, size=per_user)
        diff = max(diff, compare(int(u), no_hist, no_rating, anime, f"user {u}"))
        pairs += per_user
    return diff, pairs


def _histories(compare: Compare, rng: np.random.Generator, n_anime: int, H: int, low: float, high: float,
               per_history: int, n_histories: int) -> tuple[float, int, int]:
    """Random histories (lengths 0, 1, H, H with a repeat, 2, 5, then random), each scored on random
    candidates and on its own anime: ``(max |diff|, histories, pairs)``."""
    diff, pairs = 0.0, 0
    lengths = [0, 1, H, H, 2, 5] + rng.integers(0, H + 1, size=max(0, n_histories - 6)).tolist()
    for i, length in enumerate(lengths):
        hist, rating = _history(rng, n_anime, int(length), H, low, high, repeat=(i == 3))
        anime = np.concatenate([rng.integers(1, n_anime, size=per_history), hist[hist > 0]])
        diff = max(diff, compare(0, hist, rating, anime, f"a history of length {length}"))
        pairs += len(anime)
    return diff, len(lengths), pairs


def _catalog(compare: Compare, rng: np.random.Generator, n_anime: int, H: int, n_users: int | None) -> float:
    """Every anime for an empty history and, given ``n_users``, for one random known user: max |diff|."""
    no_hist, no_rating = np.zeros(H, dtype=np.int64), np.zeros(H, dtype=np.float32)
    everything = np.arange(n_anime, dtype=np.int64)
    diff = compare(0, no_hist, no_rating, everything, "the whole catalog with an empty history")
    if n_users is not None:
        diff = max(diff, compare(int(rng.integers(1, n_users)), no_hist, no_rating, everything,
                                 "the whole catalog for a known user"))
    return diff


def _check(model: ConcatHeadModel, onnx_path: str | Path, n_anime: int, max_history: int, has_users: bool,
           tolerance: float, n_pairs: int, n_histories: int, seed: int) -> ParityReport:
    model.eval()
    compare = _comparer(session(onnx_path), model)
    rng = np.random.default_rng(seed)  # drawn in this order: users, histories, catalog
    n_users = int(model.user_emb.weight.shape[0])
    users = has_users and n_users > 1
    user_diff, user_pairs = _known_users(compare, rng, n_users, n_anime, max_history, n_pairs) if users else (None, 0)
    per_history = 50 if has_users else max(50, -(-n_pairs // max(n_histories, 6)))
    hist_diff, histories, hist_pairs = _histories(compare, rng, n_anime, max_history, model.rating_low,
                                                  model.rating_high, per_history, n_histories)
    cat_diff = _catalog(compare, rng, n_anime, max_history, n_users if users else None)
    worst = max(user_diff or 0.0, hist_diff, cat_diff)
    report = ParityReport(max_abs_diff=worst, user_pairs=user_pairs, user_max_abs_diff=user_diff,
                          histories=histories, history_pairs=hist_pairs, history_max_abs_diff=hist_diff,
                          catalog_max_abs_diff=cat_diff, catalog_rows=n_anime, tolerance=tolerance)
    if not worst <= tolerance:
        raise ExportError(f"parity check failed: max |ONNX - PyTorch| = {worst:.3g} > tolerance {tolerance:g} "
                          f"(users {user_diff}, histories {hist_diff:.3g}, catalog {cat_diff:.3g}); "
                          "nothing was deployed")
    return report
