"""Tune the neural models' defaults on the validation split: several `anime-gnn train` runs at once.

    python benchmarks/tune.py --data-dir data/processed/mal --out /tmp/tune --device cuda --jobs 8
    python benchmarks/tune.py --data-dir data/processed/mal --out /tmp/tune --only gnn_default baseline_default

Each configuration below is one `anime-gnn train` process (``--quiet``; its log beside its run
folder); ``--jobs`` of them run side by side (on a CPU, set ``--jobs 1``: two cores cannot share).
Writes ``<out>/tune.json`` and ``<out>/tune.md``: validation MAE/RMSE of the best epoch (the
selection criterion), that epoch, the epochs run and the wall time; test metrics are listed
for information only and were not used to choose. The chosen values become the defaults in
``gnn/train/config.py`` and the model configs; the committed table is in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gnn.io import finite_or_null, write_json  # noqa: E402

# name -> (model, extra `anime-gnn train` arguments). Every run uses seed 0 and otherwise the defaults.
CONFIGS: dict[str, tuple[str, list[str]]] = {
    "baseline_default": ("baseline", []),
    "baseline_wd1e-2": ("baseline", ["--weight-decay", "1e-2"]),
    "baseline_dropout0.4": ("baseline", ["--model-option", "dropout=0.4"]),
    "gnn_default": ("gnn", []),
    "gnn_wd1e-2": ("gnn", ["--weight-decay", "1e-2"]),
    "gnn_dropout0.4": ("gnn", ["--model-option", "dropout=0.4"]),
    "gnn_encoder_id32": ("gnn", ["--model-option", "encoder_anime_id_dim=32"]),
    "gnn_lr1e-3": ("gnn", ["--lr", "1e-3"]),
    "gnn_enc_hidden128_drop0.2": ("gnn", ["--model-option", "encoder_hidden=128",
                                          "--model-option", "encoder_dropout=0.2"]),
    "gnn_history0.5": ("gnn", ["--history-frac", "0.5"]),
}


def run_one(name: str, data_dir: Path, out: Path, device: str, threads: int) -> dict:
    model, extra = CONFIGS[name]
    run_dir = out / name
    run_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "cli", "train", "--data-dir", str(data_dir), "--output-dir", str(run_dir),
           "--model", model, "--device", device, "--quiet", *extra]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    with open(out / f"{name}.log", "w") as log:
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT).returncode
    row = {"name": name, "model": model, "args": extra, "rc": rc, "wall_s": round(time.perf_counter() - start, 1)}
    meta_path = run_dir / "model_metadata.json"
    if rc == 0 and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        epoch_log = json.loads((run_dir / "training_history.json").read_text())
        row.update(best_epoch=meta["best_epoch"], epochs_run=len(epoch_log), val=meta["metrics"]["val"],
                   test=meta["metrics"]["test"], val_rmse_per_epoch=[round(h["val_rmse"], 4) for h in epoch_log],
                   train_seconds=meta["train_seconds"])
    return row


def write_table(rows: list[dict], path: Path, header: str) -> None:
    lines = [header, "", "| config | model | extra arguments | best epoch / run | val MAE | val RMSE | "
             "test RMSE (info) | wall |", "|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["model"], r.get("val", {}).get("rmse", 9e9))):
        if "val" not in r:
            lines.append(f"| {r['name']} | {r['model']} | `{' '.join(r['args'])}` | failed (rc {r['rc']}) | | | | |")
            continue
        lines.append(f"| {r['name']} | {r['model']} | `{' '.join(r['args']) or '-'}` | {r['best_epoch']} / "
                     f"{r['epochs_run']} | {r['val']['mae']:.4f} | {r['val']['rmse']:.4f} | "
                     f"{r['test']['rmse']:.4f} | {r['wall_s']:.0f} s |")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, type=Path, help="processed folder (anime-gnn preprocess)")
    parser.add_argument("--out", required=True, type=Path, help="folder for the runs, tune.json and tune.md")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (passed to anime-gnn train)")
    parser.add_argument("--jobs", type=int, default=1, help="configurations trained at the same time")
    parser.add_argument("--threads", type=int, default=2, help="OMP threads per training process")
    parser.add_argument("--only", nargs="+", choices=sorted(CONFIGS), help="run only these configurations")
    args = parser.parse_args(argv)
    names = args.only or list(CONFIGS)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(pool.map(lambda n: run_one(n, args.data_dir, args.out, args.device, args.threads), names))
    for r in rows:
        print(f"{r['name']:28s} rc {r['rc']}  " + (f"val RMSE {r['val']['rmse']:.4f} (epoch {r['best_epoch']}/"
                                                    f"{r['epochs_run']})  {r['wall_s']:.0f} s" if "val" in r else ""))
    write_json(args.out / "tune.json", finite_or_null({"device": args.device, "jobs": args.jobs, "rows": rows,
                                                       "wall_s": round(time.perf_counter() - start, 1)}))
    write_table(rows, args.out / "tune.md", f"Tuning on {args.data_dir} (device {args.device}, {args.jobs} at a "
                                            f"time, seed 0; chosen by val RMSE)")


if __name__ == "__main__":
    main()
