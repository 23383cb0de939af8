"""Hostile ids and broken stored data in the page (issue 17, defect 2), in a real Chromium.

Object-prototype names are no anime; an import is checked whole before anything is stored; a
stored entry the page cannot use is skipped and reported, and the page still starts.
"""

from __future__ import annotations

import json

import pytest

from tests.web import harness

pytestmark = [pytest.mark.browser, pytest.mark.slow]
KEY = "anime-gnn:ratings:v1"
PROTO = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"]


def stored(page):
    return page.evaluate(f"localStorage.getItem('{KEY}')")


def known_ids(export_dir, n: int) -> list[str]:
    display = json.loads((export_dir / "anime_display.json").read_text())
    return [str(e["id"]) for e in display[1:n + 1]]


def test_prototype_names_are_not_anime(browser, site, export_dir):
    page = harness.open_page(browser, site)
    first = known_ids(export_dir, 1)[0]
    display = json.loads((export_dir / "anime_display.json").read_text())
    unknown = max(e["id"] for e in display[1:]) + 1   # an id no catalog anime has
    got = page.evaluate("""([names, first, unknown]) => {
        const m = window.animeGnn.model;
        return {proto: names.map((n) => m.indexOf(n)), first: m.indexOf(first), number: m.indexOf(Number(first)),
                padding: m.indexOf(unknown), empty: m.indexOf('')};
    }""", [PROTO, first, unknown])
    assert got == {"proto": [None] * len(PROTO), "first": 1, "number": 1, "padding": None, "empty": None}


def test_bad_import_changes_nothing_and_bad_entries_are_skipped(browser, site, export_dir, tmp_path):
    page = harness.open_page(browser, site)
    a, b = known_ids(export_dir, 2)
    page.evaluate(f"localStorage.setItem('{KEY}', JSON.stringify([{{id: '{a}', rating: 7, at: 'x'}}]))")
    page.reload()
    page.wait_for_selector('#recs[data-state=done][data-history-size="1"]')
    before = stored(page)
    for name, text in [("broken.json", '{"ratings": [{"anime_id": '), ("other.json", '{"items": []}'),
                       ("text.json", "just text")]:
        (tmp_path / name).write_text(text)
        page.set_input_files("#import-ratings", str(tmp_path / name))
        page.wait_for_selector(f'#rated-note:has-text("Could not import {name}")')
        assert "Nothing was changed." in page.text_content("#rated-note")
        assert stored(page) == before
    # The file: the prototype name is skipped and reported, the valid rating imported.
    hostile = {"ratings": [{"anime_id": n, "rating": 8} for n in PROTO] + [{"anime_id": b, "rating": 9}]}
    (tmp_path / "hostile.json").write_text(json.dumps(hostile))
    page.set_input_files("#import-ratings", str(tmp_path / "hostile.json"))
    page.wait_for_selector('#recs[data-state=done][data-history-size="2"]')
    note = page.text_content("#rated-note").splitlines()
    assert note[1:] == [f"read {len(PROTO) + 1} entries (anime-gnn-json): 1 rated, 0 without a score (left out of "
                        f"recommendations), 0 plan-to-watch (marked, not ratings)", f"skipped: {len(PROTO)} invalid"]
    assert [x["id"] for x in json.loads(stored(page))] == [a, b]
    page.reload()
    page.wait_for_selector('#recs[data-state=done][data-history-size="2"]')
    assert page.console_errors == []


@pytest.mark.parametrize("value, skipped", [
    ('[{"id":"constructor","rating":8},{"id":"__proto__","rating":9},{"id":"toString","rating":7},'
     '{"id":"%s","rating":11},{"id":"%s","rating":"x"},"garbage",null,7,{"id":"%s","rating":7}]', 8),
    ("{not json", None),
    ('{"constructor": 1}', None),
])
def test_unusable_stored_entries_are_skipped_and_reported(browser, site, export_dir, value, skipped):
    a, b, c = known_ids(export_dir, 3)
    page = harness.open_page(browser, site)
    page.evaluate("([key, value]) => localStorage.setItem(key, value)",
                  [KEY, value % (a, b, c) if "%s" in value else value])
    page.reload()
    page.wait_for_selector("body[data-state=ready]", state="attached")
    note = page.text_content("#rated-note")
    if skipped:
        page.wait_for_selector('#recs[data-state=done][data-history-size="1"]')
        assert f"{skipped} stored entries could not be used" in note
        assert page.eval_on_selector_all("#rated li", "els => els.map(e => e.dataset.animeId)") == [c]
    else:
        page.wait_for_selector("#recs[data-history-size='0']", state="attached")
        assert "The ratings stored in this browser could not be read and were ignored." in note
    assert page.text_content("#error") == "" and page.is_enabled("#search")
