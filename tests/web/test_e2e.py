"""The web page in a real Chromium: search, rate, recommend, compare with gnn.inference (ONNX Runtime, Python).

One small model is trained and exported per session from a slice of the embedded (synthetic)
sample (tests/web/conftest.py), so the page sees real catalog-shaped titles, relations and
studios. Each test serves its own staged copy of ``public/`` through :mod:`gnn.serve` (so the real
headers and CSP apply) and drives it with Playwright over Debian's ``/usr/bin/chromium``. Skips
cleanly when Playwright, Chromium or ``public/vendor`` (``make web``) is missing; ``.ci/run``
installs all three.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.web import harness

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = harness.REPO / "test-artifacts"


def rate_from_search(page, query: str, anime_id, rating: int) -> None:
    page.fill("#search", query)
    page.select_option(f'#search-results li[data-anime-id="{anime_id}"] select', str(rating))


def pick_three(display: list) -> list[tuple[dict, str]]:
    """Three anime to rate, with the query that finds each: by romaji (upper case), English, native."""
    with_relation = next(e for e in display[1:] if e and e["relations"] and e["title_native"])
    related = display[with_relation["relations"][0][0]]
    third = next(e for e in display[1:] if e and e["id"] not in (with_relation["id"], related["id"])
                 and e["title_english"] and e["title_english"] != related["title_english"])
    return [(with_relation, with_relation["title_romaji"].upper()),
            (related, related["title_native"][1:]),   # a substring of the native title
            (third, third["title_english"].lower())]


def test_rate_recommend_matches_python(browser, site, export_dir):
    """One visitor's journey: rate three anime, then each control of the page against gnn.inference."""
    from gnn.inference import OnnxRecommender

    model = OnnxRecommender.load(export_dir)
    page = harness.open_page(browser, site)
    assert not page.is_visible("#synthetic-note")  # metadata training.synthetic is false
    chosen = pick_three(model.display)
    ratings = [9, 10, 4]
    for (entry, query), rating in zip(chosen, ratings):
        rate_from_search(page, query, entry["id"], rating)
    page.wait_for_selector('#recs[data-state=done][data-history-size="3"]')

    history = [(e["id"], r) for (e, _), r in zip(chosen, ratings)]
    shown = check_list(page, model, history)
    check_filters(page, model, history, shown)
    check_discover(page, model, history, shown)
    check_similar(page, model, history)
    screenshot(page, chosen[2][1][:4])
    check_persistence(page, history, shown)


def check_list(page, model, history) -> list[dict]:
    """The 24 cards are gnn.inference's list: the same scores, anime, kinds, other entries and reasons."""
    shown = harness.cards(page)
    expected = model.recommend(history=history, k=len(shown))
    assert len(shown) == 24
    rated = {model.anime_index[str(a)] for a, _ in history}
    assert not rated & {c["index"] for c in shown}, "a rated anime was recommended"
    # Same scores as ONNX Runtime in Python, rank by rank and anime by anime (wasm vs CPU: ~1e-6).
    raw = model.score(history=model.history_indices(history))
    for c, row in zip(shown, expected):
        assert c["score"] == pytest.approx(row["predicted_rating"], abs=1e-3)
        assert c["score"] == pytest.approx(float(raw[c["index"]]), abs=1e-3)
    # The same list: one card per franchise, the same anime, kinds, other entries and reasons.
    assert [(c["index"], c["kind"], c["others"], c["reason"]) for c in shown] == [
        (r["anime_index"], r["kind"], [o["anime_index"] for o in r["other_entries"]], r["reason"]) for r in expected]
    franchise_ids = [model.franchises.franchise[c["index"]] for c in shown]
    assert len(set(franchise_ids)) == len(shown)
    assert {"entry", "standalone"} <= {c["kind"] for c in shown}
    assert float(page.get_attribute("#timing", "data-ms")) > 0
    return shown


