"""Every reference model's test metrics without and with the franchise term (their "+term" numbers).

    python benchmarks/series_ablation.py --results benchmarks/results/mal --models baseline item_knn mf

Reads a `compare.py` output folder (``<results>/processed`` and the best checkpoints in
``<results>/tmp/runs/<model>_s0``). For each model it fits the franchise term
(:func:`benchmarks.series_term.fit_series`: a user's residuals on an anime's relatives, with the
catalog's relation weights, two numbers per user path fitted on the validation split) on that
model's own predictions, and reports the test metrics without and with it. No training, and no
model gets the term in `anime-gnn train`: here it makes each classic reference stronger. Skipped:
ranking-only references (no rating to adjust) and models that score known users from their
ratings (the gnn: it learns what a rated relative means inside the model).
Writes ``<results>/series_ablation.json`` and ``series_ablation.md``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import run_dir  # noqa: E402
from benchmarks.run_args import finished_run_parser  # noqa: E402
from benchmarks.series_term import fit_series  # noqa: E402
from gnn.franchise import Franchises  # noqa: E402
from gnn.io import finite_or_null, write_json  # noqa: E402
from gnn.models.base import RatingModel  # noqa: E402
from gnn.processed import ProcessedData, load_processed  # noqa: E402
from gnn.train.checkpoint import load_model  # noqa: E402
from gnn.train.evaluate import evaluate_new_users, evaluate_split  # noqa: E402
from gnn.train.metrics import franchises_of, ranking_metrics, series_metrics  # noqa: E402


def measure(model: RatingModel, data: ProcessedData, ranking_users: int, franchises: Franchises) -> dict:
    """The committed run's test metrics for one model (same seeds and user samples as ``compare.py``)."""
    series = series_metrics(model, data)
    ranking = ranking_metrics(model, data, max_users=ranking_users or None, seed=0, franchises=franchises)
    return {"test": evaluate_split(model, data.test).as_dict(),
            "related_rmse": series["related_to_train"]["rmse"], "other_rmse": series["other"]["rmse"],
            "new_users": {k: v["rmse"] for k, v in evaluate_new_users(model, data.holdout, seed=0).items()},
            "ndcg@10": ranking["ndcg@10"], "orphan_share@10": ranking["orphan_share@10"]}


def _num(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def render(rows: dict, results: Path) -> str:
    lines = [f"# Franchise-term ablation: {results.name}", "",
             f"`python benchmarks/series_ablation.py --results {results} --models {' '.join(rows)}`"
             " on the checkpoints of that folder's"
             " compare.py run (seed 0). Every model gets the term fitted on its own validation predictions;"
             " no model gets it in `anime-gnn train`.", "",
             "| model | term | test MAE | test RMSE | related RMSE | other RMSE | k=5 RMSE | k=10 RMSE | k=20 RMSE "
             "| NDCG@10 | orphan share@10 | alpha known / history |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, r in rows.items():
        for label in ("without", "with"):
            m = r[label]
            nu = m["new_users"]
            term = (f"{r['term']['known']['alpha']:.2f} / {r['term']['history']['alpha']:.2f}"
                    if label == "with" else "")
            lines.append(f"| {name} | {label} | {m['test']['mae']:.4f} | {m['test']['rmse']:.4f} | "
                         f"{m['related_rmse']:.4f} | {m['other_rmse']:.4f} | {nu['k=5']:.4f} | {nu['k=10']:.4f} | "
                         f"{nu['k=20']:.4f} | {_num(m['ndcg@10'], 4)} | {_num(m['orphan_share@10'], 3)} | {term} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = finished_run_parser(__doc__.splitlines()[0])
    parser.add_argument("--ranking-users", type=int, default=2000, help="users ranked for NDCG@10, as compare.py (0 = all)")
    args = parser.parse_args(argv)
    data = load_processed(args.results / "processed")
    franchises = franchises_of(data)
    rows = {}
    for name in args.models:
        start = time.perf_counter()
        base, _, _ = load_model(run_dir(args.results, name, 0) / "best_model.pt")
        if not base.predicts_ratings:
            print(f"{name}: skipped (a ranking-only reference: no rating for the term to adjust)")
            continue
        if base.inductive:
            print(f"{name}: skipped (scores known users from their ratings: the term has no ID path)")
            continue
        adjusted = fit_series(base, data, seed=0)
        rows[name] = {"term": adjusted.terms(),
                      "without": measure(base, data, args.ranking_users, franchises),
                      "with": measure(adjusted, data, args.ranking_users, franchises)}
        print(f"{name}: test RMSE {rows[name]['without']['test']['rmse']:.4f} -> "
              f"{rows[name]['with']['test']['rmse']:.4f} ({time.perf_counter() - start:.0f} s)", flush=True)
    write_json(args.results / "series_ablation.json", finite_or_null(rows))
    table = render(rows, args.results)
    (args.results / "series_ablation.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
