"""``results.md`` from the harness's results: one Markdown table per metric group, with provenance."""

from __future__ import annotations

import json
from typing import Any

Summary = dict[str, dict[str, dict[str, float]]]

LATENCY_CASES = ("pair_new_user", "catalog_new_user", "catalog_empty_history", "catalog_known_user")


def fmt(stat: dict[str, float] | None, digits: int | str = 4, scale: float = 1.0) -> str:
    """``mean ± std`` (just the mean for one value or a constant count); ``–`` when missing.

    ``digits``: decimals, or a format spec such as ``".1e"``.
    """
    if not stat:
        return "–"
    spec = f",.{digits}f" if isinstance(digits, int) else digits
    mean, std = stat["mean"] * scale, stat["std"] * scale
    if stat["n"] <= 1 or (digits == 0 and std == 0):
        return format(mean, spec)
    return f"{format(mean, spec)} ± {format(std, spec)}"


def table(summary: Summary, models: list[str], columns: list[tuple[str, str, str | None, int | str]],
          scale: dict[str, float] | None = None) -> list[str]:
    """Rows of ``models``; ``columns`` are (header, metric path, "low"/"high"/None = best to bold, digits)."""
    best: dict[str, float] = {}
    for header, key, better, _ in columns:
        means = [summary[m][key]["mean"] for m in models if key in summary.get(m, {})]
        if better and len(means) > 1:
            best[key] = min(means) if better == "low" else max(means)
    lines = ["| model | " + " | ".join(c[0] for c in columns) + " |", "|---|" + "---:|" * len(columns)]
    for m in models:
        cells = []
        for _, key, _, digits in columns:
            stat = summary.get(m, {}).get(key)
            text = fmt(stat, digits, (scale or {}).get(key, 1.0))
            if stat and key in best and abs(stat["mean"] - best[key]) < 1e-12:
                text = f"**{text}**"
            cells.append(text)
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return lines + [""]


def _on_edge(t: dict[str, Any]) -> list[str]:
    """The tuned keys whose chosen value is the first or last of a grid axis with more than one value."""
    out = []
    for part in ("model", "train"):
        for key, values in (t.get("grid") or {}).get(part, {}).items():
            chosen = t["chosen"][part].get(key)
            if len(values) > 1 and chosen in (values[0], values[-1]):
                out.append(key)
    return out


def _tuning(results: dict[str, Any]) -> list[str]:
    lines = ["## Tuning (validation split)", "",
             "Classic references are tuned on their selection metric with the first seed: the validation RMSE, "
             "or the validation NDCG@k for the ranking-only references (no RMSE; known users, the same "
             "protocol as the test ranking). The grid, the chosen values and any chosen value on the edge of its "
             "grid are below. The neural models use the trainer and model defaults (tuned on the real data's "
             "validation split, not by this harness).", "",
             "| model | grid | chosen | selected on | value | on a grid edge | configs |",
             "|---|---|---|---|---:|---|---:|"]
    for model, t in results["tuning"].items():
        if "error" in t:
            lines.append(f"| {model} | failed | – | – | – | – | – |")
            continue
        grid = json.dumps(t["grid"]) if t.get("grid") else t.get("note", "–")
        chosen = json.dumps({**t["chosen"]["model"], **t["chosen"]["train"]}) if t.get("grid") else "defaults"
        value = t.get("best_value", t.get("best_val_rmse"))  # results written before the selection metric
        metric = t.get("metric", "val_rmse") if t.get("trials") or (t.get("grid") and "note" not in t) \
            else t.get("note", "–")
        val = f"{value:.4f}" if value is not None else "–"
        edge = ", ".join(_on_edge(t)) or "–"
        lines.append(f"| {model} | `{grid}` | `{chosen}` | {metric} | {val} | {edge} | "
                     f"{len(t.get('trials', [])) or '–'} |")
    return lines + [""]


def ranking_columns(prefix: str, k: int) -> list[tuple[str, str, str | None, int | str]]:
    """The ranking table's columns for the metrics under ``prefix`` (e.g. ``ranking`` or ``ranking_new_users.k=5``)."""
    return [(f"NDCG@{k}", f"{prefix}.ndcg@{k}", "high", 4), (f"Recall@{k}", f"{prefix}.recall@{k}", "high", 4),
            ("Recall@50", f"{prefix}.recall@50", "high", 4), (f"coverage@{k}", f"{prefix}.coverage@{k}", None, 4),
            ("top-1 % share", f"{prefix}.popular_share@{k}", None, 3),
            ("orphan share", f"{prefix}.orphan_share@{k}", "low", 3),
            (f"series list NDCG@{k}", f"{prefix}.series_list.ndcg@{k}", "high", 4),
            ("series list orphan share", f"{prefix}.series_list.orphan_share@{k}", "low", 3),
            ("users", f"{prefix}.users", None, 0)]