def check_filters(page, model, history, shown) -> None:
    """A format and a year bound, then a status, give gnn.filters.Filters' lists; cleared afterwards."""
    from gnn.filters import Filters

    first = next(model.display[c["index"]] for c in shown if model.display[c["index"]]["format"]
                 and model.display[c["index"]]["year"] is not None)
    fmt, year = first["format"], int(first["year"])
    page.check(f'#formats input[value="{fmt}"]')
    page.fill("#year-min", str(year))
    page.wait_for_selector("#recs[data-state=done]")
    filtered = model.recommend(history=history, k=24, filters=Filters(formats=frozenset({fmt}), year_min=year))
    got = harness.cards(page)
    assert [c["score"] for c in got] == pytest.approx([r["predicted_rating"] for r in filtered], abs=1e-3)
    assert all(model.display[c["index"]]["format"] == fmt and model.display[c["index"]]["year"] >= year
               for c in got)
    page.uncheck(f'#formats input[value="{fmt}"]')
    page.fill("#year-min", "")
    # Status: only finished anime (the sample has announced and airing ones too).
    statuses = {model.display[c["index"]]["status"] for c in shown}
    page.select_option("#status", "FINISHED")
    page.wait_for_selector("#recs[data-state=done]")
    finished = model.recommend(history=history, k=24, filters=Filters(statuses=frozenset({"FINISHED"})))
    got = harness.cards(page)
    assert [c["index"] for c in got] == [r["anime_index"] for r in finished]
    assert {model.display[c["index"]]["status"] for c in got} == {"FINISHED"} and statuses
    page.select_option("#status", "")


def check_discover(page, model, history, shown) -> None:
    """Lean "discover": the list recommend(..., discover=1) gives (js/recs.js's discounted order)."""
    page.select_option("#discover", "1")
    page.wait_for_selector("#recs[data-state=done]")
    leaned = model.recommend(history=history, k=24, discover=1.0)
    got = harness.cards(page)
    assert [c["index"] for c in got] == [r["anime_index"] for r in leaned]
    assert [c["index"] for c in got] != [c["index"] for c in shown]
    page.select_option("#discover", "0")


def check_similar(page, model, history) -> None:
    """More like this: cosine neighbours as gnn.inference.similar."""
    first = min(model.anime_index[str(a)] for a, _ in history)
    page.click(f'#rated li[data-index="{first}"] button:has-text("More like this")')
    page.wait_for_selector("#similar:not([hidden]) li.card")
    near = harness.cards(page, "#similar-list li.card")
    want = model.similar(model.anime_ids[first], k=len(near))
    assert [c["similarity"] for c in near] == pytest.approx([r["similarity"] for r in want], abs=1e-4)
    page.click("#similar-close")


def screenshot(page, query: str) -> None:
    """Search results, ratings and recommendations at the top of the page; no console errors."""
    page.fill("#search", query)
    page.set_viewport_size({"width": 1280, "height": 1300})
    page.evaluate("window.scrollTo(0, 0)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e.png"))
    assert page.console_errors == []


def check_persistence(page, history, shown) -> None:
    """Ratings persist (localStorage) and round-trip through export, clear and import."""
    page.reload()
    page.wait_for_selector('#recs[data-state=done][data-history-size="3"]')
    assert page.eval_on_selector_all("#rated li", "els => els.length") == 3
    with page.expect_download() as download:
        page.click("#export-ratings")
    exported = json.loads(Path(download.value.path()).read_text())
    assert [(r["anime_id"], r["rating"]) for r in exported["ratings"]] == [(str(a), r) for a, r in history]
    page.once("dialog", lambda d: d.accept())
    page.click("#clear-ratings")
    page.wait_for_selector('#recs[data-history-size="0"]', state="attached")
    page.set_input_files("#import-ratings", download.value.path())
    page.wait_for_selector('#recs[data-state=done][data-history-size="3"]')
    assert [c["score"] for c in harness.cards(page)] == pytest.approx([c["score"] for c in shown], abs=1e-6)


