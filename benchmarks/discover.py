"""What ``--discover`` (gnn.discover) does to the lists: accuracy against popularity, by weight.

    python benchmarks/discover.py --results <compare.py --out folder> --data-dir <processed> --seed 0 \\
        --weights 0 0.25 0.5 1 --out benchmarks/results/mal_discover

The GNN of that run (its checkpoint of ``--seed``) ranks as in the ``mal`` rows, each order score less
``weight x log(1 + training ratings)``, the discount ``recommend --discover`` and the page's "Lean"
apply to the export's scores. Measured for known users (``--splits``: validation, test), for
held-out new users given k = 5, 10, 20 ratings (the run's seeded order) and, with ``--short-validation``,
for training users given k of their ratings and ranked against their validation ratings (the page's
case on validation data, where a weight is to be chosen): NDCG@10, Recall@10, coverage,
the top-1 % share and the orphan share of the ranked top 10. Writes ``discover.json``,
``discover.md`` and ``discover.png`` (NDCG@10 against the top-1 % share) to ``--out``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import run_dir  # noqa: E402
from benchmarks.provenance import command_line, git_commit  # noqa: E402
from benchmarks.run_args import finished_run_parser  # noqa: E402

METRICS = ("ndcg@10", "recall@10", "coverage@10", "popular_share@10", "orphan_share@10")


def discounted_scorer(score, log_n, weight: float):
    """``score`` (a model's ``score_catalog``) giving its order score less ``weight * log_n`` (``[n_anime]``)."""
    def scored(query):
        s = score(query)
        return s - weight * log_n.to(s.device)
    return scored


def short_validation_cases(data, seed: int = 0, threshold: float = 8.0) -> tuple:
    """The weight-independent part of :func:`short_history_ranking`: ``(query by k, seen keys, relevant
    keys)`` for training users given k = 5 / 10 / 20 of their training ratings
    (``short_history.validation_cases``), relevant = their validation ratings >= ``threshold``, every
    training rating of theirs seen (users with none relevant left out)."""
    import numpy as np
    import torch

    from benchmarks.short_history import validation_cases
    from gnn.train.evaluate import NEW_USER_KS
    from gnn.train.metrics import new_user_query

    users: list[int] = []
    cases = validation_cases(data, seed=seed, users_out=users)
    kept = [i for i, c in enumerate(cases) if (c[3] >= threshold).any()]
    cases, users, n = [cases[i] for i in kept], [users[i] for i in kept], data.n_anime
    row_of = np.full(int(data.train.user.max()) + 1, -1)
    row_of[users] = np.arange(len(users))
    rows, anime = row_of[data.train.user.numpy()], data.train.anime.numpy()
    seen = torch.unique(torch.as_tensor(rows[rows >= 0] * n + anime[rows >= 0]))
    rel = torch.unique(torch.tensor([i * n + int(a) for i, c in enumerate(cases)
                                     for a, r in zip(c[2], c[3]) if r >= threshold], dtype=torch.long))
    return {k: new_user_query(data, cases, k)[0] for k in NEW_USER_KS}, seen, rel


def short_history_ranking(model, data, fr, prepared: tuple) -> dict:
    """The page's case on validation data, to choose a weight without the held-out users: the ranking
    metrics of the top 10 for each k of ``prepared`` (:func:`short_validation_cases`)."""
    from gnn.train.metrics import list_metrics, popular_mask, rank_lists

    queries, seen, rel = prepared
    popular = popular_mask(data)
    return {f"short val k={k}": list_metrics(*rank_lists(model, query, seen, fr, 10), seen, rel, popular, fr,
                                             data.n_anime, 10)
            for k, query in queries.items()}


def measure(path: Path, data, weights: list[float], splits: list[str], seed: int,
            short_validation: bool = False) -> dict:
    import torch

    from gnn.io import dumps_json
    from gnn.train.checkpoint import load_model
    from gnn.train.metrics import franchises_of, new_user_ranking, ranking_metrics

    fr, out = franchises_of(data), {}
    log_n = torch.log1p(data.anime_train_count.float())
    short = short_validation_cases(data, seed) if short_validation else None   # the same for every weight
    model = load_model(path)[0]
    score = model.score_catalog          # the model's own order; each weight discounts it afresh
    for w in weights:
        model.score_catalog = discounted_scorer(score, log_n, w)
        row = {f"new {key}": v for key, v in new_user_ranking(model, data, seed=seed, franchises=fr).items()}
        for split in splits:
            row[f"known {split}"] = ranking_metrics(model, data, split=split, seed=seed, franchises=fr)
        if short is not None:
            row.update(short_history_ranking(model, data, fr, short))
        out[str(w)] = {kind: {m: r[m] for m in METRICS} for kind, r in row.items()}
        print(w, dumps_json(out[str(w)], indent=None), flush=True)
    return out


def table(result: dict) -> str:
    kinds = list(next(iter(result.values())))
    lines = ["| weight | " + " | ".join(f"{k}: NDCG@10 / top-1 % share / coverage / orphan share" for k in kinds) + " |",
             "|---:|" + "---|" * len(kinds)]
    for w, row in result.items():
        cells = [f"{r['ndcg@10']:.4f} / {r['popular_share@10']:.3f} / {r['coverage@10']:.4f} / {r['orphan_share@10']:.3f}"
                 for r in row.values()]
        lines.append(f"| {w} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def chart(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for kind in next(iter(result.values())):
        xs = [row[kind]["popular_share@10"] for row in result.values()]
        ys = [row[kind]["ndcg@10"] for row in result.values()]
        ax.plot(xs, ys, marker="o", label=kind)
        for w, x, y in zip(result, xs, ys):
            ax.annotate(w, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set(xlabel="share of top-10 slots taken by the most-rated 1 % of anime", ylabel="NDCG@10",
           title="discover weight: accuracy against popularity (labels: weight)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> None:
    from gnn.io import write_json
    from gnn.processed import load_processed

    parser = finished_run_parser(__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="processed folder (default: <results>/processed)")
    parser.add_argument("--seed", type=int, default=0, help="the run's seed: its checkpoint and held-out order")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 0.25, 0.5, 1.0], help="discover weights")
    parser.add_argument("--splits", nargs="*", default=["val", "test"], choices=("val", "test"),
                        help="known users' splits to rank against (none: new users only)")
    parser.add_argument("--short-validation", action="store_true",
                        help="also the page's case on validation data: training users given k of their ratings")
    parser.add_argument("--out", type=Path, required=True, help="folder for discover.json/.md/.png")
    args = parser.parse_args(argv)
    data = load_processed(args.data_dir or args.results / "processed")
    path = run_dir(args.results, "gnn", args.seed) / "best_model.pt"
    if not path.exists():
        raise SystemExit(f"no GNN checkpoint of seed {args.seed}: {path}")
    result = measure(path, data, args.weights, args.splits, args.seed, args.short_validation)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "discover.json",
               {"command": command_line(), "git": git_commit(), "seed": args.seed, "results": result})
    (args.out / "discover.md").write_text(f"`{command_line()}`\n\n" + table(result))
    chart(result, args.out / "discover.png")
    print(table(result))


if __name__ == "__main__":
    main()
