"""The new-user case on validation data: known users' validation ratings scored from k of their training ratings.

    python benchmarks/short_history.py --data-dir data/processed --run uniform=runs/a --run log=runs/b

The held-out users' k = 5 / 10 / 20 rows of ``compare.py`` are test numbers; choosing a training option
by them would choose on test. Here the same computation (:func:`gnn.train.evaluate.evaluate_cases`: a
user known only by k given ratings) runs on validation data instead: training users with at least 20
training ratings and a validation rating (a seeded sample of ``--max-users``), given the first k of a
seeded order of their training ratings, scored on all their validation ratings. Each ``--run NAME=DIR``
is an ``anime-gnn train --output-dir`` folder (its ``best_model.pt``) trained on ``--data-dir``; any
model that scores from a history works (the GNN, the baseline, the classic models' fold-ins). Prints
one Markdown row per run; ``--out`` also writes the numbers as JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run_args import parse_trained_runs, trained_runs_parser  # noqa: E402
from gnn.io import finite_or_null, write_json  # noqa: E402
from gnn.processed import ProcessedData, load_processed  # noqa: E402
from gnn.train.checkpoint import load_model  # noqa: E402
from gnn.train.evaluate import NEW_USER_KS, evaluate_cases, fmt_metric  # noqa: E402


def validation_cases(data: ProcessedData, max_k: int = max(NEW_USER_KS), max_users: int | None = 2000,
                     seed: int = 0, users_out: list[int] | None = None
                     ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """``(given anime, given ratings, target anime, target ratings)`` per sampled user, as
    :func:`gnn.train.evaluate.new_user_cases`: the given ones are ``max_k`` of the user's training
    ratings in a seeded order, the targets all of their validation ratings. ``users_out``: gets each
    case's user index, in order."""
    rng = np.random.default_rng(seed)

    def by_user(split) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        user, anime, rating = split.user.numpy(), split.anime.numpy(), split.rating.numpy()
        order = np.lexsort((anime, user))
        users, starts = np.unique(user[order], return_index=True)
        ends = np.append(starts[1:], len(order))
        return {int(u): (anime[order[a:b]], rating[order[a:b]]) for u, a, b in zip(users, starts, ends)}

    train, val = by_user(data.train), by_user(data.val)
    users = [u for u in sorted(val) if u in train and len(train[u][0]) >= max_k]
    if max_users is not None and len(users) > max_users:
        users = sorted(rng.choice(users, size=max_users, replace=False).tolist())
    cases = []
    for u in users:
        order = rng.permutation(len(train[u][0]))[:max_k]
        cases.append((train[u][0][order], train[u][1][order].astype(np.float32), *val[u]))
    if users_out is not None:
        users_out.extend(users)
    return cases


def main(argv: list[str] | None = None) -> None:
    parser = trained_runs_parser(__doc__.splitlines()[0], "the processed folder the runs were trained on")
    parser.add_argument("--max-users", type=int, default=2000, help="users scored at most (a seeded sample beyond)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the user sample and of the given ratings")
    args = parse_trained_runs(parser, argv)
    data = load_processed(args.data_dir)
    cases = validation_cases(data, max_users=args.max_users, seed=args.seed)
    print(f"{len(cases)} training users, {sum(len(c[2]) for c in cases):,} validation ratings")
    print("| run | " + " | ".join(f"k={k} RMSE" for k in NEW_USER_KS) + " |")
    print("|---|" + "---:|" * len(NEW_USER_KS))
    results = {}
    for name, folder in args.runs:
        model, _ctx, _meta = load_model(folder / "best_model.pt")
        results[name] = evaluate_cases(model, cases, NEW_USER_KS)
        cells = [fmt_metric(r["rmse"]) for r in results[name].values()]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    if args.out:
        write_json(args.out, finite_or_null({"data_dir": str(args.data_dir), "users": len(cases),
                                             "seed": args.seed, "results": results}))


if __name__ == "__main__":
    main()