def test_continue_row_matches_python(browser, site, export_dir):
    """Rate the first entry of a franchise: the "Continue your series" row is gnn.inference.continue_series's
    list, less the anime already a card of the main list; hidden with nothing rated."""
    from gnn.inference import OnnxRecommender

    model = OnnxRecommender.load(export_dir)
    page = harness.open_page(browser, site)
    assert not page.is_visible("#continue-row")
    fr = model.franchises
    for first in (a for a in range(1, model.n_anime) if fr.size(int(fr.franchise[a])) > 2 and not fr.preds[a]):
        history = [(model.anime_ids[first], 9)]
        main = {r["anime_index"] for r in model.recommend(history=history, k=24)}
        want = [r for r in model.continue_series(history=history, k=100) if r["anime_index"] not in main][:12]
        if want:
            break
    entry = model.display[first]
    rate_from_search(page, entry["title_romaji"], entry["id"], 9)
    page.wait_for_selector('#recs[data-state=done][data-history-size="1"]')
    got = harness.cards(page, "#continue-list li.card")
    assert page.is_visible("#continue-row") and want[0]["reason"].endswith("which you rated 9")
    assert [(c["index"], c["reason"]) for c in got] == [(r["anime_index"], r["reason"]) for r in want]
    assert [c["score"] for c in got] == pytest.approx([r["predicted_rating"] for r in want], abs=1e-3)
    assert page.console_errors == []


def test_title_folding_in_browser(browser, site):
    page = harness.open_page(browser, site)
    fold = page.evaluate("""async () => {
        const { fold, TitleIndex } = await import('./js/search.js');
        const index = new TitleIndex([null,
            {title: 'Pokémon', title_romaji: 'Poketto Monsutā', popularity: 1},
            {title: 'Re:Zero', title_native: 'Ｒｅ：ゼロから', popularity: 2}]);
        return {fold: fold('  Ｒｅ：ＺＥＲＯ — Pokémon! '), poke: index.search('pokemon'),
                monsuta: index.search('MONSUTA'), rezero: index.search('rezero'), native: index.search('ゼロ'),
                none: index.search('digimon')};
    }""")
    assert fold == {"fold": "re zero pokemon", "poke": [1], "monsuta": [1], "rezero": [2], "native": [2],
                    "none": []}


def test_history_input_has_one_slot_per_entry_and_keeps_the_last_H(browser, site, export_dir):
    """The page feeds a history at its own length (one padding slot for none) and, beyond the cap H, the
    most recent H entries, like gnn.inference; a cap of 4 here, set on both sides, so the tiny catalog exceeds it."""
    from gnn.inference import OnnxRecommender

    model = OnnxRecommender.load(export_dir)
    H = model.max_history = 4
    ids = [e["id"] for e in model.display[1:] if e][: H + 6]
    pairs = [[a, float(1 + i % 10)] for i, a in enumerate(ids)]
    page = harness.open_page(browser, site)
    got = page.evaluate("""async ([pairs, H]) => {
        const m = window.animeGnn.model;
        m.maxHistory = H;
        const empty = m.historyTensors([]);
        const short = m.historyTensors([[5, 7]]);
        const long = m.historyTensors(pairs.map(([id, r]) => [m.indexOf(id), r]));
        const scores = Array.from((await window.animeGnn.scoreHistory(pairs)).scores);
        return {emptyAnime: Array.from(empty.hist_anime.data, Number), dynamic: m.historyDynamic,
                shortAnime: Array.from(short.hist_anime.data, Number), shortRating: Array.from(short.hist_rating.data),
                longAnime: Array.from(long.hist_anime.data, Number), scores};
    }""", [pairs, H])
    assert got["dynamic"] and got["emptyAnime"] == [0]
    assert got["shortAnime"] == [5] and got["shortRating"] == [7]
    history = model.history_indices([(a, r) for a, r in pairs])
    assert got["longAnime"] == [a for a, _ in history[-H:]] == [model.anime_index[str(a)] for a in ids[-H:]]
    assert got["scores"] == pytest.approx(model.score(history=history).tolist(), abs=1e-3, nan_ok=True)


