"""Cold-item evaluation (gnn/train/cold.py) of trained models on a preprocess output made with --cold-anime.

    python benchmarks/cold_items.py --data-dir data/processed \\
        --run biases=runs/biases --run content_knn=runs/content_knn --out cold.json

Each ``--run NAME=DIR`` is an ``anime-gnn train --output-dir`` folder (its ``best_model.pt``) trained
on ``--data-dir``. Prints one Markdown row per
run: MAE/RMSE on the cold ratings, NDCG/Recall@k of ranking the cold anime among all anime, the
share of cold anime in the top k (the same among rated anime only, and among anime without a
training rating: the order a status or year filter shows), and the warm test RMSE from the run's
``model_metadata.json``. ``preprocess --cold-after YEAR`` makes the new-season variant: the held-out
anime are the ones newer than every anime the model trained on.
A first look; the benchmark harness (compare.py) will run these in the same run as the others.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.run_args import parse_trained_runs, trained_runs_parser  # noqa: E402
from gnn.io import finite_or_null, write_json  # noqa: E402
from gnn.processed import load_processed  # noqa: E402
from gnn.train.checkpoint import load_model  # noqa: E402
from gnn.train.cold import evaluate_cold  # noqa: E402
from gnn.train.evaluate import fmt_metric  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = trained_runs_parser(__doc__.splitlines()[0], "preprocess output with a cold split (--cold-anime or --cold-after)")
    parser.add_argument("--k", type=int, default=10, help="ranking cut-off")
    parser.add_argument("--threshold", type=float, default=8.0, help="a cold rating this high is relevant")
    parser.add_argument("--max-users", type=int, default=None, help="rank a seeded sample of this many users")
    args = parse_trained_runs(parser, argv)
    data = load_processed(args.data_dir)
    results = {}
    k = args.k
    views = {"": None, " rated only": "rated_only", " unrated only": "unrated_only"}
    heads = [f"{m}@{k}{v}" for v in views for m in ("NDCG", "Recall", "cold share")]
    print(f"| model | cold MAE | cold RMSE | {' | '.join(heads)} | users | warm test RMSE | eval s |")
    print("|---|" + "---:|" * (len(heads) + 5))
    for name, folder in args.runs:
        model, _, _ = load_model(folder / "best_model.pt")
        start = time.perf_counter()
        r = evaluate_cold(model, data, k=k, threshold=args.threshold, max_users=args.max_users)
        r["eval_seconds"] = round(time.perf_counter() - start, 1)
        meta = folder / "model_metadata.json"
        r["warm_test_rmse"] = json.loads(meta.read_text())["metrics"]["test"]["rmse"] if meta.exists() else None
        results[name] = r
        ranks = [fmt_metric((r if key is None else r[key])[f"{m}@{k}"]) for key in views.values()
                 for m in ("ndcg", "recall", "cold_share")]
        print(f"| {name} | {fmt_metric(r['mae'])} | {fmt_metric(r['rmse'])} | {' | '.join(ranks)} | {r['users']} | "
              f"{fmt_metric(r['warm_test_rmse'])} | {r['eval_seconds']} |", flush=True)
    if args.out:
        write_json(args.out, finite_or_null({"data_dir": str(args.data_dir), "cold_ratings": len(data.cold or []),
                                             "results": results}))


if __name__ == "__main__":
    main()
