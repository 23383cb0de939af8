"""How popular are the anime each model puts in users' top 10? (A diagnostic for the ranking rows.)

    python benchmarks/top_popularity.py --results benchmarks/results/mal --models baseline gnn item_knn mf

Reads a `compare.py` output folder (``<results>/processed`` and the best checkpoints in
``<results>/tmp/runs/<model>_s0``), scores the whole catalog for a seeded sample of test users
(train anime excluded, as in the ranking metrics) and prints, per model, how many training
ratings the recommended anime have, the share of top-10 slots given to anime with fewer training
ratings than the median anime with training ratings (the catalog also holds anime nobody rated in
train, whose median would be 0), and how many distinct anime the sampled users' lists cover. Known
users are scored through :meth:`RatingModel.score_catalog` with their training ratings as history
(:func:`gnn.train.metrics.known_user_query`), as in the ranking metrics.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import run_dir  # noqa: E402
from benchmarks.run_args import finished_run_parser  # noqa: E402
from gnn.processed import load_processed  # noqa: E402
from gnn.train.checkpoint import load_model  # noqa: E402
from gnn.train.metrics import known_user_query  # noqa: E402


def top_k_popularity(scores: torch.Tensor, in_train: torch.Tensor, popularity: torch.Tensor,
                     k: int = 10) -> dict:
    """Popularity summary of each row's top ``k`` (``scores``/``in_train`` ``[U, n_anime]``, column 0 = pad).

    ``catalog_median``: the median training count of the anime that have any (``popularity > 0``).
    """
    scores = scores.clone()
    scores[:, 0] = -math.inf
    scores[in_train] = -math.inf
    top = scores.topk(k, dim=1).indices
    pop = popularity[top].float()
    rated = popularity[1:][popularity[1:] > 0]
    median = rated.float().median() if len(rated) else torch.tensor(0.0)
    return {"median_train_ratings": float(pop.median()), "mean_train_ratings": float(pop.mean()),
            "share_below_catalog_median": float((pop < median).float().mean()),
            "distinct_anime": int(top.unique().numel()), "catalog_median": float(median)}


def main(argv: list[str] | None = None) -> None:
    parser = finished_run_parser(__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=500, help="test users sampled (seed 0)")
    args = parser.parse_args(argv)
    data = load_processed(args.results / "processed")
    n_anime = data.n_anime
    popularity = torch.bincount(data.train.anime, minlength=n_anime)
    test_users = data.test.user.unique()
    users = test_users[torch.randperm(len(test_users), generator=torch.Generator().manual_seed(0))[:args.users]]
    users = torch.sort(users).values
    slot = torch.searchsorted(users, data.train.user).clamp(max=len(users) - 1)
    mine = users[slot] == data.train.user
    in_train = torch.zeros(len(users), n_anime, dtype=torch.bool)           # [sampled users, anime]
    in_train[slot[mine], data.train.anime[mine]] = True
    rated = popularity[1:][popularity[1:] > 0]
    print(f"{len(users)} test users; median {rated.float().median():.0f} training ratings per anime with any "
          f"({len(rated):,} of {n_anime - 1:,} anime)")
    print("| model | median train ratings of top-10 anime | mean | share below the median | distinct anime |")
    print("|---|---:|---:|---:|---:|")
    for name in args.models:
        model, _, _ = load_model(run_dir(args.results, name, 0) / "best_model.pt")
        query = known_user_query(data, users, model.scoring_history)
        r = top_k_popularity(model.score_catalog(query), in_train, popularity)
        print(f"| {name} | {r['median_train_ratings']:.0f} | {r['mean_train_ratings']:.0f} | "
              f"{r['share_below_catalog_median']:.2f} | {r['distinct_anime']} |")


if __name__ == "__main__":
    main()
