"""In-browser latency of the web page: time to score every anime for one history (wasm backend).

    python benchmarks/web_latency.py --model-dir public/model/anime_recommender --name sample

Serves a staged copy of ``public/`` with the given export (``gnn.serve``, so the page is
cross-origin isolated as in use), opens it in Debian's Chromium through Playwright (the e2e
test's setup), and times ``Model.score`` inside the page: building the input tensors plus one
``session.run`` over all anime, which is what the page's "Scored N anime in X ms" shows. Runs once
per thread setting; writes ``results.json`` and ``README.md`` to
``benchmarks/results/web_latency_<name>/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gnn.io import finite_or_null, write_json  # noqa: E402
from gnn.serve import serve_in_thread  # noqa: E402
from tests.web import harness  # noqa: E402

TIMED_LOOP = """async ({pairs, warmup, repeats}) => {
  const g = window.animeGnn;
  for (let i = 0; i < warmup; i += 1) await g.scoreHistory(pairs);
  const ms = [];
  for (let i = 0; i < repeats; i += 1) ms.push((await g.scoreHistory(pairs)).ms);
  return {ms, loadMs: g.loadMs, threads: g.threads, isolated: self.crossOriginIsolated,
          nAnime: g.model.nAnime, maxHistory: g.model.maxHistory};
}"""


def history(model_dir: Path, length: int) -> list[list]:
    """``length`` anime spread over the catalog with varied ratings: [[anime_id, rating], ...]."""
    display = json.loads((model_dir / "anime_display.json").read_text())
    ids = [e["id"] for e in display[1:] if e]
    step = max(1, len(ids) // max(1, length))
    return [[ids[i * step], float([9, 7, 8, 10, 6, 5, 8, 9][i % 8])] for i in range(min(length, len(ids)))]


def stats(ms: list[float]) -> dict:
    q = statistics.quantiles(ms, n=10) if len(ms) > 1 else ms * 9
    return {"median_ms": round(statistics.median(ms), 3), "p10_ms": round(q[0], 3), "p90_ms": round(q[-1], 3),
            "min_ms": round(min(ms), 3), "max_ms": round(max(ms), 3), "mean_ms": round(statistics.fmean(ms), 3)}


def measure(model_dir: Path, threads: list[str], repeats: int, warmup: int, history_len: int) -> dict:
    meta = json.loads((model_dir / "onnx_model_metadata.json").read_text())
    pairs = history(model_dir, min(history_len, int(meta["max_history"])))
    runs = []
    with tempfile.TemporaryDirectory(prefix="web-latency-") as tmp:
        site = harness.stage_site(model_dir, Path(tmp) / "site")
        server, url = serve_in_thread(site)
        try:
            with harness.chromium() as context:
                browser_version = context.browser.version if context.browser else None
                for setting in threads:
                    query = "" if setting == "auto" else f"?threads={int(setting)}"
                    page = harness.open_page(context, url + query, timeout_ms=120_000)
                    out = page.evaluate(TIMED_LOOP, {"pairs": pairs, "warmup": warmup, "repeats": repeats})
                    runs.append({"threads_setting": setting, "threads": out["threads"],
                                 "cross_origin_isolated": out["isolated"], "load_ms": round(out["loadMs"], 1),
                                 **stats(out["ms"]), "samples_ms": [round(x, 3) for x in out["ms"]]})
                    page.close()
        finally:
            server.shutdown()
    lock = json.loads((REPO / "package-lock.json").read_text())
    return {
        "benchmark": "web_latency", "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "what": "Model.score in the page: input tensors + one onnxruntime-web session.run scoring every anime "
                "index for one new-user history (user 0), wasm backend; median over repeats after warm-up",
        "model": {"dir": str(model_dir), "model_version": meta.get("model_version"),
                  "model_name": meta.get("model_name"), "n_anime": meta["n_anime"],
                  "max_history": meta["max_history"], "model_onnx_bytes": (model_dir / "model.onnx").stat().st_size,
                  "data_fingerprint": (meta.get("training") or {}).get("data_fingerprint")},
        "history_len": len(pairs), "repeats": repeats, "warmup": warmup,
        "environment": {"browser": f"Chromium {browser_version}" if browser_version else "Chromium",
                        "onnxruntime_web": lock["packages"]["node_modules/onnxruntime-web"]["version"],
                        "cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
                        "machine": platform.machine(), "system": platform.system()},
        "runs": runs,
    }


def markdown(result: dict, name: str) -> str:
    m, env = result["model"], result["environment"]
    lines = [f"# Web latency: {name}", "",
             f"In-browser time to score all {m['n_anime'] - 1:,} anime for one history of {result['history_len']} "
             f"ratings ({result['what']}).", "",
             f"Model `{m['model_name']}` version `{m['model_version']}`, model.onnx {m['model_onnx_bytes'] / 1e6:.2f} MB, "
             f"H = {m['max_history']}. {env['browser']}, onnxruntime-web {env['onnxruntime_web']}, "
             f"{env['cpu_count']} CPUs ({env['machine']}), 1-min load average {env['load_average_1min']} "
             f"during the run. {result['repeats']} repeats after {result['warmup']} warm-up runs; measured "
             f"{result['measured_at']}.", "",
             "| threads | isolated | median ms | p10 ms | p90 ms | min ms | page load ms |",
             "|---|---|---|---|---|---|---|"]
    for r in result["runs"]:
        lines.append(f"| {r['threads']} ({r['threads_setting']}) | {r['cross_origin_isolated']} | {r['median_ms']:.2f} | "
                     f"{r['p10_ms']:.2f} | {r['p90_ms']:.2f} | {r['min_ms']:.2f} | {r['load_ms']:.0f} |")
    if env["load_average_1min"] > env["cpu_count"]:
        lines += ["", f"The machine was busy with other work (load {env['load_average_1min']} on {env['cpu_count']} CPUs): "
                  "read the medians as upper bounds; `min` is closer to an idle machine."]
    lines += ["", "Reproduce: `python benchmarks/web_latency.py --model-dir <export folder> --name <name>` "
              "(needs `make web`, `/usr/bin/chromium` and the Python `playwright` package).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", type=Path, default=REPO / "public" / "model" / "anime_recommender",
                        help="an `anime-gnn export` folder")
    parser.add_argument("--name", default="sample", help="results go to benchmarks/results/web_latency_<name>/")
    parser.add_argument("--threads", default="auto,2",
                        help="comma-separated wasm thread settings; auto = what the page picks (onnxruntime-web default)")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--history-len", type=int, default=20, help="ratings in the history (capped at H)")
    args = parser.parse_args(argv)
    reason = harness.missing_requirement()
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 2
    if not (args.model_dir / "onnx_model_metadata.json").exists():
        print(f"error: {args.model_dir}: not an export folder (run `anime-gnn export`)", file=sys.stderr)
        return 2
    start = time.perf_counter()
    result = measure(args.model_dir.resolve(), args.threads.split(","), args.repeats, args.warmup, args.history_len)
    out = REPO / "benchmarks" / "results" / f"web_latency_{args.name}"
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "results.json", finite_or_null(result))
    (out / "README.md").write_text(markdown(result, args.name))
    print(markdown(result, args.name))
    print(f"wrote {out}/ in {time.perf_counter() - start:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