def _ranking(summary: Summary, models: list[str], k: int, thr: float) -> list[str]:
    lines = [f"## Ranking, known users (test split, relevant = rating >= {thr:g}, train items excluded)", "",
             "The whole catalog is ranked for each user (train anime excluded). coverage = share of the catalog's "
             f"anime in at least one top-{k} list; top-1 % share = share of top-{k} slots taken by the 1 % of anime "
             f"with the most training ratings; orphan share = share of top-{k} slots that are later entries (a "
             "PREQUEL or PARENT relation) of a franchise the user rated nothing of; series list = the same scores "
             "through the series-aware list (one card per franchise, at its entry point or next entry).", ""]
    lines += table(summary, models, ranking_columns("ranking", k))
    new = [m for m in models if any(key.startswith("ranking_new_users.") for key in summary[m])]
    if new:
        lines += [f"## Ranking, new users (held-out users given k ratings; relevant = their other ratings >= {thr:g}, "
                  "given anime excluded)", ""]
        for kk in ("k=5", "k=10", "k=20"):
            lines += [f"### {kk}", ""] + table(summary, new, ranking_columns(f"ranking_new_users.{kk}", k))
    return lines


def train_settings(results: dict[str, Any]) -> str:
    """The trainer settings the runs used (from the first successful run of a model whose tuning chose no
    training value, else the first successful run; grid values come on top)."""
    runs = [r for r in results["runs"] if "train_config" in r]
    untuned = [r for r in runs if not results.get("tuning", {}).get(r["model"], {}).get("chosen", {}).get("train")]
    run = next(iter(untuned or runs), None)
    if run is None:
        return "–"
    c = run["train_config"]
    return (f"up to {c['epochs']} epochs ({c['schedule']}, early stopping after {c['patience']} epochs without "
            f"a validation-RMSE gain), batch {c['batch_size']}, peak LR {c['lr']:g} (AdamW, weight decay "
            f"{c['weight_decay']:g}), loss {c['loss']}, history_frac {c['history_frac']:g}")


def preparation(d: dict[str, Any]) -> str:
    """How a run's data was made (``results["data"]``): the input it was preprocessed from, with the catalog
    fields ``--strip`` emptied first, or an already processed folder."""
    if not d.get("preprocessed"):
        return "an already processed folder"
    stripped = f", its catalog's {', '.join(d['stripped'])} emptied first (`--strip`)," if d.get("stripped") else ""
    return (f"preprocessed from `{d['input_dir']}`{stripped} with `--min-ratings {d['min_ratings']}` in "
            f"{d['preprocess_seconds']:.1f} s")


def _header(results: dict[str, Any]) -> list[str]:
    m, d, s, g = results["machine"], results["data"], results["settings"], results["git"]
    splits = d.get("splits") or {}
    prep = preparation(d)
    parts = results.get("merged_from")
    runs = f"{len(parts)} run{'s' if len(parts) != 1 else ''}" if parts else ""
    where = ([f"* Joined (`compare.py --merge`) from {runs} on the same data: " + "; ".join(
        f"`{' '.join(p['models'])}` at `{p['git']['commit'][:7]}`{' (uncommitted changes)' if p['git']['dirty'] else ''}"
        f" in {p['wall_seconds'] / 60:.1f} min" for p in parts) + "."] if parts else [
        f"* Command: `{results['command']}`",
        f"* Git commit `{g['commit']}`{' (with uncommitted changes in tracked files)' if g['dirty'] else ''}; "
        f"started {results['started_at']}; wall time {results['wall_seconds'] / 60:.1f} min."])
    return [
        f"# Model comparison: {results['name']}", "", *where,
        f"* Machine: {m['platform']}, {m['processor']}, {m['cpu_count']} CPUs ({m['cpus_usable']} usable), "
        f"Python {m['python']}, torch {m['torch']}, torch_geometric {m['torch_geometric']}, onnxruntime "
        f"{m['onnxruntime']}, OMP_NUM_THREADS={m['OMP_NUM_THREADS']}, nice {m['nice']}, load average "
        f"{m['load_average_start']} at start and {m.get('load_average_end')} at the end (shared machine: "
        "timings are indicative).",
        f"* Data: `{d['data_dir']}`, {prep}: {d['n_users']:,} training users, {d['n_anime']:,} anime; ratings "
        f"train {splits.get('train', 0):,} / val {splits.get('val', 0):,} / test {splits.get('test', 0):,}; "
        f"{d.get('holdout_users')} held-out users ({splits.get('holdout', 0):,} ratings) for the new-user rows.",
        f"* Seeds {s['seeds']}{' (--quick)' if s['quick'] else ''}: each cell is mean ± sample standard deviation "
        "over seeds (closed-form fits are deterministic, so their std is 0). "
        f"Training overrides for every model: `{json.dumps(s['train_config_overrides'])}`. Best value per column "
        "in bold.",
        f"* Trainer settings (`TrainConfig` defaults at this commit, plus the overrides): {train_settings(results)}; "
        "a classic model's tuned `lr` replaces the default LR.", ""]


