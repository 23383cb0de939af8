"""Time the import of a 1,000-entry list: in the CLI and in the web page (Chromium).

    python benchmarks/list_import.py --model-dir public/model/anime_recommender [--entries 1000]

The list is a synthetic MyAnimeList XML export (invented titles): 90 % of its entries are anime of the
export's catalog (by ``idMal``), 10 % ids no catalog has; statuses and scores vary (about a third
unscored, some plan-to-watch). Measured:

* ``cli_parse_map``: :func:`gnn.listimport.parse_list` + :func:`gnn.mylist.resolve_list` in process,
  on the export's catalog and on a synthetic 28,609-anime catalog (the real MAL catalog's size);
* ``cli_recommend``: the whole ``anime-gnn recommend --list-file FILE --json`` command (a new Python
  process: start-up, loading the export, the import, one scoring run, the list);
* ``page_import``: in Chromium, from choosing the file to the recommendations shown for it (read,
  parse, map, store, one scoring run, render), and the page's own parse + map + store time.

Prints JSON; ``--out FILE`` writes it too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gnn.io import dumps_json, finite_or_null, write_json  # noqa: E402
from gnn.listimport import parse_list  # noqa: E402
from gnn.mylist import resolve_list  # noqa: E402
from tests.web import harness  # noqa: E402

STATUSES = ["Completed"] * 6 + ["Watching", "On-Hold", "Dropped", "Plan to Watch"]


def mal_xml(catalog_ids: list[int], n: int, seed: int = 0) -> str:
    """A synthetic MAL export of ``n`` entries: 90 % from ``catalog_ids``, 10 % unknown ids."""
    rng = random.Random(seed)
    known = rng.sample(catalog_ids, min(len(catalog_ids), int(n * 0.9)))
    ids = known + [10_000_000 + i for i in range(n - len(known))]
    rng.shuffle(ids)
    rows = []
    for i, anime in enumerate(ids):
        status = rng.choice(STATUSES)
        score = 0 if status == "Plan to Watch" or rng.random() < 0.3 else rng.randint(1, 10)
        finish = f"20{rng.randint(10, 24):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" \
            if status == "Completed" else "0000-00-00"
        rows.append(f"\t<anime>\n\t\t<series_animedb_id>{anime}</series_animedb_id>\n"
                    f"\t\t<series_title><![CDATA[Synthetic title {i}]]></series_title>\n"
                    f"\t\t<my_finish_date>{finish}</my_finish_date>\n\t\t<my_score>{score}</my_score>\n"
                    f"\t\t<my_status>{status}</my_status>\n\t</anime>\n")
    return ('<?xml version="1.0" encoding="UTF-8" ?>\n<myanimelist>\n\t<myinfo><user_export_type>1'
            '</user_export_type></myinfo>\n' + "".join(rows) + "</myanimelist>\n")


def median_ms(fn, repeats: int) -> dict:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1), "repeats": repeats}


def measure_cli(model_dir: Path, display: list, data: bytes, path: Path, repeats: int) -> dict:
    big = [None] + [{"id": i, "idMal": i, "idAnilist": None} for i in range(1, 28_610)]
    out = {"parse_map_export_catalog": median_ms(lambda: resolve_list(parse_list(data), display, 1, 10), repeats),
           "parse_map_28609_catalog": median_ms(lambda: resolve_list(parse_list(data), big, 1, 10), repeats)}
    command = [sys.executable, "-m", "cli", "recommend", "--model-dir", str(model_dir), "--list-file", str(path),
               "--json", "--top-k", "24"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out["recommend_command"] = median_ms(lambda: subprocess.run(command, check=True, capture_output=True, env=env,
                                                                cwd=REPO), max(1, repeats // 3))
    return out


def measure_page(model_dir: Path, path: Path, history_size: int, repeats: int) -> dict:
    total, inside = [], []
    with tempfile.TemporaryDirectory(prefix="list-import-") as tmp:
        server, url = harness.served(Path(tmp), model_dir)
        try:
            with harness.chromium() as context:
                page = harness.open_page(context, url, timeout_ms=120_000)
                for _ in range(repeats + 1):  # the first run warms up
                    page.evaluate("localStorage.clear()")
                    page.reload()
                    page.wait_for_selector("#recs[data-state=done][data-mode=start]", timeout=120_000)
                    start = time.perf_counter()
                    page.set_input_files("#import-ratings", str(path))
                    page.wait_for_selector(f'#recs[data-state=done][data-history-size="{history_size}"]'
                                           "[data-mode=personal]", timeout=120_000)
                    total.append((time.perf_counter() - start) * 1000)
                    inside.append(float(page.get_attribute("#rated-note", "data-import-ms")))
        finally:
            server.shutdown()
    return {"choose_file_to_list_shown": {"median_ms": round(statistics.median(total[1:]), 1),
                                          "min_ms": round(min(total[1:]), 1), "repeats": repeats},
            "parse_map_store_in_page": {"median_ms": round(statistics.median(inside[1:]), 1),
                                        "min_ms": round(min(inside[1:]), 1), "repeats": repeats}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="an `anime-gnn export` folder")
    parser.add_argument("--entries", type=int, default=1000, help="list entries")
    parser.add_argument("--repeats", type=int, default=9, help="timed runs per measurement")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args()
    display = json.loads((args.model_dir / "anime_display.json").read_text())
    ids = [e["idMal"] for e in display[1:] if e and isinstance(e.get("idMal"), int)]
    if not ids:
        sys.exit("error: this export's catalog has no idMal (re-export it with this version)")
    with tempfile.TemporaryDirectory(prefix="list-import-") as tmp:
        path = Path(tmp) / "animelist.xml"
        path.write_text(mal_xml(ids, args.entries), encoding="utf-8")
        data = path.read_bytes()
        meta = json.loads((args.model_dir / "onnx_model_metadata.json").read_text())
        imported = resolve_list(parse_list(data), display, float(meta["rating_scale"]["low"]),
                                float(meta["rating_scale"]["high"]))
        result = {"entries": args.entries, "bytes": len(data), "counts": imported.counts,
                  "catalog_anime": len(display) - 1, "cpus": os.cpu_count(),
                  "load_average_1min": round(os.getloadavg()[0], 2),
                  "cli": measure_cli(args.model_dir, display, data, path, args.repeats),
                  "page": measure_page(args.model_dir, path, len(imported.ratings), args.repeats)}
    result = finite_or_null(result)
    print(dumps_json(result))
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
