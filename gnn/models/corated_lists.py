"""The GNN's co-rated lists: which anime each anime lists, and what a training user's own pairs weigh.

Each anime lists the ``corated_width`` anime it is most joined to by the training ratings, a padded
table ``(idx, w)`` that the pair features and the watch score read (:mod:`gnn.models.pairs`,
:mod:`gnn.models.watch`). Two kinds (``GNNConfig.corated_kind``):

- ``"cosine"``: the anime-user-anime paths (:func:`gnn.graph.corated.corated_table`);
- ``"ease"``: EASE's item-item weights (:func:`gnn.graph.ease.ease_lists`).

The table is user-independent, so the export stores it as a constant. In training, though, every
(target, history entry) pair was rated by the user the task comes from, whose own ratings are in the
fit: :meth:`CoratedLists.without_user` gives the weights the pairs would have had without that user,
what the same pairs look like for a held-out user.
"""

from __future__ import annotations

import torch
from torch import nn

from gnn.graph.corated import corated_table, without_own
from gnn.graph.ease import EaseLists, ease_lists, without_user


class CoratedLists(nn.Module):
    """What training needs of the co-rated lists' fit (no parameters): EASE's ``P``, each anime's row of it
    (``pos``), each user's ``leverage`` and the lists' ``scale``, or nothing for the cosine lists. :meth:`fit`
    builds the table too."""

    def __init__(self, ease: EaseLists | None = None) -> None:
        super().__init__()
        # Buffers, so that .to(device) moves them; not stored: a checkpoint rebuilds them from its ratings.
        self.register_buffer("P", None if ease is None else ease.P, persistent=False)
        self.register_buffer("pos", None if ease is None else ease.item_pos, persistent=False)
        self.register_buffer("leverage", None if ease is None else ease.leverage, persistent=False)
        self.scale = 1.0 if ease is None else ease.scale

    @classmethod
    def fit(cls, user: torch.Tensor | None, anime: torch.Tensor | None, n_anime: int, kind: str = "cosine",
            width: int = 10, min_common: int = 2, shrink: float = 0.0, reg: float = 100.0
            ) -> tuple["CoratedLists", tuple[torch.Tensor, torch.Tensor]]:
        """``(lists, (idx, w))`` from ``user, anime [E]`` training edges (None: no ratings, nothing listed).

        ``kind``: ``"cosine"`` or ``"ease"``; ``width``: anime listed per anime (0: none); ``min_common``,
        ``shrink``: the cosine lists' options; ``reg``: EASE's regularization.
        """
        if user is None or anime is None or width == 0:
            return cls(), (torch.zeros(n_anime, 1, dtype=torch.long), torch.zeros(n_anime, 1))
        if kind == "ease":
            ease = ease_lists(user, anime, n_anime, width, reg)
            return cls(ease), (ease.idx, ease.w)
        return cls(), corated_table(user, anime, n_anime, width, min_common, shrink)

    def without_user(self, from_target: torch.Tensor, from_entry: torch.Tensor, user: torch.Tensor,
                     rated: torch.Tensor, target: torch.Tensor, hist: torch.Tensor, count: torch.Tensor,
                     table: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """The listed weights ``from_target``, ``from_entry`` ``[B, T, H]`` of the pairs of ``target [B, T]``
        and ``hist [B, H]``, as they would be without ``user [B]``, whose training anime are ``rated [B, R]``.

        ``count``: each anime's training ratings (the cosine's ``n``); ``table``: the model's ``(idx, w)``
        (on its device). A pair not listed stays 0.
        """
        if self.P is not None:    # EASE refitted without this user, at the listed pairs
            lists = EaseLists(*table, self.P, self.pos, self.scale, self.leverage)
            forward, backward = without_user(lists, user, rated, target, hist)
            return forward * (from_target != 0), backward * (from_entry != 0)
        n_t, n_h = count[target].unsqueeze(-1), count[hist].unsqueeze(1)
        return without_own(from_target, n_t, n_h), without_own(from_entry, n_t, n_h)
