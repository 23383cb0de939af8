"""What new users' lists of anime newer than the rating data hold (the status and year filters, the page's new row).

    python benchmarks/after_data.py --data-dir <processed> --run gnn=<run> [--run other=<run>] [--given 10]

Each held-out user (the new-user rows' users, in their seeded order) gives their first ``--given`` ratings,
and the catalog is narrowed to one set of anime and ranked as a filter on the page does it (the other anime
are no candidates at all):

* ``after``: anime that came out after the last year of every anime with a training rating;
* ``announced``: anime whose status is NOT_YET_RELEASED.

Over the top 10 of every user, per set and run: the share of the slots taken by anime whose catalog
popularity is unknown, and by anime whose year is unknown (each beside its share of the set), the median popularity percentile of the rest among the set's anime of known
popularity (100 = the most popular), and coverage (distinct anime listed / the set's size). Nobody rated
these anime, so there is no relevance here; ``preprocess --cold-after YEAR`` and ``cold_items.py`` (its
"unrated only" columns) measure the same kind of order against ratings.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run_args import parse_trained_runs, trained_runs_parser  # noqa: E402
from gnn.graph.features import FEATURE_NAMES  # noqa: E402
from gnn.io import finite_or_null, write_json  # noqa: E402
from gnn.models.base import UserQuery  # noqa: E402
from gnn.processed import ProcessedData, anime_metadata, load_processed  # noqa: E402
from gnn.train.checkpoint import load_model  # noqa: E402
from gnn.train.cold import narrowed_scores  # noqa: E402
from gnn.train.metrics import held_out_cases, new_user_query  # noqa: E402


def anime_sets(data: ProcessedData) -> dict[str, torch.Tensor]:
    """``after`` and ``announced`` as bool ``[n_anime]`` masks (module docstring)."""
    meta = anime_metadata(data.data_dir, missing_ok=False)
    year = torch.tensor([float(meta.get(a, {}).get("year") or math.nan) for a in range(data.n_anime)])
    status = [meta.get(a, {}).get("status") for a in range(data.n_anime)]
    rated_years = year[(data.anime_train_count > 0) & ~year.isnan()]
    last = float(rated_years.max()) if len(rated_years) else math.inf
    return {"after": year > last, "announced": torch.tensor([s == "NOT_YET_RELEASED" for s in status])}


def list_stats(top: torch.Tensor, in_set: torch.Tensor, popularity: torch.Tensor, unknown: torch.Tensor,
               undated: torch.Tensor | None = None) -> dict:
    """Stats of the lists ``top [U, k]`` (anime indices, -1 = empty) over the set ``in_set [n]``; ``unknown``
    and ``undated`` mark the anime of unknown popularity and year (``undated`` None: no year shares)."""
    slots = top[top >= 0]
    known = in_set & ~unknown
    order = popularity[known].argsort().argsort().double()
    percentile = torch.full_like(popularity, math.nan, dtype=torch.float64)
    percentile[known] = 100.0 * (order + 1) / max(1, int(known.sum()))
    listed = percentile[slots][~unknown[slots]]
    dates = {} if undated is None else {
        "unknown_year_share": float(undated[slots].double().mean()) if len(slots) else None,
        "set_unknown_year_share": float(undated[in_set].double().mean()) if in_set.any() else None}
    return {**dates, "unknown_popularity_share": float(unknown[slots].double().mean()) if len(slots) else None,
            "median_popularity_percentile": float(listed.median()) if len(listed) else None,
            "coverage": len(torch.unique(slots)) / max(1, int(in_set.sum())), "set_size": int(in_set.sum()),
            "set_unknown_share": float(unknown[in_set].double().mean()) if in_set.any() else None}


@torch.no_grad()
def top_lists(model, query: UserQuery, in_set: torch.Tensor, k: int = 10, chunk: int = 64) -> torch.Tensor:
    """``[U, k]`` each user's best ``k`` of the set (-1 where fewer are ranked), the rest no candidates."""
    out = []
    for i in range(0, len(query), chunk):
        best = narrowed_scores(model, query.rows(i, i + chunk), ~in_set).topk(k, dim=1)
        out.append(torch.where(torch.isfinite(best.values), best.indices, torch.full_like(best.indices, -1)))
    return torch.cat(out)


def main(argv: list[str] | None = None) -> None:
    parser = trained_runs_parser(__doc__.splitlines()[0], "the preprocess output the runs were trained on")
    parser.add_argument("--given", type=int, default=10, help="ratings given per held-out user")
    parser.add_argument("--seed", type=int, default=0, help="the held-out users' seeded order")
    args = parse_trained_runs(parser, argv)
    data = load_processed(args.data_dir)
    x = data.graph["anime"].x
    popularity, unknown = x[:, FEATURE_NAMES.index("popularity")], x[:, FEATURE_NAMES.index("popularity_missing")] > 0
    undated = x[:, FEATURE_NAMES.index("year_missing")] > 0
    sets = anime_sets(data)
    cases = held_out_cases(data, seed=args.seed)
    query, _ = new_user_query(data, cases, args.given)
    print(f"{len(cases)} held-out users given {args.given} ratings; top 10 of each set")
    print("| run | set | anime (unknown popularity, unknown year) | unknown popularity share of the lists | "
          "unknown year share | median popularity percentile | coverage |")
    print("|---|---|---:|---:|---:|---:|---:|")
    results: dict = {}
    for name, folder in args.runs:
        model = load_model(folder / "best_model.pt")[0].eval()
        for label, in_set in sets.items():
            s = list_stats(top_lists(model, query, in_set), in_set, popularity, unknown, undated)
            results.setdefault(name, {})[label] = s
            cells = [f"{v:.3f}" if isinstance(v, float) else "–" for v in
                     (s["unknown_popularity_share"], s["unknown_year_share"], s["median_popularity_percentile"],
                      s["coverage"])]
            print(f"| {name} | {label} | {s['set_size']:,} ({s['set_unknown_share'] or 0:.3f}, "
                  f"{s['set_unknown_year_share'] or 0:.3f}) | " + " | ".join(cells)
                  + " |", flush=True)
    if args.out:
        write_json(args.out, finite_or_null({"data_dir": str(args.data_dir), "given": args.given,
                                             "users": len(cases), "results": results}))


if __name__ == "__main__":
    main()
