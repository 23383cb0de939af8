"""ONNX inference (numpy + onnxruntime): scores, exclusion, filters, reasons, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gnn.errors import UsageError
from gnn.filters import Filters
from gnn.inference import OnnxRecommender
from tests.export import tiny


@pytest.fixture(scope="session")
def rec(tmp_path_factory) -> OnnxRecommender:
    return OnnxRecommender.load(tiny.exported(tmp_path_factory))


def test_inference_does_not_import_torch():
    code = "import sys, gnn.inference; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


def test_scores_are_finite_and_depend_on_the_history(rec):
    empty = rec.score()
    assert empty.shape == (rec.n_anime,) and np.isfinite(empty).all()
    assert np.isfinite(rec.score(user=rec.known_user("u001"))).all()
    a = rec.score(history=[(1, 10.0), (2, 9.0)])
    b = rec.score(history=[(1, 2.0), (2, 1.0)])
    c = rec.score(history=[(10, 10.0)])
    assert np.abs(a - b).max() > 1e-3 and np.abs(a - c).max() > 1e-3


def test_recommend_excludes_rated_anime(rec):
    history = [(1, 9), (5, 3), (7, 8)]
    rows = rec.recommend(history=history, k=100, group=False)
    ids = [r["anime_id"] for r in rows]
    assert not {1, 5, 7} & set(ids) and len(ids) == tiny.N_ANIME - 3
    assert ids.count(ids[0]) == 1 and [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    # Ordered by the ranking score ("will watch" and "will like"); the predicted rating is shown.
    assert all(rows[i]["ranking_score"] >= rows[i + 1]["ranking_score"] for i in range(len(rows) - 1))
    assert all(1 <= r["predicted_rating"] <= 10 for r in rows)
    assert {1, 5, 7} <= {r["anime_id"] for r in rec.recommend(history=history, k=100, exclude_rated=False,
                                                                group=False)}
    # A known user: everything they rated in the data is left out.
    user = rec.known_user("u002")
    rated_ids = {rec.anime_ids[a] for a in rec.rated_by(user)}
    assert rated_ids and not rated_ids & {r["anime_id"] for r in rec.recommend(user_id="u002", k=100, group=False)}
    grouped = rec.recommend(user_id="u002", k=100)
    listed = {r["anime_id"] for r in grouped} | {o["anime_id"] for r in grouped for o in r["other_entries"]}
    assert not rated_ids & listed and len(listed) == tiny.N_ANIME - len(rated_ids)


def test_filters(rec):
    rows = rec.recommend(history=[], k=100, filters=Filters(formats=frozenset({"movie"}), year_min=2002,
                                                             year_max=2005))
    assert rows and all(r["format"] == "MOVIE" and 2002 <= r["year"] <= 2005 for r in rows)
    assert len(rows) == 4  # season 2 of franchises 2..5
    # A year filter drops anime without a year (the bare one).
    assert "Bare" not in {r["title"] for r in rec.recommend(history=[], k=100, filters=Filters(year_min=1900))}
    assert "Bare" in {r["title"] for r in rec.recommend(history=[], k=100)}


def test_adult_titles_are_left_out_unless_asked_for(rec, tmp_path):
    """Anime 2 and 31 marked Hentai / Erotica in a copy of the export: gone from lists, the continue row
    and "more like this" unless ``adult``; "more like this" of an adult title may list adult ones."""
    import hashlib
    import shutil

    folder = shutil.copytree(rec.folder, tmp_path / "export")
    display = json.loads((folder / "anime_display.json").read_text())
    display[2]["genres"] = [*display[2]["genres"], "Hentai"]
    display[31]["genres"] = ["Erotica"]
    data = json.dumps(display).encode()
    (folder / "anime_display.json").write_bytes(data)
    meta = json.loads((folder / "onnx_model_metadata.json").read_text())
    meta["files"]["anime_display.json"] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (folder / "onnx_model_metadata.json").write_text(json.dumps(meta))
    marked = OnnxRecommender.load(folder)

    def listed(rows):
        return {r["anime_index"] for r in rows} | {o["anime_index"] for r in rows for o in r.get("other_entries", [])}

    assert not listed(marked.recommend(history=[], k=100)) & {2, 31}
    assert {2, 31} <= listed(marked.recommend(history=[], k=100, filters=Filters(adult=True)))
    assert listed(rec.recommend(history=[], k=100)) >= {2, 31}                       # the unmarked export lists them
    assert [r["anime_index"] for r in marked.continue_series(history=[(1, 9)])] == []    # S2 was the next entry
    assert [r["anime_index"] for r in marked.continue_series(history=[(1, 9)], filters=Filters(adult=True))] == [2]
    assert not {r["anime_index"] for r in marked.similar(1, k=30)} & {2, 31}
    assert 31 in {r["anime_index"] for r in marked.similar(2, k=30)}                   # adult next to adult


def test_status_filter_keeps_only_those_statuses_and_drops_unknown_ones(rec):
    def listed(*statuses: str) -> set[str]:
        rows = rec.recommend(history=[], k=100, group=False, filters=Filters(statuses=frozenset(statuses)))
        return {r["title"] for r in rows}

    assert listed("RELEASING", "not_yet_released") == {"Show 8 S3", "Show 9 S3"}
    finished = listed("FINISHED")
    assert len(finished) == tiny.N_ANIME - 3 and "Bare" not in finished  # airing, announced and unknown left out


def test_reason_names_the_prequel_of_a_sequel(rec):
    rows = {r["title"]: r for r in rec.recommend(history=[(1, 10), (8, 2)], k=100, group=False)}
    assert rows["Show 0 S2"]["reason"] == "sequel of Show 0 S1, which you rated 10"
    assert not rows["Show 0 S3"]["reason"].startswith("sequel of")   # S2 is its prequel, not rated
    # Liked S3 only: S2 is its prequel.
    rows = {r["title"]: r for r in rec.recommend(history=[(3, 9)], k=100, group=False)}
    assert rows["Show 0 S2"]["reason"] == "prequel of Show 0 S3, which you rated 9"
    # Nothing liked: a genre reason, never an empty one.
    assert all(r["reason"] for r in rec.recommend(history=[(8, 2)], k=100))


def test_unknown_ids_are_listed_in_one_error(rec):
    with pytest.raises(UsageError, match=r"unknown anime id\(s\).*: 999, abc, 1000$"):
        rec.recommend(history=[(1, 9), (999, 8), ("abc", 7), (1000, 3)])
    with pytest.raises(UsageError, match="outside the 1-10 scale: 2:11"):
        rec.recommend(history=[(1, 9), (2, 11)])
    with pytest.raises(UsageError, match="unknown user id"):
        rec.recommend(user_id="nobody")


def test_repeated_anime_keep_their_last_rating(rec):
    assert rec.history_indices([(1, 3), (2, 8), (1, 9)]) == [(2, 8.0), (1, 9.0)]  # last rating, last place

    def predicted(history):
        return {r["anime_id"]: r["predicted_rating"] for r in rec.recommend(history=history, k=100, group=False)}

    repeated = predicted([(1, 3), (2, 8), (1, 9)])
    assert repeated == predicted([(2, 8), (1, 9)])
    assert repeated != predicted([(2, 8), (1, 3)])  # what keeping the first rating would give


def test_one_card_per_franchise_at_its_entry_point_or_next_entry(rec):
    """Tiny catalog: 10 franchises S1 -> S2 -> S3 (anime ids 3f+1..3f+3) and a bare anime (31)."""
    rows = rec.recommend(history=[], k=100)
    assert len(rows) == 11 and {r["anime_id"] for r in rows} == {3 * f + 1 for f in range(10)} | {31}
    assert all(r["kind"] == ("standalone" if r["anime_id"] == 31 else "entry") for r in rows)
    s1 = next(r for r in rows if r["anime_id"] == 1)
    assert s1["reason"] == "start of the Show 0 S1 series (3 entries)" and s1["series_size"] == 3
    assert sorted(o["anime_id"] for o in s1["other_entries"]) == [2, 3]
    others = [o["ranking_score"] for o in s1["other_entries"]]   # in walk order: by ranking score
    assert others == sorted(others, reverse=True) and set(s1["other_entries"][0]) == {
        "anime_id", "anime_index", "title", "predicted_rating", "ranking_score", "format", "year"}
    # Rated season 1 only: season 2 is offered, season 3 hangs off its card.
    rows = rec.recommend(history=[(1, 9)], k=100)
    card = next(r for r in rows if r["anime_id"] in (2, 3))
    assert card["anime_id"] == 2 and card["kind"] == "next"
    assert card["reason"] == "sequel of Show 0 S1, which you rated 9"
    assert [o["anime_id"] for o in card["other_entries"]] == [3]
    # An entry point that shares its studio with the liked season names it (franchises 0 and 5: Studio 0).
    assert next(r for r in rows if r["anime_id"] == 16)["reason"] == \
        "same studio (Studio 0) as Show 0 S1 (you rated 9); start of its series (3 entries)"
    # Cards rank by their walked anime: the list is a prefix of the grouped walk for any k.
    assert [r["anime_id"] for r in rec.recommend(history=[(1, 9)], k=3)] == [r["anime_id"] for r in rows[:3]]
    assert json.dumps(rows, allow_nan=False)


def test_continue_series_lists_the_next_entry_of_each_started_franchise_by_predicted_rating(rec):
    """Tiny catalog (franchises S1 -> S2 -> S3 = ids 3f+1..3f+3): S1 of show 0 and S2 of show 1 rated, S1 of
    show 2 on the list unrated; each gets its next entry, best predicted rating first, rated as the model
    rates it from this history."""
    history = [(1, 9), (5, 4)]
    rows = rec.continue_series(history=history, k=10, seen=[7])
    assert sorted(r["anime_id"] for r in rows) == [2, 6, 8] and all(r["kind"] == "next" for r in rows)
    ratings = [r["predicted_rating"] for r in rows]
    assert ratings == sorted(ratings, reverse=True) and [r["rank"] for r in rows] == [1, 2, 3]
    full = rec.score(history=history)
    assert all(r["predicted_rating"] == pytest.approx(float(full[r["anime_index"]]), abs=1e-4) for r in rows)
    by_id = {r["anime_id"]: r for r in rows}
    assert by_id[6]["reason"] == "sequel of Show 1 S2, which you rated 4"
    assert by_id[8]["reason"] == "sequel of Show 2 S1, which is on your list"
    assert rec.continue_series(history=history, k=1, seen=[7]) == rows[:1]
    assert sorted(r["anime_id"] for r in rec.continue_series(history=history, k=10)) == [2, 6]   # 7 not on the list
    assert rec.continue_series(history=[], k=10) == []
    assert rec.continue_series(history=history, filters=Filters(year_min=3000)) == []


def test_recommend_with_next_is_the_list_plus_the_next_entries_it_does_not_show(rec, monkeypatch):
    """One scoring of the catalog gives recommend's grouped rows and continue_series' rows minus what the
    list shows (as a card or a card's other entry), ranked 1.. in continue order."""
    history, seen = [(1, 9), (5, 4)], [7]
    nexts = rec.continue_series(history=history, k=10, seen=seen)

    def not_listed(k: int) -> list[dict]:
        rows = rec.recommend(history=history, k=k, seen=seen)
        listed = {r["anime_id"] for r in rows} | {o["anime_id"] for r in rows for o in r["other_entries"]}
        return [r for r in nexts if r["anime_id"] not in listed]

    # a list length that shows some of the three next entries, not all (which one depends on the tiny model)
    k = next(k for k in range(1, 12) if 0 < len(not_listed(k)) < len(nexts))
    expected = not_listed(k)
    calls = []
    scores = rec.scores
    monkeypatch.setattr(rec, "scores", lambda *a, **kw: calls.append(kw.get("candidates")) or scores(*a, **kw))
    rows, next_rows = rec.recommend_with_next(history=history, k=k, seen=seen)
    assert len(calls) == 1   # the tiny export rates every candidate: nothing is rated a second time
    assert rows == rec.recommend(history=history, k=k, seen=seen)
    assert [r["anime_id"] for r in next_rows] == [r["anime_id"] for r in expected]
    assert [r["rank"] for r in next_rows] == list(range(1, len(expected) + 1))
    assert [r["predicted_rating"] for r in next_rows] == pytest.approx([r["predicted_rating"] for r in expected], abs=1e-5)
    everything, nothing = rec.recommend_with_next(history=history, k=100, seen=seen)
    assert nothing == [] and everything == rec.recommend(history=history, k=100, seen=seen)


def test_order_score_ranks_and_rating_is_shown(rec, monkeypatch):
    """An export with a ranking output: the list follows it, the rows still show the predicted rating."""
    rating = rec.score(history=[])
    order = -rating  # the reverse of the rating order
    monkeypatch.setattr(rec, "order_output", "score")
    monkeypatch.setattr(rec, "scores", lambda user=0, history=(), candidates=None: (rating, order))
    raw = rec.recommend(history=[], k=100, group=False)
    assert [r["predicted_rating"] for r in raw] == sorted(r["predicted_rating"] for r in raw)
    assert all(r["ranking_score"] == pytest.approx(-r["predicted_rating"], abs=1e-4) for r in raw)
    grouped = rec.recommend(history=[], k=100)
    walked = [r["anime_index"] for r in raw]
    first_of = [min(walked.index(a) for a in [g["anime_index"]] + [o["anime_index"] for o in g["other_entries"]])
                for g in grouped]
    assert first_of == sorted(first_of)  # cards come in the order their franchise is first walked


def test_seen_and_planned_anime_from_a_list(rec):
    """On the list without a rating: left out, and it starts the franchise; plan-to-watch: marked only."""
    rows = rec.recommend(history=[(7, 3)], k=100, seen=[4, 5], planned=[10, 2])
    listed = {r["anime_id"] for r in rows} | {o["anime_id"] for r in rows for o in r["other_entries"]}
    assert not listed & {4, 5, 7} and {2, 10} <= listed
    by_id = {r["anime_id"]: r for r in rows}
    assert by_id[6]["kind"] == "next" and by_id[6]["reason"] == "sequel of Show 1 S2, which is on your list"
    assert by_id[8]["reason"] == "sequel of Show 2 S1, which you rated 3"
    assert by_id[10]["planned"] is True and by_id[1]["planned"] is False
    assert {o["anime_id"]: o["planned"] for o in by_id[1]["other_entries"]} == {2: True, 3: False}
    assert "planned" not in rec.recommend(history=[], k=3)[0]
    with pytest.raises(UsageError, match=r"unknown anime id\(s\) in the list \(not in this model's catalog\): 999$"):
        rec.recommend(history=[], seen=[999])


def test_history_feed_has_one_slot_per_entry_and_keeps_the_last_max_history(rec, monkeypatch):
    """The export's history length is free: the feed holds the history's entries (one padding slot for none),
    and beyond ``max_history`` the most recent ones."""
    assert rec.history_dynamic
    fed = []
    run = rec.session.run
    monkeypatch.setattr(rec.session, "run", lambda out, feed: fed.append(feed) or run(out, feed), raising=False)
    rec.score(history=[])
    rec.score(history=[(3, 7.0), (5, 9.0)])
    monkeypatch.setattr(rec, "max_history", 2)
    long = rec.score(history=[(1, 1.0), (3, 7.0), (5, 9.0)])
    assert [f["hist_anime"].tolist() for f in fed] == [[[0]], [[3, 5]], [[3, 5]]]
    assert fed[1]["hist_rating"].tolist() == [[7.0, 9.0]] and fed[0]["hist_rating"].tolist() == [[0.0]]
    assert np.array_equal(long, rec.score(history=[(3, 7.0), (5, 9.0)]), equal_nan=True)


def test_discover_reorders_the_scored_anime_by_the_score_less_a_share_of_log_ratings(rec):
    """--discover: the same anime, each ranking score less weight x log(1 + training ratings), the shown
    predicted rating unchanged; the grouped list and recommend_with_next's rows follow the same order."""
    history = [(1, 9)]
    count = {e["id"]: e["ratings"] for e in json.loads((rec.folder / "anime_display.json").read_text()) if e}
    assert len(set(count.values())) > 2                  # counts differ, so the discount can reorder
    plain = rec.recommend(history=history, k=100, group=False)
    leaned = rec.recommend(history=history, k=100, group=False, discover=2.0)
    by_id = {r["anime_id"]: r for r in plain}
    assert sorted(by_id) == sorted(r["anime_id"] for r in leaned)
    for r in leaned:
        was = by_id[r["anime_id"]]
        assert r["ranking_score"] == pytest.approx(was["ranking_score"] - 2.0 * np.log1p(count[r["anime_id"]]), abs=1e-3)
        assert r["predicted_rating"] == was["predicted_rating"]
    assert [r["ranking_score"] for r in leaned] == sorted((r["ranking_score"] for r in leaned), reverse=True)
    assert [r["anime_id"] for r in leaned] != [r["anime_id"] for r in plain]
    assert rec.recommend(history=history, k=100, group=False, discover=0.0) == plain
    grouped = rec.recommend(history=history, k=5, discover=2.0)
    assert rec.recommend_with_next(history=history, k=5, discover=2.0)[0] == grouped
    assert [r["anime_id"] for r in grouped] != [r["anime_id"] for r in rec.recommend(history=history, k=5)]
    with pytest.raises(UsageError, match="discover must be a number >= 0"):
        rec.recommend(history=history, discover=-1)


def test_discover_needs_a_ranking_score(rec, monkeypatch):
    """An export that ranks by the predicted rating (the baseline's) has no score to discount in log units."""
    monkeypatch.setattr(rec, "order_output", None)
    assert rec.recommend(history=[(1, 9)], k=3, discover=0) == rec.recommend(history=[(1, 9)], k=3)
    with pytest.raises(UsageError, match=r"this export has none \(it ranks by the predicted rating\)"):
        rec.recommend(history=[(1, 9)], k=3, discover=0.5)
