"""Co-rated anime: the anime-user-anime paths of the rating graph, kept as each anime's strongest few.

Two anime rated by many of the same users are close in the rating graph: they are joined by many
two-hop paths ``a - user - b``. With symmetric degree normalization the number of such paths is the
cosine of the two anime's binary "who rated it" vectors,

.. math::
    w_{ab} = \\frac{c_{ab}}{\\sqrt{n_a\\, n_b}}, \\qquad c_{ab} = |U_a \\cap U_b|,

which is what a second LightGCN layer propagates from item to item. :func:`corated_table` keeps, per
anime, the ``width`` anime with the highest :math:`w_{ab}` (at least ``min_common`` shared users),
strongest first, as a padded table like the relation table. Built from the training ratings only; it
is user-independent, so the exported model stores it as a constant.

A training user's own ratings are among the paths: for a pair both rated by that user,
:func:`without_own` gives the weight the pair would have without them (what the same pair looks like
for a held-out rating), so training does not learn from a weight inflated by the very rating it
predicts.
"""

from __future__ import annotations

import torch

from gnn.graph.cooccurrence import co_counts, user_csr


def corated_table(user: torch.Tensor, anime: torch.Tensor, n_anime: int, width: int = 10,
                  min_common: int = 2, shrink: float = 0.0, chunk: int = 1024,
                  max_products: int = 50_000_000) -> tuple[torch.Tensor, torch.Tensor]:
    """``(idx [n_anime, width] long, w [n_anime, width] float)`` from rating edges ``user, anime [E]``
    (one rating per user and anime).

    Which anime a row lists: the highest cosine (``shrink`` 0), or with ``shrink`` :math:`s > 0` the
    highest :math:`c_{ab} / (n_b + s)`, the share of ``b``'s raters who also rated ``a`` (shrunk toward 0
    for rarely rated ``b``): a lift-leaning choice, less drawn to what everybody rated. The weights kept
    are the cosines either way.

    0 = padding (and row 0 is all padding). Ties are broken by the lower index, so the table is
    deterministic. Work is done ``chunk`` anime rows at a time (a dense ``chunk x n_anime`` count),
    each summed over blocks of users of at most ``max_products`` user-anime-anime paths, so memory
    stays bounded however many ratings there are: the ratings as a CSR matrix with int32 indices
    (~12 bytes per rating) plus the dense counts and one block's sparse product.
    """
    idx = torch.zeros(n_anime, width, dtype=torch.long)
    w = torch.zeros(n_anime, width)
    if len(user) == 0 or width == 0:
        return idx, w
    n_users = int(user.max()) + 1
    degree = torch.bincount(anime, minlength=n_anime).float()
    crow, col, edge_user = user_csr(user, anime, n_users, n_anime)              # [n_users, n_anime], by user
    rated = degree.nonzero().squeeze(1)
    for start in range(0, len(rated), chunk):
        rows = rated[start:start + chunk]
        common = co_counts(crow, col, edge_user, int(rows[0]), int(rows[-1]), n_anime, max_products)[
            rows - rows[0]]                                                     # [chunk, n_anime] c_ab
        common[torch.arange(len(rows)), rows] = 0                               # not itself
        common[:, 0] = 0
        cos = torch.where(common >= min_common,
                          common / (degree[rows].unsqueeze(1) * degree.unsqueeze(0)).clamp_min(1).sqrt(),
                          torch.zeros_like(common))
        rank = cos if shrink <= 0 else torch.where(cos > 0, common / (degree.unsqueeze(0) + shrink), cos)
        # Strongest first, ties by the lower index: topk on the weight with a tiny index penalty is not
        # exact, so sort stably by weight (descending) over index order instead.
        top = torch.argsort(-rank, dim=1, stable=True)[:, :width]
        top_w = cos.gather(1, top)
        idx[rows, :top.shape[1]] = torch.where(top_w > 0, top, torch.zeros_like(top))
        w[rows, :top.shape[1]] = top_w
    return idx, w


def without_own(w: torch.Tensor, n_a: torch.Tensor, n_b: torch.Tensor) -> torch.Tensor:
    """The weight of pairs that one user rated both of, with that user's own paths taken out.

    ``w``, ``n_a``, ``n_b`` broadcast: the pair's weight and the two anime's rating counts (which
    include the user). :math:`(c - 1) / \\sqrt{(n_a - 1)(n_b - 1)}` with :math:`c = w \\sqrt{n_a n_b}`;
    0 where no other user is left, and 0 stays 0 (a pair not in the table).
    """
    common = w * (n_a * n_b).sqrt()
    other = ((n_a - 1) * (n_b - 1)).clamp_min(1).sqrt()
    return torch.where(w > 0, (common - 1).clamp_min(0) / other, torch.zeros_like(w))
