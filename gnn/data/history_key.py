"""Which ratings a history keeps when a user has more than a model reads.

A fixed pseudo-random key per anime index (a multiplicative hash): a history longer than ``H``
keeps its ``H`` entries with the highest keys. The rule depends on nothing but the anime, so
training, evaluation, the exported ``user_ratings.bin`` (ordered by it) and ``recommend --user-id``
all keep the same entries. Works on numpy arrays and torch tensors of int64 alike.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")

_MULTIPLIER = 2654435761   # Knuth's multiplicative hash constant
_MODULUS = 4294967296


def keep_key(anime: T) -> T:
    """``(anime * 2654435761) mod 2**32`` elementwise (int64 in, int64 out)."""
    return (anime * _MULTIPLIER) % _MODULUS  # type: ignore[operator]


def cap_history(hist, rating, max_len: int):
    """Padded histories ``[B, L]`` (torch, 0 = padding) cut to at most ``[B, max_len]`` by :func:`keep_key`.

    Rows with at most ``max_len`` entries keep them all; longer rows keep the ``max_len`` real
    entries with the highest keys. Trailing columns that are padding in every row are dropped (one
    column stays): they change no score, and scoring costs in proportion to the width.
    """
    import torch

    if hist.shape[1] > max_len:
        key = torch.where(hist > 0, keep_key(hist.long()), torch.full_like(hist, -1))
        keep = torch.sort(torch.topk(key, max_len, dim=1).indices, dim=1).values
        hist, rating = hist.gather(1, keep), rating.gather(1, keep)
    filled = (hist > 0).any(0).nonzero()
    width = int(filled.max()) + 1 if len(filled) else 1
    return hist[:, :width], rating[:, :width]
