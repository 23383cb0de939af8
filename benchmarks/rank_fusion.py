"""How far a GNN's lists are from what it and EASE know together: reciprocal-rank fusion of the two rankings.

    python benchmarks/rank_fusion.py --data-dir <processed> --run gnn=<train output folder> [--ease-reg 100]

A bound for the ranking goals, not a model: each anime's fused score is ``1 / (60 + rank_gnn) + alpha /
(60 + rank_ease)`` (Cormack et al. 2009; rank 0 is the best; an anime a model leaves unscored adds 0), the
two rankings computed over the full catalog as the harness ranks (``gnn.train.metrics``). ``alpha`` is
chosen on the known users' validation lists (highest NDCG@10) and the test and new-user lists are
reported at every alpha. EASE is fitted on the spot on the training ratings (``--ease-reg``: the
regularization the compare run chose). ``alpha`` 0 is the GNN's own order, a very large one EASE's.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

RRF_K = 60.0
UNSCORED = 2 ** 30
METRICS = ("ndcg@10", "recall@10", "coverage@10", "popular_share@10", "orphan_share@10")


def ranks(scores: torch.Tensor) -> torch.Tensor:
    """Rank of each anime in each row (0 = highest score, ties by lower index); ``UNSCORED`` where not finite."""
    s = scores.float().masked_fill(scores.isnan(), -math.inf)
    order = torch.argsort(-s, dim=1, stable=True)
    out = torch.empty_like(order, dtype=torch.int32)
    out.scatter_(1, order, torch.arange(s.shape[1], dtype=torch.int32).expand_as(order).contiguous())
    return torch.where(torch.isfinite(s), out, torch.full_like(out, UNSCORED))


def fused(rank_a: torch.Tensor, rank_b: torch.Tensor, alpha: float) -> torch.Tensor:
    """The fused score of two rank matrices; -inf where neither model scored the anime."""
    def part(r: torch.Tensor) -> torch.Tensor:
        return torch.where(r < UNSCORED, 1.0 / (RRF_K + r.double()), torch.zeros_like(r, dtype=torch.float64))
    out = part(rank_a) + alpha * part(rank_b)
    return out.masked_fill((rank_a >= UNSCORED) & (rank_b >= UNSCORED), -math.inf)


class Fusion(torch.nn.Module):
    """Scores the catalog like a model (``score_catalog``) by fusing ``a``'s and ``b``'s rankings at ``alpha``;
    each query's two rankings are kept (:meth:`forget` drops them) so that every alpha reuses them."""

    def __init__(self, a, b, alpha: float = 0.0) -> None:
        super().__init__()
        self.a, self.b, self.alpha = a, b, alpha
        self.n_anime, self.scoring_history, self.device = a.n_anime, a.scoring_history, a.device
        self._ranks: dict[bytes, tuple[torch.Tensor, torch.Tensor]] = {}

    def forget(self) -> None:
        self._ranks.clear()

    def score_catalog(self, query) -> torch.Tensor:
        key = query.user.cpu().numpy().tobytes() + query.hist_anime.cpu().numpy().tobytes()
        if key not in self._ranks:
            self._ranks[key] = (ranks(self.a.score_catalog(query).cpu()), ranks(self.b.score_catalog(query).cpu()))
        return fused(*self._ranks[key], self.alpha)


def measure(fusion: Fusion, data, alphas: list[float], seed: int) -> dict:
    """``{case: {alpha: metrics}}`` for known users' val and test lists and new users given k ratings."""
    from gnn.train.metrics import franchises_of, new_user_ranking, ranking_metrics

    fr, out = franchises_of(data), {}
    for split in ("val", "test"):
        for alpha in alphas:
            fusion.alpha = alpha
            m = ranking_metrics(fusion, data, split=split, seed=seed, franchises=fr)
            out.setdefault(f"known {split}", {})[f"{alpha:g}"] = {k: m[k] for k in METRICS}
        fusion.forget()
    for alpha in alphas:
        fusion.alpha = alpha
        for case, m in new_user_ranking(fusion, data, seed=seed, franchises=fr).items():
            out.setdefault(f"new {case}", {})[f"{alpha:g}"] = {k: m[k] for k in METRICS}
    fusion.forget()
    best = max(alphas, key=lambda a: out["known val"][f"{a:g}"]["ndcg@10"])
    return {"chosen_alpha": best, "rrf_k": RRF_K, **out}


def main(argv: list[str] | None = None) -> None:
    from benchmarks.run_args import parse_trained_runs, trained_runs_parser
    from gnn.io import dumps_json
    from gnn.models.implicit import EASE, EASEConfig
    from gnn.processed import load_processed
    from gnn.train.checkpoint import load_model

    parser = trained_runs_parser(__doc__.splitlines()[0], "the processed folder the run was trained on")
    parser.add_argument("--ease-reg", type=float, default=100.0, help="EASE's regularization (MAL's tuned value)")
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 1e6],
                        help="weights of EASE's ranks (0: the run's own order)")
    parser.add_argument("--seed", type=int, default=0, help="the seed of the users ranked (the run's seed)")
    args = parse_trained_runs(parser, argv)
    data = load_processed(args.data_dir)
    model, ctx, _ = load_model(args.runs[0][1] / "best_model.pt")
    ease = EASE(ctx, EASEConfig(reg=args.ease_reg))
    ease.fit_closed_form(data.train)
    result = {"run": str(args.runs[0][1]), "ease_reg": args.ease_reg,
              **measure(Fusion(model, ease), data, args.alphas, args.seed)}
    text = dumps_json(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
