"""Drive the web page in Debian's Chromium with Playwright (shared by the e2e test and benchmarks/web_latency.py).

Never ``playwright install``: the browser is the system package (``apt-get install chromium``),
started with an empty profile and no background networking, so a run touches nothing but the
local server.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[2]
PUBLIC = REPO / "public"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VENDOR_FILES = ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")


def missing_requirement(public: Path = PUBLIC) -> str | None:
    """Why the page cannot be driven here (None if it can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[test]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    missing = [f for f in VENDOR_FILES if not (public / "vendor" / f).exists()]
    if missing:
        return f"{public}/vendor/ lacks {', '.join(missing)} (run `make web`)"
    return None


def stage_site(model_dir: Path, dest: Path, public: Path = PUBLIC) -> Path:
    """A copy of ``public/`` at ``dest`` serving the export ``model_dir`` as model/anime_recommender/."""
    shutil.copytree(public, dest, ignore=shutil.ignore_patterns("model"))
    shutil.copytree(model_dir, dest / "model" / "anime_recommender")
    return dest


@contextmanager
def chromium() -> Iterator[object]:
    """A Playwright browser context of the system Chromium with a fresh, temporary profile."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="anime-gnn-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900})
        try:
            yield context
        finally:
            context.close()


def open_page(context, url: str, timeout_ms: float = 60_000):
    """Open the page and wait until the model is loaded; raise with the page's own message if it failed."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(url)
    # Selector waits, not wait_for_function: the page's CSP forbids the eval that one needs.
    page.wait_for_selector("body[data-state=ready], body[data-state=error]", state="attached", timeout=timeout_ms)
    if page.evaluate("document.body.dataset.state") != "ready":
        raise RuntimeError(f"the page did not load: {page.text_content('#error')} (console: {errors})")
    page.console_errors = errors
    return page


def served(tmp_path: Path, model_dir: Path | None):
    """Stage public/ (with ``model_dir`` as its model, or none) and serve it; returns (server, url)."""
    if model_dir is None:
        site = tmp_path / "site"
        shutil.copytree(PUBLIC, site, ignore=shutil.ignore_patterns("model"))
    else:
        site = stage_site(model_dir, tmp_path / "site")
    from gnn.serve import serve_in_thread

    return serve_in_thread(site)


def cards(page, selector: str = "#recs li.card") -> list[dict]:
    return page.eval_on_selector_all(selector, """els => els.map(e => ({
        index: Number(e.dataset.index), id: e.dataset.animeId,
        score: e.dataset.score === undefined ? null : Number(e.dataset.score),
        similarity: e.dataset.similarity === undefined ? null : Number(e.dataset.similarity),
        kind: e.dataset.kind ?? null, planned: e.dataset.planned === 'true',
        others: [...e.querySelectorAll('.others li')].map(o => Number(o.dataset.index)),
        reason: e.querySelector('.reason')?.textContent ?? null}))""")


def rewrite_export_file(folder: Path, name: str, data: bytes) -> None:
    """Replace one export file and its hash in the metadata (as a consistent export would have it)."""
    (folder / name).write_bytes(data)
    meta = json.loads((folder / "onnx_model_metadata.json").read_text())
    meta["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (folder / "onnx_model_metadata.json").write_text(json.dumps(meta))
