"""ONNX Runtime CPU latency: precomputed export vs the older request-time export of the same model.

    python benchmarks/onnx_latency.py --model-dir runs/baseline --name sample

For the concat-head model (the baseline), the architecture the request-time style was written for;
the GNN's own export is timed by ``compare.py`` (its latency rows) and ``web_latency.py``.

Writes ``benchmarks/results/onnx_latency_<name>/results.json`` and ``results.md``
(numbers only: no titles or ids). Both graphs take the same inputs; the older one
(:class:`benchmarks.request_time.RequestTimeScorer`) pools genres, tags, studios and relations and runs the
full first head layer for every candidate on every request. Timed cases (:func:`benchmarks.latency.feeds`):
one pair and the whole catalog for a new user with a history, the whole catalog for a known user and
for an empty history.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.latency import feeds as case_feeds, timed  # noqa: E402
from benchmarks.request_time import RequestTimeScorer  # noqa: E402
from gnn.export.onnx_export import write_onnx  # noqa: E402
from gnn.export.parity import session  # noqa: E402
from gnn.export.scorer import PrecomputedScorer  # noqa: E402
from gnn.export.tables import fold_model  # noqa: E402
from gnn.io import finite_or_null, write_json  # noqa: E402
from gnn.models.concat_head import ConcatHeadModel  # noqa: E402
from gnn.train.checkpoint import load_model  # noqa: E402


def run_benchmark(model_path: str | Path, max_history: int = 64, history_len: int = 20, repeats: int = 200,
                  threads: int = 1, seed: int = 0) -> dict[str, Any]:
    """Export both styles to a temporary folder and time them; returns a JSON-ready dict (numbers only)."""
    model_path = Path(model_path)
    model, ctx, _ = load_model(model_path if model_path.is_file() else model_path / "best_model.pt")
    if not isinstance(model, ConcatHeadModel):
        raise SystemExit(f"{model_path}: a {model.name!r} model; the request-time export exists only for the "
                         "concat-head model (baseline)")
    torch.set_num_threads(max(1, threads))
    styles = {"precomputed": PrecomputedScorer(fold_model(model), ctx.rating_mean, ctx.rating_std,
                                               ctx.rating_low, ctx.rating_high),
              "request_time": RequestTimeScorer(model)}
    meta = {"n_anime": ctx.n_anime, "max_history": max_history, "n_user_rows": ctx.n_users}
    feeds = case_feeds(meta, {"user", "hist_anime", "hist_rating", "anime"}, history_len, seed)
    out: dict[str, Any] = {
        "model_name": model.name, "n_anime": ctx.n_anime - 1, "n_users": ctx.n_users - 1,
        "max_history": max_history, "history_len": history_len, "repeats": repeats, "intra_op_threads": threads,
        "onnxruntime": ort.__version__, "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
        "styles": {}}
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for name, module in styles.items():
            path = Path(tmp) / f"{name}.onnx"
            exporter = write_onnx(module, path, max_history)
            sess = session(path, threads)
            ops = sorted({n.op_type for n in onnx.load(str(path)).graph.node})
            out["styles"][name] = {"model_bytes": path.stat().st_size, "exporter": exporter, "n_op_types": len(ops),
                                   **{case: timed(sess, feed, repeats) for case, feed in feeds.items()}}
            results[name] = sess.run(["rating"], feeds["catalog_known_user"])[0]
        # Same model, two graphs: for a known user they must agree.
        out["max_abs_diff_between_styles"] = float(np.abs(results["precomputed"] - results["request_time"]).max())
    p, r = out["styles"]["precomputed"], out["styles"]["request_time"]
    out["speedup_catalog_new_user"] = round(r["catalog_new_user"]["median_ms"] / p["catalog_new_user"]["median_ms"], 2)
    out["speedup_catalog_known_user"] = round(
        r["catalog_known_user"]["median_ms"] / p["catalog_known_user"]["median_ms"], 2)
    return out


def markdown(result: dict[str, Any], title: str) -> str:
    cases = ["pair_new_user", "catalog_known_user", "catalog_new_user", "catalog_empty_history"]
    lines = [f"# ONNX Runtime CPU latency: {title}", "",
             f"{result['model_name']} model, {result['n_anime']:,} anime, history of {result['history_len']} "
             f"(H = {result['max_history']}), {result['repeats']} runs after 10 warm-up, "
             f"{result['intra_op_threads']} intra-op thread(s), onnxruntime {result['onnxruntime']}. "
             "Both graphs keep the user table (for the known-user cases) and float32 tables; "
             "request_time pools genres/tags/studios/relations per request from a frozen encoder output.", "",
             "| export | model.onnx | " + " | ".join(f"{c} median / p90 (ms)" for c in cases) + " |",
             "|---|---:|" + "---:|" * len(cases)]
    for name, s in result["styles"].items():
        cells = " | ".join(f"{s[c]['median_ms']:.2f} / {s[c]['p90_ms']:.2f}" for c in cases)
        lines.append(f"| {name} | {s['model_bytes'] / 1e6:.2f} MB | {cells} |")
    lines += ["", f"Whole catalog, new user: precomputed is {result['speedup_catalog_new_user']}x faster; "
              f"known user: {result['speedup_catalog_known_user']}x. Max |difference| between the two graphs "
              f"(known user, whole catalog): {result['max_abs_diff_between_styles']:.2e}.", ""]
    return "\n".join(lines)




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", required=True, help="training output folder (best_model.pt)")
    parser.add_argument("--name", required=True, help="results go to benchmarks/results/onnx_latency_<name>/")
    parser.add_argument("--repeats", type=int, default=200, help="timed runs per case")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    parser.add_argument("--history-len", type=int, default=20, help="entries in the new user's history")
    parser.add_argument("--max-history", type=int, default=64, help="H of the exported graphs")
    args = parser.parse_args()
    result = run_benchmark(args.model_dir, args.max_history, args.history_len, args.repeats, args.threads)
    out = Path(__file__).resolve().parent / "results" / f"onnx_latency_{args.name}"
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "results.json", finite_or_null(result))
    (out / "results.md").write_text(markdown(result, args.name))
    print(markdown(result, args.name))


if __name__ == "__main__":
    main()
