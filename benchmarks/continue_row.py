"""How often "Continue your series" lists what held-out users went on to watch and like, beside the main list.

    python benchmarks/continue_row.py --export <anime-gnn export folder> --data-dir <processed> [--given 10] [--top 5]

Held-out users (the new-user ranking's seeded sample, ``gnn.train.metrics.held_out_cases``) are given
their first ``--given`` ratings, as the page would be, and every other rating of theirs is what they
"went on" to rate; both lists come from the export through
:class:`gnn.inference.OnnxRecommender`, as ``anime-gnn recommend`` (grouped) and ``recommend
--continue`` print them. For each list's first ``--top`` rows: the share of slots the user rated among
their other ratings (*watched*), the share they rated >= 8 (*liked*), and the mean absolute error of
the shown predicted rating on the watched slots. Users whose continue list is empty count for the main
list only.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable, Mapping, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def list_hits(rows: Iterable[Sequence[tuple[int, float]]], others: Iterable[Mapping[int, float]],
              liked_at: float = 8.0) -> dict[str, float | int | None]:
    """``rows[u]``: user ``u``'s list as ``(anime, predicted rating)``; ``others[u]``: their other ratings.
    Shares of all slots (None without slots); ``mae`` over the watched slots; ``users`` with a non-empty list."""
    slots = watched = liked = users = 0
    errors: list[float] = []
    for row, rated in zip(rows, others):
        users += bool(row)
        for anime, predicted in row:
            slots += 1
            if anime in rated:
                watched += 1
                liked += rated[anime] >= liked_at
                errors.append(abs(predicted - rated[anime]))
    share = (lambda n: n / slots if slots else None)  # noqa: E731
    return {"watched": share(watched), "liked": share(liked), "mae": sum(errors) / len(errors) if errors else None,
            "slots": slots, "users": users}


def main(argv: list[str] | None = None) -> None:
    from benchmarks.run_args import export_users_parser
    from gnn.inference import OnnxRecommender
    from gnn.io import dumps_json
    from gnn.processed import load_processed
    from gnn.train.metrics import held_out_cases

    args = export_users_parser(__doc__.splitlines()[0], top=5).parse_args(argv)
    data = load_processed(args.data_dir)
    rec = OnnxRecommender.load(args.export)
    anime_id = dict(zip(data.holdout["anime_idx"].tolist(), data.holdout["anime_id"].astype(str).tolist()))
    lists: dict[str, list] = {"main": [], "continue": []}
    others = []
    for given_a, given_r, other_a, other_r in held_out_cases(data):
        pairs = [(anime_id[int(a)], float(r)) for a, r in zip([*given_a, *other_a], [*given_r, *other_r])]
        history = pairs[:args.given]
        others.append(dict(pairs[args.given:]))
        for name, rows in (("main", rec.recommend(history=history, k=args.top)),
                           ("continue", rec.continue_series(history=history, k=args.top))):
            lists[name].append([(str(r["anime_id"]), r["predicted_rating"]) for r in rows])
    report = {name: list_hits(rows, others) for name, rows in lists.items()}
    print(dumps_json({"given": args.given, "top": args.top, "held_out_users": len(others), **report}, indent=2))


if __name__ == "__main__":
    main()