def _cold(summary: Summary, models: list[str], k: int) -> list[str]:
    """The cold-item section (``preprocess --cold-anime``: every rating of the held-out anime)."""
    return ["## Cold anime (no rating of them reached training; `gnn/train/cold.py`)", "",
            "Accuracy on every rating of the held-out anime; ranking: the held-out anime a user rated "
            f">= the threshold, found among all anime (and among anime someone rated, and among anime "
            f"with no training rating: what a status or year filter shows); cold share = "
            f"share of the top {k} that are held-out anime.", ""] + table(summary, models, [
        ("cold MAE", "cold.mae", "low", 4), ("cold RMSE", "cold.rmse", "low", 4),
        (f"NDCG@{k}", f"cold.ndcg@{k}", "high", 4), (f"Recall@{k}", f"cold.recall@{k}", "high", 4),
        (f"cold share@{k}", f"cold.cold_share@{k}", None, 3),
        (f"NDCG@{k} rated only", f"cold.rated_only.ndcg@{k}", "high", 4),
        (f"NDCG@{k} unrated only", f"cold.unrated_only.ndcg@{k}", "high", 4),
        ("users", "cold.users", None, 0)])


def markdown(results: dict[str, Any]) -> str:
    """The whole ``results.md``."""
    summary: Summary = results["summary"]
    models = [m for m in results["settings"]["models"] if m in summary]
    k, thr = results["settings"]["k"], results["settings"]["relevant_threshold"]
    lines = _header(results)
    lines += ["## Accuracy (test split)", ""] + table(summary, models, [
        ("MAE", "accuracy.test.mae", "low", 4), ("RMSE", "accuracy.test.rmse", "low", 4),
        ("val RMSE", "accuracy.val.rmse", "low", 4)])
    ranking_only = [m for m in models if "accuracy.test.rmse" not in summary[m] and "ranking.users" in summary[m]]
    if ranking_only:
        lines += [f"{', '.join(ranking_only)}: ranking-only (no predicted rating, so no MAE/RMSE: –).", ""]
    lines += _ranking(summary, models, k, thr)
    lines += ["## Series (test ratings of anime related to one the user rated in train, vs the others)", ""] + table(
        summary, models, [("related MAE", "series.related_to_train.mae", "low", 4),
                          ("related RMSE", "series.related_to_train.rmse", "low", 4),
                          ("other MAE", "series.other.mae", "low", 4), ("other RMSE", "series.other.rmse", "low", 4),
                          ("n related", "series.related_to_train.n", None, 0), ("n other", "series.other.n", None, 0)])
    if any("cold.rmse" in summary[m] or "cold.users" in summary[m] for m in models):
        lines += _cold(summary, models, k)
    ks = ("k=5", "k=10", "k=20")
    lines += ["## New users (held-out users, scored from k given ratings, no retraining)", ""] + table(
        summary, models, [(f"{kk} {m.upper()}", f"new_users.{kk}.{m}", "low", 4) for kk in ks for m in ("mae", "rmse")])
    lines += ["## Cost (one process per fit)", "",
              "Train time includes the per-epoch validation pass and checkpoint writes; ratings/s = training ratings "
              "processed per second of it (closed form: training ratings / fit time). Peak RSS is the fit process's "
              "high-water mark at the end of training; the increase is over the process after imports and data "
              "loading.", ""] + table(summary, models, [
                  ("train s", "cost.train_seconds", "low", 1), ("epochs", "cost.epochs_run", None, 1),
                  ("s/epoch", "cost.seconds_per_epoch", None, 2), ("ratings/s", "cost.ratings_per_second", None, 0),
                  ("peak RSS MiB", "cost.peak_train_mb", "low", 0), ("increase MiB", "cost.train_increase_mb", None, 0),
                  ("parameters", "cost.n_parameters", None, 0)])
    if "item_knn" in models:
        lines += ["`item_knn` keeps its neighbour lists and training residuals as buffers (no parameters).", ""]
    exported = [m for m in models if "export.model_bytes" in summary[m]]
    if exported:
        reps = next(r["export"]["latency_repeats"] for r in results["runs"] if r.get("export"))
        lines += ["## Export (ONNX, precomputed tables) and ONNX Runtime CPU latency", "",
                  f"`anime-gnn export` of each best model (parity-checked); median ms over {reps} runs, 1 intra-op "
                  "thread; new user = a 20-rating history (H = 64); catalog = every anime for one user.", ""]
        lines += table(summary, exported, [("model.onnx MB", "export.model_bytes", "low", 2)]
                       + [(c.replace("_", " ") + " ms", f"export.latency.{c}.median_ms", "low", 2)
                          for c in LATENCY_CASES]
                       + [("parity max diff", "export.parity_max_abs_diff", None, ".1e")],
                       scale={"export.model_bytes": 1e-6})
    lines += _tuning(results)
    failed = [r for r in results["runs"] if "error" in r]
    if failed:
        lines += ["## Failures", ""] + [f"* {r['model']} seed {r['seed']}: `{r['error'].splitlines()[0]}`"
                                        for r in failed] + [""]
    return "\n".join(lines)
