"""ONNX Runtime CPU latency of a deployed export (any model kind), as the CLI runs it.

    python -m benchmarks.latency EXPORT_DIR [--repeats 100] [--threads 1] [--history-len 20]

Cases: one anime and the whole catalog for a new user with a ``history_len``-rating history, and the
whole catalog for an empty history; plus a known user when the export takes a ``user`` input. The
feeds follow the export's own metadata (its inputs, ``max_history``), so the same code times the
GNN export (history in, score and rating out) and the older architecture's export.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gnn.io import dumps_json, finite_or_null  # noqa: E402


def _session(path: Path, threads: int) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def timed(sess: ort.InferenceSession, feed: dict, repeats: int, warmup: int = 10) -> dict[str, float]:
    outputs = [o.name for o in sess.get_outputs()]
    for _ in range(warmup):
        sess.run(outputs, feed)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        sess.run(outputs, feed)
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(float(np.median(times)), 3), "p90_ms": round(float(np.percentile(times, 90)), 3)}


def feeds(meta: dict, inputs: set[str], history_len: int, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Named cases -> ONNX feeds. A history input of free length (``[1, "history"]`` in the metadata) gets
    as many slots as the history has entries (one for none), as the CLI and the page feed it; a fixed
    one is padded to ``max_history``."""
    n, H = int(meta["n_anime"]), int(meta["max_history"])
    dynamic = any(i.get("name") == "hist_anime" and isinstance(i["shape"][1], str) for i in meta.get("inputs", []))
    rng = np.random.default_rng(seed)
    k = min(history_len, H, n - 1)
    slots = (lambda entries: max(1, entries)) if dynamic else (lambda _entries: H)   # input width for a history
    hist = np.zeros((1, slots(k)), dtype=np.int64)
    rating = np.zeros(hist.shape, dtype=np.float32)
    hist[0, :k] = rng.choice(np.arange(1, n), size=k, replace=False)
    rating[0, :k] = rng.integers(1, 11, size=k)
    catalog = np.arange(1, n, dtype=np.int64)
    one = np.array([int(rng.integers(1, n))], dtype=np.int64)
    empty_h, empty_r = np.zeros((1, slots(0)), dtype=np.int64), np.zeros((1, slots(0)), dtype=np.float32)

    def feed(user: int, h: np.ndarray, r: np.ndarray, anime: np.ndarray) -> dict:
        out = {"hist_anime": h, "hist_rating": r, "anime": anime}
        if "user" in inputs:
            out["user"] = np.array([user], dtype=np.int64)
        return out

    cases = {"pair_new_user": feed(0, hist, rating, one), "catalog_new_user": feed(0, hist, rating, catalog),
             "catalog_empty_history": feed(0, empty_h, empty_r, catalog)}
    if "user" in inputs and int(meta.get("n_user_rows", 1)) > 1:
        cases["catalog_known_user"] = feed(1, empty_h, empty_r, catalog)
    return cases


def measure(export_dir: str | Path, repeats: int = 100, threads: int = 1, history_len: int = 20) -> dict:
    export_dir = Path(export_dir)
    meta = json.loads((export_dir / "onnx_model_metadata.json").read_text())
    sess = _session(export_dir / "model.onnx", threads)
    inputs = {i.name for i in sess.get_inputs()}
    return {"threads": threads, "repeats": repeats, "history_len": history_len, "n_anime": int(meta["n_anime"]) - 1,
            "model_bytes": (export_dir / "model.onnx").stat().st_size,
            "latency": {name: timed(sess, f, repeats) for name, f in feeds(meta, inputs, history_len).items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export_dir", help="an `anime-gnn export` folder")
    parser.add_argument("--repeats", type=int, default=100, help="timed runs per case")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    parser.add_argument("--history-len", type=int, default=20, help="ratings in the new user's history")
    args = parser.parse_args()
    print(dumps_json(finite_or_null(measure(args.export_dir, args.repeats, args.threads, args.history_len)), indent=1))


if __name__ == "__main__":
    main()
