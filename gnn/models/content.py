"""Content similarity between anime from the catalog graph's padded tables (no ratings needed).

Each anime becomes one sparse vector of four blocks, one per kind of catalog fact:

* ``genre``: one column per genre, value 1;
* ``tag``: one column per tag, value the tag weight of :class:`~gnn.graph.builder.ItemTables`
  (rank x category, normalized per anime);
* ``studio``: one column per company, value the studio-table weight (animation studio 2 :
  producer 1, normalized per anime);
* ``relation``: one column per anime: the anime itself (1) and each anime it is related to
  (the relation-type weight: SEQUEL/PREQUEL 1.0 ... OTHER 0.2). Two anime in one franchise
  share columns, so a sequel pair with no other relatives has relation-cosine 1. An anime
  without relations has no relation block at all (not a lonely self column), so it is not
  penalised against anime that have relatives.

With ``idf`` the genre, tag and studio columns are scaled by the smooth inverse document
frequency ``ln((1 + N) / (1 + df)) + 1`` over the ``N`` catalog anime, so a shared niche tag
or a small studio says more than "Comedy" or a producer of a thousand anime. Each block is
scaled to unit length and then by ``sqrt(weight)`` of its kind, and the whole vector to unit
length: the similarity of two anime is the cosine of their vectors, a weighted mix of the
per-kind cosines over the kinds each anime has. Weights are arguments (see
:class:`gnn.models.cold.ContentKNNConfig` for the defaults).
"""

from __future__ import annotations

import math
import warnings
from typing import Mapping

import torch

from gnn.graph.builder import ItemTables

KINDS = ("genre", "tag", "studio", "relation")


def _block(idx: torch.Tensor, w: torch.Tensor, idf: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
    """``(rows, cols, values)`` of one block, each row scaled to unit length (empty rows stay empty)."""
    keep = idx > 0
    rows = torch.arange(idx.shape[0])[:, None].expand_as(idx)[keep]
    cols, vals = idx[keep], w[keep].double()
    if idf is not None:
        vals = vals * idf[cols]
    norm = torch.zeros(idx.shape[0], dtype=torch.float64).index_add_(0, rows, vals ** 2).sqrt()
    return rows, cols, vals / norm[rows].clamp(min=1e-12)


def _idf(idx: torch.Tensor, size: int) -> torch.Tensor:
    keep = idx > 0
    pairs = torch.unique(torch.arange(idx.shape[0])[:, None].expand_as(idx)[keep] * size + idx[keep])
    df = torch.bincount(pairs % size, minlength=size).double()
    n = idx.shape[0] - 1  # real anime (row 0 is padding)
    return torch.log((1.0 + n) / (1.0 + df)) + 1.0


def content_vectors(tables: ItemTables, n_genres: int, n_tags: int, n_studios: int,
                    weights: Mapping[str, float], idf: bool = True) -> torch.Tensor:
    """Unit-length content vectors, a sparse COO ``[n_anime, n_genres + n_tags + n_studios + n_anime]``.

    ``weights`` maps each of :data:`KINDS` to a non-negative weight; row 0 (padding) and
    anime with no catalog facts are all zeros.
    """
    n_anime = tables.genre_idx.shape[0]
    has_rel = (tables.rel_idx > 0).any(1)
    self_col = torch.where(has_rel, torch.arange(n_anime), 0)[:, None]
    sources = {
        "genre": (tables.genre_idx, (tables.genre_idx > 0).float(), n_genres),
        "tag": (tables.tag_idx, tables.tag_w, n_tags),
        "studio": (tables.studio_idx, tables.studio_w, n_studios),
        "relation": (torch.cat([self_col, tables.rel_idx], 1),
                     torch.cat([has_rel.float()[:, None], tables.rel_w], 1), n_anime),
    }
    rows, cols, vals, offset = [], [], [], 0
    for kind in KINDS:
        idx, w, size = sources[kind]
        weight = float(weights[kind])
        if weight < 0 or not math.isfinite(weight):
            raise ValueError(f"content weight of {kind} must be a finite number >= 0, got {weight}")
        r, c, v = _block(idx, w, _idf(idx, size) if idf and kind != "relation" else None)
        rows.append(r)
        cols.append(c + offset)
        vals.append(v * math.sqrt(weight))
        offset += size
    r, c, v = torch.cat(rows), torch.cat(cols), torch.cat(vals)
    norm = torch.zeros(n_anime, dtype=torch.float64).index_add_(0, r, v ** 2).sqrt()
    v = (v / norm[r].clamp(min=1e-12)).float()
    return torch.sparse_coo_tensor(torch.stack([r, c]), v, (n_anime, offset), check_invariants=False).coalesce()


def top_neighbors(vectors: torch.Tensor, candidates: torch.Tensor, m: int,
                  block: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Each anime's ``m`` most similar anime among ``candidates`` (positive cosine only, never itself).

    Args:
        vectors: unit-length sparse COO ``[n_anime, D]`` of :func:`content_vectors`.
        candidates: anime indices ``[C]`` that may be neighbours.
        m: neighbours kept per anime.

    Returns:
        ``(idx, sim)``, each ``[n_anime, m]``, most similar first; 0 / 0.0 where fewer exist.
    """
    n_anime = vectors.shape[0]
    rows, cols = vectors.indices()
    vals = vectors.values()
    pos = torch.full((n_anime,), -1, dtype=torch.long)
    pos[candidates] = torch.arange(len(candidates))
    in_cand = pos[rows] >= 0
    used, col_of = torch.unique(cols[in_cand], return_inverse=True)  # only columns candidates have matter
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter("ignore", UserWarning)
        cand = torch.sparse_coo_tensor(torch.stack([pos[rows[in_cand]], col_of]), vals[in_cand],
                                       (len(candidates), len(used)), check_invariants=False).coalesce().to_sparse_csr()
    lookup = torch.full((vectors.shape[1],), -1, dtype=torch.long)
    lookup[used] = torch.arange(len(used))
    idx = torch.zeros(n_anime, m, dtype=torch.long)
    sim = torch.zeros(n_anime, m)
    width = min(m, len(candidates))
    for start in range(0, n_anime, block):
        stop = min(start + block, n_anime)
        sel = (rows >= start) & (rows < stop) & (lookup[cols] >= 0)
        dense = torch.zeros(len(used), stop - start)                  # this block's vectors, [D_used, B]
        dense[lookup[cols[sel]], rows[sel] - start] = vals[sel]
        s = cand @ dense                                              # [C, B] cosines
        own = torch.arange(start, stop)
        mine = pos[own] >= 0
        s[pos[own[mine]], (own[mine] - start)] = 0.0                  # not its own neighbour
        if width == 0:
            continue
        top = s.topk(width, dim=0)                                    # [width, B], most similar first
        keep = top.values > 0
        idx[start:stop, :width] = torch.where(keep, candidates[top.indices], 0).t()
        sim[start:stop, :width] = torch.where(keep, top.values, 0.0).t()
    idx[0], sim[0] = 0, 0.0
    return idx, sim