def test_hostile_catalog_text_broken_covers_synthetic_note(browser, tmp_path, export_dir):
    model_dir = tmp_path / "model"
    shutil.copytree(export_dir, model_dir)
    display = json.loads((model_dir / "anime_display.json").read_text())
    evil = '<img src=x id=pwned onerror="document.title=1">Evil & <b>bold</b>'
    display[1]["title"] = evil
    for e in display[1:]:
        e["cover"] = "https://127.0.0.1:9/cover.jpg"  # refused at once: every cover fails to load
    display[2]["cover"] = "javascript:alert(1)"
    harness.rewrite_export_file(model_dir, "anime_display.json", json.dumps(display).encode())
    meta = json.loads((model_dir / "onnx_model_metadata.json").read_text())
    assert meta["training"]["synthetic"] is False  # the fixture's input has no dataset.json
    meta["training"]["synthetic"] = True           # where the exporter writes the flag
    (model_dir / "onnx_model_metadata.json").write_text(json.dumps(meta))

    server, url = harness.served(tmp_path, model_dir)
    try:
        page = harness.open_page(browser, url)
        assert page.is_visible("#synthetic-note")
        page.fill("#search", "evil")
        # The failed cover is dropped, its placeholder stays.
        page.wait_for_selector('#search-results li[data-index="1"] .cover.placeholder:not(:has(img))')
        assert page.text_content('#search-results li[data-index="1"] .hit-title') == evil
        assert page.query_selector("#pwned") is None
        page.select_option('#search-results li[data-index="1"] select', "8")
        page.wait_for_selector("#recs[data-state=done] li.card")
        page.wait_for_selector("#recs li.card .cover.placeholder:not(:has(img))")
        assert page.eval_on_selector_all('img[src^="javascript"]', "els => els.length") == 0
    finally:
        server.shutdown()


def test_an_export_without_rating_counts_hides_the_lean_menu_and_still_recommends(browser, tmp_path, export_dir):
    """An export written before the display carried rating counts: no "Lean" menu (nothing to discount),
    the model's own order as before."""
    model_dir = tmp_path / "model"
    shutil.copytree(export_dir, model_dir)
    display = json.loads((model_dir / "anime_display.json").read_text())
    for e in display[1:]:
        e.pop("ratings")
    harness.rewrite_export_file(model_dir, "anime_display.json", json.dumps(display).encode())
    server, url = harness.served(tmp_path, model_dir)
    try:
        page = harness.open_page(browser, url)
        page.wait_for_selector("#recs[data-state=done] li.card")
        assert not page.is_visible("#discover-box") and page.is_visible("#top-n")
        assert page.console_errors == []
    finally:
        server.shutdown()


@pytest.mark.parametrize("damage", ["missing", "corrupt", "mismatch"])
def test_model_load_failure_is_explained(browser, tmp_path, export_dir, damage):
    model_dir = None
    if damage != "missing":
        model_dir = tmp_path / "model"
        shutil.copytree(export_dir, model_dir)
        garbage = b"not an onnx model" * 100
        if damage == "corrupt":
            harness.rewrite_export_file(model_dir, "model.onnx", garbage)  # consistent hashes, unreadable model
        else:
            (model_dir / "model.onnx").write_bytes(garbage)  # another file than the metadata describes
    server, url = harness.served(tmp_path, model_dir)
    try:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-state=error]", state="attached", timeout=60_000)
        message = page.text_content("#error")
        expected = {"missing": "onnx_model_metadata.json returned HTTP 404: run `anime-gnn export` first",
                    "corrupt": "onnxruntime-web could not load model.onnx",
                    "mismatch": "model.onnx does not match its metadata"}[damage]
        assert expected in message
        assert page.is_disabled("#search")
    finally:
        server.shutdown()
