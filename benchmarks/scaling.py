"""How preprocess and a training epoch grow with the number of ratings (synthetic users, upscaled).

    python benchmarks/scaling.py                                  # 1x 2x 4x 8x of the embedded sample's users
    python benchmarks/scaling.py --scales 1 2 --models baseline   # smaller

The synthetic generator (:class:`gnn.data.synthetic.SampleConfig`, ``scale``) keeps the
catalog and multiplies the users (so the ratings); every step runs in its own process
(:mod:`benchmarks.worker`), so its peak RSS is its own. Writes ``results.json``,
``results.md`` and ``scaling.png`` into ``--out`` (default ``benchmarks/results/scaling``);
generated inputs, processed data and checkpoints go to ``<out>/tmp`` (gitignored).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import NEURAL, command_line, git_commit, machine_info, run_child  # noqa: E402
from gnn.io import finite_or_null, write_json  # noqa: E402
from gnn.models.registry import model_names  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "scaling"


def measure(scales: list[float], models: list[str], n_users: int, n_anime: int, min_ratings: int, out: Path,
            log=print) -> dict[str, Any]:
    t0 = time.perf_counter()
    rows = []
    for scale in scales:
        work = (out / "tmp" / f"x{scale:g}").resolve()
        logs = out / "tmp" / "logs"
        config = {"n_users": n_users, "n_anime": n_anime, "scale": scale}
        gen = run_child({"task": "generate", "out_dir": str(work / "input"), "config": config}, logs,
                        f"generate_x{scale:g}")
        prep = run_child({"task": "preprocess", "input_dir": str(work / "input"), "output_dir": str(work / "processed"),
                          "min_ratings": min_ratings}, logs, f"preprocess_x{scale:g}")
        row: dict[str, Any] = {"scale": scale, "users": gen["n_users"], "ratings": gen["n_ratings"],
                               "generate_seconds": gen["seconds"], "train_ratings": prep["splits"]["train"],
                               "preprocess": {k: prep[k] for k in ("seconds", "peak_mb", "rss_start_mb")}, "epoch": {}}
        for model in models:
            res = run_child({"task": "epoch", "model": model, "data_dir": str(work / "processed"),
                             "train_config": {"epochs": 1, "seed": 0}, "run_dir": str(work / "runs" / model)},
                            logs, f"{model}_x{scale:g}")
            row["epoch"][model] = {k: res[k] for k in ("train_seconds", "ratings_per_second", "peak_train_mb",
                                                       "rss_start_mb", "train_increase_mb", "train_config")}
        log(f"x{scale:g}: {row['ratings']:,} ratings; preprocess {row['preprocess']['seconds']:.1f} s; " + ", ".join(
            f"{m} epoch {e['train_seconds']:.1f} s / {e['peak_train_mb']:.0f} MiB" for m, e in row["epoch"].items()))
        rows.append(row)
        shutil.rmtree(work / "runs", ignore_errors=True)  # checkpoints are not needed afterwards
    return {"name": out.name, "command": command_line(), "git": git_commit(), "machine": machine_info(),
            "settings": {"scales": scales, "models": models, "n_users_at_1x": n_users, "n_anime": n_anime,
                         "min_ratings": min_ratings, "train_config": "trainer defaults, epochs 1, seed 0"},
            "rows": rows, "wall_seconds": round(time.perf_counter() - t0, 1)}


def _growth(value: float, first: float, digits: int) -> str:
    """``value (growth vs the first row)``."""
    return f"{value:,.{digits}f} ({value / first:.2f}x)" if first else f"{value:,.{digits}f}"


def markdown(res: dict[str, Any]) -> str:
    rows, models, m, st = res["rows"], res["settings"]["models"], res["machine"], res["settings"]
    base = rows[0]
    cfg = next(iter(base["epoch"].values()), {}).get("train_config") or {}
    batch = f"batch {cfg['batch_size']}, peak LR {cfg['lr']:g}" if cfg else "trainer defaults"
    head = ["scale", "ratings", "train ratings", "preprocess s", "preprocess peak MiB"]
    for model in models:
        head += [f"{model} epoch s", f"{model} ratings/s", f"{model} peak MiB"]
    lines = ["# Scaling: preprocess and one training epoch vs number of ratings", "",
             f"* Command: `{res['command']}`; git `{res['git']['commit']}`; "
             f"wall time {res['wall_seconds'] / 60:.1f} min.",
             f"* Machine: {m['platform']}, {m['cpu_count']} CPUs, torch {m['torch']}, "
             f"OMP_NUM_THREADS={m['OMP_NUM_THREADS']}, nice {m['nice']}, load average {m['load_average_start']} "
             "at start (shared machine: timings are indicative).",
             f"* Synthetic users ({st['n_users_at_1x']:,} at 1x, the same {st['n_anime']:,}-anime catalog), "
             f"`--min-ratings {st['min_ratings']}`. Epoch = one pass over the training split with the trainer "
             f"defaults ({batch}; epochs 1), plus its validation pass. Peak MiB = the high-water mark of the "
             "step's own process (imports and data included). Growth vs the first row in parentheses.", "",
             "| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in rows:
        pre, pre0 = r["preprocess"], base["preprocess"]
        cells = [f"{r['scale']:g}x", f"{r['ratings']:,}", f"{r['train_ratings']:,}",
                 _growth(pre["seconds"], pre0["seconds"], 1), _growth(pre["peak_mb"], pre0["peak_mb"], 0)]
        for model in models:
            e, e0 = r["epoch"][model], base["epoch"][model]
            cells += [_growth(e["train_seconds"], e0["train_seconds"], 1), f"{e['ratings_per_second']:,}",
                      _growth(e["peak_train_mb"], e0["peak_train_mb"], 0)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(res: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    rows = res["rows"]
    x = [r["ratings"] for r in rows]
    series = {"preprocess": [(r["preprocess"]["seconds"], r["preprocess"]["peak_mb"]) for r in rows]}
    for model in res["settings"]["models"]:
        series[f"{model} epoch"] = [(r["epoch"][model]["train_seconds"], r["epoch"][model]["peak_train_mb"])
                                    for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for name, vals in series.items():
        axes[0].plot(x, [v[0] for v in vals], marker="o", label=name)
        axes[1].plot(x, [v[1] for v in vals], marker="o", label=name)
    first = max(v[0][0] for v in series.values())  # a linear reference through the slowest first point
    axes[0].plot(x, [first * xi / x[0] for xi in x], "k:", label="linear in ratings")
    axes[0].set(xscale="log", yscale="log", xlabel="ratings (input)", ylabel="seconds (log)")
    lo, hi = axes[0].get_ylim()
    ticks = [t for t in (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if lo <= t <= hi]
    axes[0].set_yticks(ticks, [f"{t:g}" for t in ticks])
    axes[0].yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    axes[1].set(xscale="log", xlabel="ratings (input)", ylabel="peak RSS of the step's process, MiB")
    for ax in axes:
        ax.set_xticks(x, [f"{v / 1000:,.0f}k" for v in x])
        ax.minorticks_off()
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Scaling with the number of ratings (synthetic users)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 2, 4, 8], help="user multipliers")
    parser.add_argument("--n-users", type=int, default=1200, help="users at 1x (the embedded sample's)")
    parser.add_argument("--n-anime", type=int, default=1500, help="catalog size (the embedded sample's)")
    parser.add_argument("--models", nargs="+", default=list(NEURAL), choices=model_names(),
                        help="models timed for one epoch")
    parser.add_argument("--min-ratings", type=int, default=5, help="preprocess filter")
    parser.add_argument("--out", type=Path, default=OUT, help="results folder")
    parser.add_argument("--render-only", action="store_true", help="redo results.md and the plot from results.json")
    args = parser.parse_args(argv)
    if args.render_only:
        res = json.loads((args.out / "results.json").read_text())
        (args.out / "results.md").write_text(markdown(res))
        plot(res, args.out / "scaling.png")
        return
    res = measure(sorted(args.scales), args.models, args.n_users, args.n_anime, args.min_ratings, args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "results.json", finite_or_null(res), indent=1)
    (args.out / "results.md").write_text(markdown(res))
    plot(res, args.out / "scaling.png")
    print(markdown(res))


if __name__ == "__main__":
    main()
