"""``results.md`` and ``scaling.png`` of :mod:`benchmarks.scaling` from its ``results.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

GIB8 = 8 * 1024  # the memory budget at 60M, MiB


def _n(v: float | None, digits: int = 0) -> str:
    return "n/a" if v is None else f"{v:,.{digits}f}"


def _table(rows: list[dict[str, Any]], models: list[str]) -> list[str]:
    head = ["ratings", "users", "train ratings", "generate s", "generate MiB", "preprocess s", "preprocess MiB"]
    for m in models:
        head += [f"{m} ratings/s", f"{m} s/step (encoder fwd)", f"{m} train MiB", f"{m} eval MiB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in rows:
        cells = [_n(r["ratings"]), _n(r["users"]), _n(r["train_ratings"]), _n(r["generate"]["seconds"]),
                 _n(r["generate"]["peak_mb"]), _n(r["preprocess"]["seconds"]), _n(r["preprocess"]["peak_mb"])]
        for m in models:
            t, e = r["train"].get(m, {}), r["evaluate"].get(m, {})
            cells += [_n(t.get("ratings_per_second")),
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
             f"and the item encoder's forward pass over the whole graph {t['encoder_forward_seconds_per_step']:.2f} s "
             "(its backward is inside the sparse products below)"
             + (f"; the encoder's forward and backward alone took {p['encoder_forward_backward_seconds']:.2f} s"
                if p.get("encoder_forward_backward_seconds") is not None else "") + ".", "",
             "| operator | calls | self CPU ms | share |", "|---|---:|---:|---:|"]
    lines += [f"| `{o['op']}` | {o['calls']} | {_n(o['self_cpu_ms'], 1)} | {o['share']:.1%} |" for o in p["top"][:12]]
    return lines


def markdown(res: dict[str, Any], notes: str = "") -> str:
    rows, st, m = res["rows"], res["settings"], res["machine"]
    models = st["models"]
    commands = sorted({r.get("command", res["command"]) for r in rows})
    lines = ["# Scaling: 1M to 60M ratings on one machine", "",
             "* Command(s): " + "; ".join(f"`{c}`" for c in commands) + f"; git `{res['git']['commit']}`.",
             f"* Machine: {m['platform']}, {m['cpu_count']} CPUs, torch {m['torch']}, "
             f"OMP_NUM_THREADS={m['OMP_NUM_THREADS']}, nice {m['nice']}; shared with other jobs, so timings are "
             "indicative.",
             f"* Data: `anime-gnn generate-sample --n-anime {st['n_anime']} --n-ratings N --ratings-median "
             f"{st['ratings_median']:g} --ratings-max {st['ratings_max']}` (synthetic, MyAnimeList-like users), "
             f"`preprocess --min-ratings {st['min_ratings']}`.",
             f"* Training: {st['steps']} optimizer steps per model after {st['warmup_steps']} warm-up steps, "
             "at each model's default batch (ratings/s = target ratings of the timed steps / their wall time, "
             "batch building included). Peak MiB = the high-water mark of that step's own process "
             "(data loading included). Evaluation: an untrained model (the cost does not depend on the weights) "
             "through the trainer's validation pass, the 2,000-user ranking metrics and the new-user metrics.",
             "", *_table(rows, models), "", "## Evaluation", "", *_evaluation(rows, models), "",
             *_profile(rows)]
    return "\n".join(lines) + ("\n\n" + notes.strip() + "\n" if notes else "\n")


def plot(res: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, models = res["rows"], res["settings"]["models"]
    x = [r["ratings"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    times = {"generate (s)": [r["generate"]["seconds"] for r in rows],
             "preprocess (s)": [r["preprocess"]["seconds"] for r in rows]}
    for mdl in models:
        times[f"{mdl}: one step (s)"] = [r["train"][mdl]["seconds_per_step"] for r in rows]
    for name, ys in times.items():
        axes[0].plot(x, ys, marker="o", label=name)
    axes[0].plot(x, [times["preprocess (s)"][0] * xi / x[0] for xi in x], "k:", label="linear in ratings")
    for mdl in models:
        axes[1].plot(x, [r["train"][mdl]["ratings_per_second"] for r in rows], marker="o", label=mdl)
    mem = {"generate": [r["generate"]["peak_mb"] for r in rows], "preprocess": [r["preprocess"]["peak_mb"] for r in rows]}
    for mdl in models:
        mem[f"{mdl} train"] = [r["train"][mdl]["peak_train_mb"] for r in rows]
        if all(r["evaluate"].get(mdl) for r in rows):
            mem[f"{mdl} evaluate"] = [r["evaluate"][mdl]["peak_mb"] for r in rows]
    for name, ys in mem.items():
        axes[2].plot(x, ys, marker="o", label=name)
    axes[2].axhline(GIB8, color="r", ls="--", lw=1, label="8 GiB")
    for ax, ylabel in zip(axes, ("seconds", "training ratings / s", "peak RSS of the process, MiB")):
        ax.set(xscale="log", yscale="log", xlabel="ratings (input)", ylabel=ylabel)
        ax.set_xticks(x, [f"{v / 1e6:,.1f}M" for v in x])
        ax.minorticks_off()
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.suptitle("Scaling with the number of ratings (synthetic, 17.6k-anime catalog; log-log)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
