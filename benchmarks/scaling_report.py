"""``results.md`` and ``scaling.png`` of :mod:`benchmarks.scaling` from its ``results.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

GIB8 = 8 * 1024  # the memory budget at 60M, MiB


def row_runs(row: dict[str, Any], res: dict[str, Any]) -> list[dict[str, Any]]:
    """The runs (command, git) a row's numbers come from; rows written before rows listed them have the
    run's own (or the results') command and commit."""
    return row.get("runs") or [{"command": row.get("command", res["command"]), "git": row.get("git", res["git"])}]


def _n(v: float | None, digits: int = 0) -> str:
    return "n/a" if v is None else f"{v:,.{digits}f}"


def _table(rows: list[dict[str, Any]], models: list[str]) -> list[str]:
    head = ["ratings", "users", "train ratings", "generate s", "generate MiB", "preprocess s", "preprocess MiB"]
    for m in models:
        head += [f"{m} setup s", f"{m} ratings/s", f"{m} s/step (encoder fwd)", f"{m} train MiB", f"{m} eval MiB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in rows:
        pre = r["preprocess"] or {}
        cells = [_n(r["ratings"]), _n(r["users"]), _n(r["train_ratings"]), _n(r["generate"]["seconds"]),
                 _n(r["generate"]["peak_mb"]), _n(pre.get("seconds")), _n(pre.get("peak_mb"))]
        for m in models:
            t, e = r["train"].get(m, {}), r["evaluate"].get(m, {})
            cells += [_n(t.get("setup_seconds")), _n(t.get("ratings_per_second")),
                      f"{_n(t.get('seconds_per_step'), 2)} ({_n(t.get('encoder_forward_seconds_per_step'), 2)})",
                      _n(t.get("peak_train_mb")), _n(e.get("peak_mb"))]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _evaluation(rows: list[dict[str, Any]], models: list[str]) -> list[str]:
    lines = ["| ratings | model | validation rows | validation s | ranking s (users) | new users s (users) | peak MiB |",
             "|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        for m in models:
            e = r["evaluate"].get(m)
            if not e:
                continue
            v, k, n = e["rows"]["val_accuracy"], e["rows"]["ranking"], e["rows"]["new_users"]
            lines.append(f"| {_n(r['ratings'])} | {m} | {_n(v.get('n'))} | {_n(v['seconds'], 1)} | "
                         f"{_n(k['seconds'], 1)} ({k['result']}) | {_n(n['seconds'], 1)} ({n['result']}) | "
                         f"{_n(e['peak_mb'])} |")
    return lines


def _import(rows: list[dict[str, Any]]) -> list[str]:
    done = [r for r in rows if r.get("import_mal")]
    if not done:
        return []
    lines = ["## `anime-gnn import mal` (the data written as the Kaggle 2020 dump)", "",
             "| ratings | users | seconds | peak MiB |", "|---:|---:|---:|---:|"]
    lines += [f"| {_n(r['import_mal']['ratings'])} | {_n(r['import_mal']['users'])} | {_n(r['import_mal']['seconds'])} "
              f"| {_n(r['import_mal']['peak_mb'])} |" for r in done]
    return lines + [""]


def _profile(rows: list[dict[str, Any]]) -> list[str]:
    prof = [(r, r["train"]["gnn"]["profile"]) for r in rows if r["train"].get("gnn", {}).get("profile")]
    if not prof:
        return []
    r, p = prof[-1]
    t = r["train"]["gnn"]
    lines = [f"## Where a GNN step goes at {_n(r['ratings'])} ratings", "",
             f"One training step after the timed ones, under `torch.profiler` (CPU): "
             f"{_n(p['total_self_cpu_ms'])} ms of operator self time. Timed steps: "
             f"{t['seconds_per_step']:.2f} s per step, of which building the batch {t['data_seconds_per_step']:.2f} s "
             f"and the item encoder's forward pass over the step's rating graph {t['encoder_forward_seconds_per_step']:.2f} s "
             "(its backward is inside the sparse products below)"
             + (f"; the encoder's forward and backward over the whole graph alone took "
                f"{p['encoder_forward_backward_seconds']:.2f} s"
                if p.get("encoder_forward_backward_seconds") is not None else "") + ".", "",
             "| operator | calls | self CPU ms | share |", "|---|---:|---:|---:|"]
    lines += [f"| `{o['op']}` | {o['calls']} | {_n(o['self_cpu_ms'], 1)} | {o['share']:.1%} |" for o in p["top"][:12]]
    return lines


def markdown(res: dict[str, Any], notes: str = "") -> str:
    rows, st, m = res["rows"], res["settings"], res["machine"]
    models = st["models"]
    runs = dict.fromkeys((run["command"], run["git"]["commit"][:7]) for r in rows for run in row_runs(r, res))
    lines = ["# Scaling: 1M to 60M ratings on one machine", "",
             "* Command(s): " + "; ".join(f"`{c}` (git `{g}`)" for c, g in runs) + ".",
             f"* Machine: {m['platform']}, {m['cpu_count']} CPUs, torch {m['torch']}, "
             f"OMP_NUM_THREADS={m['OMP_NUM_THREADS']}, nice {m['nice']}; timings are indicative (what else ran "
             "beside a job, if anything, is in the notes below).",
             f"* Data: `anime-gnn generate-sample --n-anime {st['n_anime']} --n-ratings N --ratings-median "
             f"{st['ratings_median']:g} --ratings-max {st['ratings_max']}` (synthetic, MyAnimeList-like users), "
             f"`preprocess --min-ratings {st['min_ratings']}`.",
             f"* Training: {st['steps']} optimizer steps per model after {st['warmup_steps']} warm-up steps, "
             "at each model's default batch (ratings/s = target ratings of the timed steps / their wall time, "
             "batch building included); setup s = building the model (the GNN's graph and co-rated table). "
             "Peak MiB = the high-water mark of that step's own process "
             "(data loading included). Evaluation: an untrained model (the cost does not depend on the weights) "
             "through the trainer's validation pass, the 2,000-user ranking metrics and the new-user metrics.",
             "", *_table(rows, models), "", "## Evaluation", "", *_evaluation(rows, models), "",
             *_import(rows), *_profile(rows)]
    return "\n".join(lines) + ("\n\n" + notes.strip() + "\n" if notes else "\n")


def plot(res: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    rows, models = res["rows"], res["settings"]["models"]

    def series(get) -> tuple[list[float], list[float]]:
        """(x, y) of the rows that have the value."""
        pts = [(r["ratings"], get(r)) for r in rows]
        pts = [(a, b) for a, b in pts if b is not None]
        return [a for a, _ in pts], [b for _, b in pts]

    def pre(key: str):
        return lambda r: (r["preprocess"] or {}).get(key)

    def train(mdl: str, key: str):
        return lambda r: r["train"].get(mdl, {}).get(key)

    def ev(mdl: str):
        return lambda r: r["evaluate"].get(mdl, {}).get("peak_mb")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    times = {"generate (s)": lambda r: r["generate"]["seconds"], "preprocess (s)": pre("seconds"),
             **{f"{m}: one step (s)": train(m, "seconds_per_step") for m in models}}
    for name, get in times.items():
        axes[0].plot(*series(get), marker="o", label=name)
    gx, gy = series(times["generate (s)"])
    axes[0].plot(gx, [gy[0] * xi / gx[0] for xi in gx], "k:", label="linear in ratings")
    for mdl in models:
        axes[1].plot(*series(train(mdl, "ratings_per_second")), marker="o", label=mdl)
    mem = {"generate": lambda r: r["generate"]["peak_mb"], "import mal": lambda r: (r.get("import_mal") or {}).get("peak_mb"),
           "preprocess": pre("peak_mb"),
           **{f"{m} train": train(m, "peak_train_mb") for m in models}, **{f"{m} evaluate": ev(m) for m in models}}
    for name, get in mem.items():
        if series(get)[0]:
            axes[2].plot(*series(get), marker="o", label=name)
    axes[2].axhline(GIB8, color="r", ls="--", lw=1, label="8 GiB")
    x = [r["ratings"] for r in rows]
    for ax, ylabel in zip(axes, ("seconds", "training ratings / s", "peak RSS of the process, MiB")):
        measured = any(len(line.get_xdata()) for line in ax.get_lines())
        ax.set(xscale="log", yscale="log" if measured else "linear", xlabel="ratings (input)", ylabel=ylabel)
        if not measured:   # e.g. --generate-only: nothing trained yet
            ax.text(0.5, 0.5, "not measured", transform=ax.transAxes, ha="center", va="center")
            ax.set_yticks([])
        ax.set_xticks(x, [f"{v / 1e6:,.1f}M" for v in x])
        ax.minorticks_off()
        if not measured:
            continue
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.suptitle("Scaling with the number of ratings (synthetic, 17.6k-anime catalog; log-log)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
