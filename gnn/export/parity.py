"""Parity of an exported ``model.onnx`` (ONNX Runtime, CPU) with the PyTorch model's own forward.

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
from typing import Iterator

import numpy as np
import onnxruntime as ort
import torch

from gnn.export import ExportError
from gnn.models.base import Batch
from gnn.models.history import TwoTowerModel


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
def _torch(model: TwoTowerModel, user: int, hist: np.ndarray, rating: np.ndarray,
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


def check_parity(model: TwoTowerModel, onnx_path: str | Path, n_anime: int, max_history: int, has_users: bool,
                 tolerance: float = 1e-4, n_pairs: int = 1000, n_histories: int = 24,
                 seed: int = 0) -> ParityReport:
    """Compare ``onnx_path`` with ``model``; raise :class:`ExportError` on a difference above ``tolerance`` or a NaN."""
    with single_thread():
        return _check(model, onnx_path, n_anime, max_history, has_users, tolerance, n_pairs, n_histories, seed)


def _check(model: TwoTowerModel, onnx_path: str | Path, n_anime: int, max_history: int, has_users: bool,
           tolerance: float, n_pairs: int, n_histories: int, seed: int) -> ParityReport:
    model.eval()
    sess = session(onnx_path)
    rng = np.random.default_rng(seed)
    n_users = int(model.user_emb.weight.shape[0])
    H = max_history
    low, high = model.rating_low, model.rating_high
    no_hist, no_rating = np.zeros(H, dtype=np.int64), np.zeros(H, dtype=np.float32)

    def compare(user: int, hist: np.ndarray, rating: np.ndarray, anime: np.ndarray, what: str) -> float:
        got = _onnx(sess, user, hist, rating, anime)
        if not np.isfinite(got).all():
            bad = anime[~np.isfinite(got)][:10].tolist()
            raise ExportError(f"parity check failed: ONNX returned NaN/inf for {what} (anime indices {bad})")
        want = _torch(model, user, hist, rating, anime)
        return float(np.abs(got - want).max()) if len(anime) else 0.0

    user_diff: float | None = None
    user_pairs = 0
    if has_users and n_users > 1:
        user_diff = 0.0
        per_user = 20
        for u in rng.integers(1, n_users, size=max(1, -(-n_pairs // per_user))):
            anime = rng.integers(1, n_anime, size=per_user)
            user_diff = max(user_diff, compare(int(u), no_hist, no_rating, anime, f"user {u}"))
            user_pairs += per_user

    hist_diff, hist_pairs = 0.0, 0
    lengths = [0, 1, H, H, 2, 5] + rng.integers(0, H + 1, size=max(0, n_histories - 6)).tolist()
    per_history = max(50, -(-n_pairs // len(lengths))) if not has_users else 50
    for i, length in enumerate(lengths):
        hist, rating = _history(rng, n_anime, int(length), H, low, high, repeat=(i == 3))
        anime = np.concatenate([rng.integers(1, n_anime, size=per_history), hist[hist > 0]])
        hist_diff = max(hist_diff, compare(0, hist, rating, anime, f"a history of length {length}"))
        hist_pairs += len(anime)

    everything = np.arange(n_anime, dtype=np.int64)
    cat_diff = compare(0, no_hist, no_rating, everything, "the whole catalog with an empty history")
    if has_users and n_users > 1:
        cat_diff = max(cat_diff, compare(int(rng.integers(1, n_users)), no_hist, no_rating, everything,
                                         "the whole catalog for a known user"))
    worst = max(user_diff or 0.0, hist_diff, cat_diff)
    report = ParityReport(max_abs_diff=worst, user_pairs=user_pairs, user_max_abs_diff=user_diff,
                          histories=len(lengths), history_pairs=hist_pairs, history_max_abs_diff=hist_diff,
                          catalog_max_abs_diff=cat_diff, catalog_rows=n_anime, tolerance=tolerance)
    if not worst <= tolerance:
        raise ExportError(f"parity check failed: max |ONNX - PyTorch| = {worst:.3g} > tolerance {tolerance:g} "
                          f"(users {user_diff}, histories {hist_diff:.3g}, catalog {cat_diff:.3g}); "
                          "nothing was deployed")
    return report
