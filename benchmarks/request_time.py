"""The older export style, kept only for the latency comparison (:mod:`benchmarks.onnx_latency`).

:class:`RequestTimeScorer` takes the ONNX inputs of :class:`gnn.export.scorer.PrecomputedScorer` (its
module docstring lists them) and returns the same ``rating``; only where the work is done differs.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from gnn.models.concat_head import ConcatHeadModel


class RequestTimeScorer(nn.Module):
    """Item pools and the full head run per request (what the precomputed export avoids).

    The encoder output is frozen as a constant (message passing never ran in
    the browser), but genre/tag/studio/relation pools, the history's item
    projection and the unfolded MLP run for every candidate on every request.
    The history vector is computed once from the whole history (no leave-one-out).
    """

    def __init__(self, model: ConcatHeadModel) -> None:
        super().__init__()
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        with torch.no_grad():
            state = self.model.item_state()
        self.register_buffer("state", state.clone() if state is not None else torch.zeros(0))
        self.has_state = state is not None

    def forward(self, user: torch.Tensor, hist_anime: torch.Tensor, hist_rating: torch.Tensor,
                anime: torch.Tensor) -> torch.Tensor:
        m = self.model
        state = self.state if self.has_state else None
        mask = hist_anime > 0
        z = torch.where(mask, m.normalize(hist_rating), torch.zeros_like(hist_rating))
        hist_items = m.history.project(m.item_vectors(hist_anime[0], state)).unsqueeze(0)  # [1, H, 2h]
        hist_vec = m.history(hist_items, z, mask)                                          # [1, user_dim]
        n_users = m.user_emb.weight.shape[0]
        known = (user > 0) & (user < n_users)
        uid = m.user_emb(user.clamp(0, n_users - 1))
        u = torch.where(known.unsqueeze(1), uid, hist_vec)                                 # [1, user_dim]
        items = m.item_vectors(anime, state)                                               # [batch, item_dim]
        return m.denormalize(m.head(u.expand(anime.shape[0], -1), items))
