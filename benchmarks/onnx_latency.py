"""ONNX Runtime CPU latency: precomputed export vs the older request-time export of the same model.

    python benchmarks/onnx_latency.py --model-dir data/model/pytorch --name sample

Writes ``benchmarks/results/onnx_latency_<name>/results.json`` and ``results.md``
(numbers only: no titles or ids). Logic: :mod:`gnn.export.latency`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gnn.export.latency import markdown, run_benchmark  # noqa: E402


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
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "results.md").write_text(markdown(result, args.name))
    print(markdown(result, args.name))


if __name__ == "__main__":
    main()
