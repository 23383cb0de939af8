"""ONNX Runtime CPU latency of the precomputed export vs the older request-time export of the same model.

Used by ``benchmarks/onnx_latency.py``. Both graphs take the same inputs; the
older one (:class:`gnn.export.scorer.RequestTimeScorer`) pools genres, tags,
studios and relations and runs the full first head layer for every candidate
on every request. Timed cases: one (user, anime) pair and the whole catalog,
each for a known user and for a new user with a history.
"""

from __future__ import annotations

import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch

from gnn.export.onnx_export import write_onnx
from gnn.export.parity import session
from gnn.export.scorer import PrecomputedScorer, RequestTimeScorer
from gnn.export.tables import fold_model
from gnn.train.checkpoint import load_model


def _time(sess: ort.InferenceSession, feed: dict, repeats: int, warmup: int = 10) -> dict[str, float]:
    for _ in range(warmup):
        sess.run(["rating"], feed)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        sess.run(["rating"], feed)
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(float(np.median(times)), 3), "p90_ms": round(float(np.percentile(times, 90)), 3)}


def _feeds(n_anime: int, H: int, history_len: int, seed: int) -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    hist = np.zeros((1, H), dtype=np.int64)
    rating = np.zeros((1, H), dtype=np.float32)
    n = min(history_len, H, n_anime - 1)
    hist[0, :n] = rng.choice(np.arange(1, n_anime), size=n, replace=False)
    rating[0, :n] = rng.integers(1, 11, size=n)
    one = np.array([int(rng.integers(1, n_anime))], dtype=np.int64)
    catalog = np.arange(1, n_anime, dtype=np.int64)
    known, new = np.array([1], dtype=np.int64), np.array([0], dtype=np.int64)
    empty_h, empty_r = np.zeros_like(hist), np.zeros_like(rating)
    return {
        "pair_known_user": {"user": known, "hist_anime": empty_h, "hist_rating": empty_r, "anime": one},
        "pair_new_user": {"user": new, "hist_anime": hist, "hist_rating": rating, "anime": one},
        "catalog_known_user": {"user": known, "hist_anime": empty_h, "hist_rating": empty_r, "anime": catalog},
        "catalog_new_user": {"user": new, "hist_anime": hist, "hist_rating": rating, "anime": catalog},
    }


def run_benchmark(model_path: str | Path, max_history: int = 64, history_len: int = 20, repeats: int = 200,
                  threads: int = 1, seed: int = 0) -> dict[str, Any]:
    """Export both styles to a temporary folder and time them; returns a JSON-ready dict (numbers only)."""
    model_path = Path(model_path)
    model, ctx, _ = load_model(model_path if model_path.is_file() else model_path / "best_model.pt")
    torch.set_num_threads(max(1, threads))
    styles = {"precomputed": PrecomputedScorer(fold_model(model), ctx.rating_mean, ctx.rating_std,
                                               ctx.rating_low, ctx.rating_high),
              "request_time": RequestTimeScorer(model)}
    feeds = _feeds(ctx.n_anime, max_history, history_len, seed)
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
                                   **{case: _time(sess, feed, repeats) for case, feed in feeds.items()}}
            results[name] = sess.run(["rating"], feeds["catalog_known_user"])[0]
        # Same model, two graphs: for a known user they must agree.
        out["max_abs_diff_between_styles"] = float(np.abs(results["precomputed"] - results["request_time"]).max())
    p, r = out["styles"]["precomputed"], out["styles"]["request_time"]
    out["speedup_catalog_new_user"] = round(r["catalog_new_user"]["median_ms"] / p["catalog_new_user"]["median_ms"], 2)
    out["speedup_catalog_known_user"] = round(
        r["catalog_known_user"]["median_ms"] / p["catalog_known_user"]["median_ms"], 2)
    return out


def markdown(result: dict[str, Any], title: str) -> str:
    cases = ["pair_known_user", "pair_new_user", "catalog_known_user", "catalog_new_user"]
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
