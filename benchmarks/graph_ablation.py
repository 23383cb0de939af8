"""What the catalog graph carries: models trained with and without it, scored on the same test ratings.

    python benchmarks/graph_ablation.py --data-dir <MAL processed> --run full=<train folder> \\
        --run genres_only=<train folder of compare.py --strip relations,studios,tags> --out <dir>/graph_ablation.json

Each ``--run NAME=DIR`` is an ``anime-gnn train --output-dir`` folder (its ``best_model.pt``); it is scored
on the processed folder it was trained on (``data_dir`` in its ``model_metadata.json``), whose rating
splits must equal ``--data-dir``'s: ``compare.py --strip`` empties catalog fields and keeps every rating,
so the test ratings are the same and only what the model could read differs. The test ratings are split
by ``--data-dir``'s relations (:func:`gnn.train.metrics.series_mask`: the anime is related to one the
user rated in training), so a model trained without relations is judged on the franchise anime too.
A repeated NAME (one run per seed) gives mean ± std. ``--out X.json`` also writes ``X.md`` and ``X.png``
(RMSE on related and other anime per NAME) beside it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import key_stats, numeric_leaves  # noqa: E402
from benchmarks.provenance import command_line, git_commit  # noqa: E402
from benchmarks.report import fmt  # noqa: E402
from benchmarks.run_args import parse_trained_runs, trained_runs_parser  # noqa: E402
from gnn.io import write_json  # noqa: E402
from gnn.processed import ProcessedData, load_processed  # noqa: E402
from gnn.train.checkpoint import load_model  # noqa: E402
from gnn.train.evaluate import accuracy, known_histories, predict_split  # noqa: E402
from gnn.train.metrics import series_mask  # noqa: E402

PARTS = ("related", "other", "all")


def split_accuracy(pred: torch.Tensor, truth: torch.Tensor, related: torch.Tensor) -> dict[str, dict]:
    """MAE/RMSE/n of the test ratings whose anime is ``related`` to one the user rated, the others, all."""
    return {"related": accuracy(pred[related], truth[related]).as_dict(),
            "other": accuracy(pred[~related], truth[~related]).as_dict(),
            "all": accuracy(pred, truth).as_dict()}


def same_ratings(a: ProcessedData, b: ProcessedData) -> str | None:
    """The first split whose users, anime or ratings differ between ``a`` and ``b`` (None: all equal)."""
    for name in ("train", "val", "test"):
        x, y = getattr(a, name), getattr(b, name)
        if not (torch.equal(x.user, y.user) and torch.equal(x.anime, y.anime) and torch.equal(x.rating, y.rating)):
            return name
    return None


def trained_on(folder: Path, default: Path) -> Path:
    """The processed folder a training read (its metadata's ``data_dir``), ``default`` if it names none."""
    meta = folder / "model_metadata.json"
    named = json.loads(meta.read_text()).get("data_dir") if meta.is_file() else None
    if named and not Path(named).is_dir():
        raise SystemExit(f"error: {folder} was trained on {named}, which is not there any more")
    return Path(named).resolve() if named else default.resolve()


def score_run(folder: Path, reference: ProcessedData, related: torch.Tensor, default: Path) -> dict[str, dict]:
    """:func:`split_accuracy` of the run in ``folder`` on its own data's test split (the same ratings as
    ``reference``'s; a different split is a one-line error)."""
    data_dir = trained_on(folder, default)
    data = reference if data_dir == default.resolve() else load_processed(data_dir)
    differs = same_ratings(reference, data)
    if differs:
        raise SystemExit(f"error: {folder} was trained on {data_dir}, whose {differs} ratings differ from "
                         f"--data-dir's: the runs must share the rating splits")
    model = load_model(folder / "best_model.pt")[0]
    histories = known_histories(model, data) if model.inductive else None
    return split_accuracy(predict_split(model, data.test, histories=histories), data.test.rating, related)


def summarize(rows: list[tuple[str, dict]]) -> dict[str, dict]:
    """Per NAME: ``runs`` and, per metric path (``related.rmse``, ``other.n``, ...), mean, std and n over
    its runs (:func:`benchmarks.harness.key_stats`, as ``results.json``'s summary)."""
    names = dict.fromkeys(n for n, _ in rows)
    return {name: {"runs": sum(n == name for n, _ in rows),
                   **key_stats([numeric_leaves(r) for n, r in rows if n == name])} for name in names}


def table(summary: dict[str, dict]) -> str:
    lines = ["| run | runs | related RMSE | other RMSE | test RMSE | related MAE | other MAE | n related / other |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, s in summary.items():
        cells = [fmt(s[f"{p}.rmse"]) for p in PARTS] + [fmt(s[f"{p}.mae"]) for p in ("related", "other")]
        lines.append(f"| {name} | {s['runs']} | " + " | ".join(cells) +
                     f" | {s['related.n']['mean']:,.0f} / {s['other.n']['mean']:,.0f} |")
    return "\n".join(lines) + "\n"


def chart(summary: dict[str, dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / max(len(summary), 1)
    for i, (name, s) in enumerate(summary.items()):
        xs = np.arange(len(PARTS)) + i * width
        ax.bar(xs, [s[f"{p}.rmse"]["mean"] for p in PARTS], width, yerr=[s[f"{p}.rmse"]["std"] for p in PARTS],
               label=name)
    ax.set_xticks(np.arange(len(PARTS)) + width * (len(summary) - 1) / 2,
                  ["related to a rated anime", "other", "all test ratings"])
    low = min(s[f"{p}.rmse"]["mean"] for s in summary.values() for p in PARTS)
    ax.set_ylim(low * 0.9, None)
    ax.set(ylabel="test RMSE (lower is better)", title="the same test ratings, with and without the catalog graph")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> dict[str, dict]:
    parser = trained_runs_parser(__doc__.splitlines()[0], "the processed folder whose relations split the test "
                                 "ratings (every run's rating splits must equal its)")
    args = parse_trained_runs(parser, argv)
    reference = load_processed(args.data_dir)
    related = series_mask(reference)
    rows = [(name, score_run(folder, reference, related, args.data_dir)) for name, folder in args.runs]
    summary = summarize(rows)
    print(table(summary))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_json(args.out, {"command": command_line(), "git": git_commit(),
                              "runs": [{"name": n, **r} for n, r in rows], "summary": summary})
        args.out.with_suffix(".md").write_text(f"`{command_line()}`\n\n" + table(summary))
        chart(summary, args.out.with_suffix(".png"))
    return summary


if __name__ == "__main__":
    main()
