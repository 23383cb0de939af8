"""PNG charts of a comparison (matplotlib, Agg backend): accuracy, ranking (known and new users), series,
new users, latency, cost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.report import LATENCY_CASES, Summary  # noqa: E402


def _stat(summary: Summary, model: str, key: str) -> tuple[float, float]:
    s = summary.get(model, {}).get(key)
    return (s["mean"], s["std"]) if s else (np.nan, 0.0)


def _bars(ax: Any, summary: Summary, models: list[str], series: list[tuple[str, str]], scale: float = 1.0,
          digits: int = 3) -> None:
    """Grouped bars: one group per model, one bar per (label, metric key), std as error bars, values on top."""
    width = 0.8 / len(series)
    x = np.arange(len(models))
    for j, (label, key) in enumerate(series):
        stats = [_stat(summary, m, key) for m in models]
        means = np.array([s[0] for s in stats]) * scale
        stds = np.array([s[1] for s in stats]) * scale
        bars = ax.bar(x + (j - (len(series) - 1) / 2) * width, means, width, yerr=stds, capsize=3, label=label)
        ax.bar_label(bars, labels=[f"{v:.{digits}f}" if np.isfinite(v) else "" for v in means], fontsize=7,
                     padding=2)
    ax.set_xticks(x, models, rotation=15)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)


def _save(fig: Any, path: Path, title: str, rect: tuple[float, ...] = (0, 0, 1, 1)) -> Path:
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=rect)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _zoom(ax: Any, summary: Summary, models: list[str], keys: list[str]) -> None:
    """Start the y axis near the smallest value so differences between models are visible."""
    vals = [summary[m][k]["mean"] for m in models for k in keys if k in summary.get(m, {})]
    if vals:
        lo, hi = min(vals), max(vals)
        ax.set_ylim(max(0.0, lo - 0.25 * (hi - lo + 1e-9) - 0.05 * hi), hi + 0.15 * (hi - lo + 1e-9) + 0.02 * hi)


def _lists_chart(summary: Summary, models: list[str], k: int, path: Path, title: str) -> Path:
    """Known users' lists: catalog coverage, the top-1 % share and the orphan-sequel share (plain and series list)."""
    fig, ax = plt.subplots(figsize=(9, 4.2))
    _bars(ax, summary, models, [(f"coverage@{k}", f"ranking.coverage@{k}"),
                                ("top-1 % share", f"ranking.popular_share@{k}"),
                                ("orphan share", f"ranking.orphan_share@{k}"),
                                ("orphan share, series list", f"ranking.series_list.orphan_share@{k}")])
    ax.set_ylabel("share (0-1)")
    return _save(fig, path, title)


def _new_user_ranking_chart(summary: Summary, models: list[str], k: int, path: Path, title: str) -> Path:
    """NDCG, Recall@50, top-1 % share and orphan share against the number of given ratings, one line per model."""
    ks = [5, 10, 20]
    panels = [(f"NDCG@{k} (higher is better)", f"ndcg@{k}"), ("Recall@50 (higher is better)", "recall@50"),
              ("top-1 % share of the slots", f"popular_share@{k}"), ("orphan share (lower is better)", f"orphan_share@{k}")]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for ax, (label, metric) in zip(axes.flat, panels):
        for m in models:
            stats = [_stat(summary, m, f"ranking_new_users.k={kk}.{metric}") for kk in ks]
            if all(np.isnan(s[0]) for s in stats):
                continue
            ax.errorbar(ks, [s[0] for s in stats], yerr=[s[1] for s in stats], marker="o", capsize=3, label=m)
        ax.set_xticks(ks)
        ax.set_xlabel("ratings given (k)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=max(1, len(labels)), fontsize=8, frameon=False)
    return _save(fig, path, title, rect=(0, 0.05, 1, 1))


def _accuracy_chart(summary: Summary, models: list[str], path: Path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4.2))
    keys = ["accuracy.test.mae", "accuracy.test.rmse"]
    _bars(ax, summary, models, [("MAE", keys[0]), ("RMSE", keys[1])])
    _zoom(ax, summary, models, keys)
    ax.set_ylabel("error on the 1-10 scale (lower is better)")
    return _save(fig, path, title)


def _ranking_chart(summary: Summary, models: list[str], k: int, path: Path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(9, 4.2))
    _bars(ax, summary, models, [(f"NDCG@{k}", f"ranking.ndcg@{k}"), (f"Recall@{k}", f"ranking.recall@{k}"),
                                ("Recall@50", "ranking.recall@50"),
                                (f"series list NDCG@{k}", f"ranking.series_list.ndcg@{k}")])
    ax.set_ylabel("higher is better")
    return _save(fig, path, title)


def _series_chart(summary: Summary, models: list[str], path: Path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4.2))
    keys = ["series.related_to_train.rmse", "series.other.rmse"]
    _bars(ax, summary, models, [("related to a train anime", keys[0]), ("other", keys[1])])
    _zoom(ax, summary, models, keys)
    ax.set_ylabel("test RMSE (lower is better)")
    return _save(fig, path, title)


def _new_users_chart(summary: Summary, models: list[str], path: Path, title: str) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    ks = [5, 10, 20]
    for ax, metric in zip(axes, ("mae", "rmse")):
        for m in models:
            stats = [_stat(summary, m, f"new_users.k={kk}.{metric}") for kk in ks]
            if all(np.isnan(s[0]) for s in stats):  # a ranking-only reference: no rating
                continue
            ax.errorbar(ks, [s[0] for s in stats], yerr=[s[1] for s in stats], marker="o", capsize=3, label=m)
        ax.set_xticks(ks)
        ax.set_xlabel("ratings given (k)")
        ax.set_ylabel(f"{metric.upper()} on the rest (lower is better)")
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(models), fontsize=8, frameon=False)
    fig.subplots_adjust(bottom=0.25)
    return _save(fig, path, title, rect=(0, 0.07, 1, 1))


def _latency_chart(summary: Summary, exported: list[str], path: Path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4.2))
    labels = [f"{m} ({summary[m]['export.model_bytes']['mean'] / 1e6:.1f} MB)" for m in exported]
    width = 0.8 / len(LATENCY_CASES)
    x = np.arange(len(exported))
    for j, case in enumerate(LATENCY_CASES):
        means = [_stat(summary, m, f"export.latency.{case}.median_ms")[0] for m in exported]
        bars = ax.bar(x + (j - 1.5) * width, means, width, label=case.replace("_", " "))
        ax.bar_label(bars, labels=[f"{v:.2f}" if np.isfinite(v) else "n/a" for v in means], fontsize=7, padding=2)
    ax.set_xticks(x, labels)
    ax.set_ylabel("ONNX Runtime median latency, ms (1 thread)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path, title)


def _cost_chart(summary: Summary, models: list[str], path: Path, title: str) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    _bars(axes[0], summary, models, [("train seconds", "cost.train_seconds")], digits=1)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("training wall time, s (log)")
    _bars(axes[1], summary, models, [("peak RSS", "cost.peak_train_mb"), ("increase", "cost.train_increase_mb")],
          digits=0)
    axes[1].set_ylabel("MiB (fit process)")
    return _save(fig, path, title)


def write_charts(results: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write the PNGs into ``out_dir``; returns their paths."""
    summary: Summary = results["summary"]
    models = [m for m in results["settings"]["models"] if m in summary]
    if not models:  # every run failed: nothing to draw (results.md names the errors)
        return []
    k, name = results["settings"]["k"], results["name"]
    seeds = f"{len(results['settings']['seeds'])} seed(s), error bars = std"
    paths = [
        _accuracy_chart(summary, models, out_dir / "accuracy.png", f"{name}: test accuracy ({seeds})"),
        _ranking_chart(summary, models, k, out_dir / "ranking.png",
                       f"{name}: known users, whole catalog, train items excluded ({seeds})"),
        _lists_chart(summary, models, k, out_dir / "lists.png", f"{name}: what the known users' top-{k} lists hold "
                                                                f"({seeds})"),
    ]
    if any(key.startswith("ranking_new_users.") for m in models for key in summary[m]):
        paths.append(_new_user_ranking_chart(summary, models, k, out_dir / "new_users_ranking.png",
                                             f"{name}: new users given k ratings, top-{k} lists ({seeds})"))
    paths.append(_series_chart(summary, models, out_dir / "series.png", f"{name}: series vs other test ratings ({seeds})"))
    paths.append(_new_users_chart(summary, models, out_dir / "new_users.png",
                                  f"{name}: new users without retraining ({seeds})"))
    exported = [m for m in models if "export.model_bytes" in summary[m]]
    if exported:
        paths.append(_latency_chart(summary, exported, out_dir / "latency.png",
                                    f"{name}: exported model.onnx latency on CPU"))
    paths.append(_cost_chart(summary, models, out_dir / "cost.png", f"{name}: training cost ({seeds})"))
    return paths
