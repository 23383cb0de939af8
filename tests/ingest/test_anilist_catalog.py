"""fetch-catalog against the fake AniList: pagination, conversion, relations, resume, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.ingest import fetch_catalog as fetch_catalog_cmd
from fakeserver import DROP, FakeAniList, reply_json
from gnn.data.catalog import read_catalog
from gnn.ingest.anilist import fetch_catalog
from gnn.ingest.graphql import FetchError, GraphQLClient, GraphQLError, RetryPolicy

CONTRACT_KEYS = {"id", "idMal", "idAnilist", "title", "format", "episodes", "duration", "status",
                 "year", "genres", "tags", "studios", "relations", "popularity", "averageScore",
                 "coverImage", "description"}


def _fetch(client: GraphQLClient, tmp_path: Path, **kw) -> tuple[list[dict], dict]:
    out = tmp_path / "anime_catalog.json"
    counts = fetch_catalog(client, out, tmp_path / "cp.json", progress=False, **kw)
    return json.loads(out.read_text(encoding="utf-8")), counts


def test_three_pages_become_the_input_contract(anilist: FakeAniList, client: GraphQLClient,
                                               tmp_path: Path) -> None:
    catalog, counts = _fetch(client, tmp_path, per_page=2)
    assert [v["page"] for v in anilist.requests("catalog")] == [1, 2, 3]
    assert all(v["perPage"] == 2 for v in anilist.requests("catalog"))
    assert [a["id"] for a in catalog] == [9001, 9002, 9003, 9004, 9005, 9006]
    assert all(set(a) == CONTRACT_KEYS for a in catalog)
    first = catalog[0]
    assert first["idAnilist"] == 9001 and first["idMal"] == 19001 and first["year"] == 2019
    assert first["title"] == {"romaji": "Hoshikuzu Patrol", "english": "Stardust Patrol",
                              "native": "星屑パトロール"}
    assert first["coverImage"] == "https://example.invalid/covers/9001.jpg"
    assert first["tags"][0] == {"name": "Space", "rank": 90, "category": "Setting-Universe"}
    assert first["studios"] == [{"id": 501, "name": "Studio Kumo", "isMain": True, "isAnimationStudio": True},
                                {"id": 502, "name": "Fictional Pictures", "isMain": False,
                                 "isAnimationStudio": False}]
    assert first["averageScore"] == 81.0 and first["popularity"] == 120000
    by_id = {a["id"]: a for a in catalog}
    assert by_id[9003]["year"] == 2021  # no seasonYear: the start date's year
    assert by_id[9003]["idMal"] is None and by_id[9003]["coverImage"] is None
    assert by_id[9004]["status"] is None and by_id[9005]["status"] == "RELEASING"
    # A company AniList marks main but not an animation studio; one without the flag (null).
    assert by_id[9002]["studios"][1] == {"id": 504, "name": "Moonbeam Publishing", "isMain": True,
                                         "isAnimationStudio": False}
    assert by_id[9005]["studios"][1] == {"id": 505, "name": "Tanuki Broadcasting", "isMain": False,
                                         "isAnimationStudio": None}
    assert counts["anime"] == 6 and not (tmp_path / "cp.json").exists()
    assert read_catalog(tmp_path / "anime_catalog.json").counts == {}  # the reader takes it as is


def test_only_anime_to_anime_relations_inside_the_catalog_are_kept(client: GraphQLClient,
                                                                   tmp_path: Path) -> None:
    catalog, counts = _fetch(client, tmp_path)
    relations = {a["id"]: a["relations"] for a in catalog}
    assert relations == {
        9001: [{"id": 9002, "relationType": "SEQUEL"}, {"id": 9005, "relationType": "SIDE_STORY"}],
        9002: [{"id": 9001, "relationType": "PREQUEL"}, {"id": 9006, "relationType": "OTHER"}],
        9003: [], 9004: [],
        9005: [{"id": 9001, "relationType": "PARENT"}],
        9006: [{"id": 9002, "relationType": "OTHER"}],
    }
    assert counts["relations_dropped_not_anime"] == 3       # 2 manga, 1 novel source
    assert counts["relations_type_as_other"] == 2           # COMPILATION, CONTAINS
    assert counts["relations_dropped_outside_catalog"] == 1  # 9999
    assert counts["relations_dropped_self"] == 1
    assert counts["relations_kept"] == 6


def test_max_anime_stops_early_and_drops_relations_leaving_the_catalog(anilist: FakeAniList,
                                                                       client: GraphQLClient,
                                                                       tmp_path: Path) -> None:
    catalog, counts = _fetch(client, tmp_path, max_anime=3)
    assert [v["page"] for v in anilist.requests("catalog")] == [1, 2]
    assert [a["id"] for a in catalog] == [9001, 9002, 9003]
    assert catalog[0]["relations"] == [{"id": 9002, "relationType": "SEQUEL"}]
    assert counts["anime_fetched"] == 3


def test_interrupted_run_resumes_from_the_checkpoint_and_matches_a_clean_run(
        anilist: FakeAniList, client: GraphQLClient, sleeps: list[float], tmp_path: Path) -> None:
    clean, _ = _fetch(client, tmp_path / "clean")
    anilist.log.clear()

    # Page 2 fails hard: the server drops the connection every time.
    anilist.override = lambda kind, v, n: DROP if v.get("page") == 2 else None
    out, cp = tmp_path / "anime_catalog.json", tmp_path / "cp.json"
    with pytest.raises(FetchError, match="page 2: giving up.*rerun the same command to resume"):
        fetch_catalog(client, out, cp, progress=False)
    assert not out.exists()
    state = json.loads(cp.read_text())
    assert state["next_page"] == 2 and [m["id"] for m in state["media"]] == [9001, 9002]

    anilist.override = None
    anilist.log.clear()
    fetch_catalog(client, out, cp, progress=False)
    assert [v["page"] for v in anilist.requests("catalog")] == [2, 3]  # page 1 not refetched
    assert json.loads(out.read_text(encoding="utf-8")) == clean
    assert not cp.exists()


def test_malformed_page_gives_a_clear_error(anilist: FakeAniList, client: GraphQLClient,
                                            tmp_path: Path) -> None:
    anilist.override = lambda kind, v, n: reply_json({"data": {"Page": {"media": None}}})
    with pytest.raises(FetchError, match=r"page 1: response has no data\.Page\.media list"):
        _fetch(client, tmp_path)


def test_cli_fetch_catalog_writes_the_file_and_prints_counts(anilist: FakeAniList, sleeps: list[float],
                                                             tmp_path: Path) -> None:
    out = tmp_path / "data" / "anime_catalog.json"
    anilist.override = lambda kind, v, n: (
        reply_json({}, 429, {"Retry-After": "3"}) if n == 1 else None)
    result = CliRunner().invoke(fetch_catalog_cmd, [
        "--source", "anilist", "--out", str(out), "--endpoint", anilist.url, "--pages", "2",
        "--min-interval", "0", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "wrote 4 anime to" in result.output and "relations_dropped_not_anime: 2" in result.output
    assert sleeps == [3.0]
    assert len(json.loads(out.read_text(encoding="utf-8"))) == 4
    assert not (tmp_path / "data" / "anime_catalog.checkpoint.json").exists()


@pytest.mark.parametrize("reply, message", [
    ((200, {"Content-Type": "text/html"}, b"<html>maintenance</html>"), "response is not JSON"),
    (reply_json({"errors": [{"message": "Invalid token", "status": 400}]}, 400), "Invalid token"),
])
def test_cli_malformed_response_is_one_line_exit_2(anilist: FakeAniList, sleeps: list[float],
                                                   tmp_path: Path, reply: tuple, message: str) -> None:
    anilist.override = lambda kind, v, n: reply
    result = CliRunner().invoke(fetch_catalog_cmd, [
        "--out", str(tmp_path / "c.json"), "--endpoint", anilist.url, "--min-interval", "0",
        "--no-progress"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in result.output


# ------------------------------------------------------------------ issue 17, defect 8: page depth

# (id, popularity): ties at 80 (ids 3-7) and 5 (ids 18-21) straddle window ends at depth 6, 2 per page.
POPULARITY = [100, 90, 80, 80, 80, 80, 80, 70, 60, 60, 50, 40, 30, 20, 10, 10, 10, 5, 5, 5, 5, 0, 0]


def media(popularity: list[int]) -> list[dict]:
    return [{"id": i, "popularity": p, "title": {"romaji": f"Anime {i}"}} for i, p in enumerate(popularity, 1)]


def windows(fake: FakeAniList) -> list[tuple]:
    return [(v.get("popularity_lesser"), v.get("popularity"), v["page"]) for v in fake.requests("catalog")]


def test_the_catalog_is_walked_in_windows_under_the_page_depth(sleeps: list[float], tmp_path: Path) -> None:
    with FakeAniList(catalog=media(POPULARITY), depth=6) as fake:
        client = GraphQLClient(fake.url, RetryPolicy(max_retries=0, min_interval=0))
        catalog, counts = _fetch(client, tmp_path, per_page=2, depth=6)
    assert [a["id"] for a in catalog] == list(range(1, 24)) and counts["anime_fetched"] == 23
    assert "anime_duplicate_dropped" not in counts
    assert all(v["page"] * v["perPage"] <= 6 for v in fake.requests("catalog"))
    assert fake.requests("catalog")[0]["sort"] == ["POPULARITY_DESC", "ID"]
    assert windows(fake) == [(None, None, 1), (None, None, 2), (None, None, 3),   # 100 .. 80 (ids 3-6)
                             (None, 80, 1), (None, 80, 2), (None, 80, 3),         # every 80, by id: 3-7
                             (80, None, 1), (80, None, 2), (80, None, 3),         # 70 .. 30
                             (None, 30, 1),                                        # every 30
                             (30, None, 1), (30, None, 2), (30, None, 3),         # 20 .. 5 (ids 18-19)
                             (None, 5, 1), (None, 5, 2),                          # every 5: 18-21
                             (5, None, 1)]                                        # 0, 0


def test_the_default_walk_would_have_asked_for_page_101() -> None:
    """What the old walk did with 50 per page: page 101 -> HTTP 400, which no rerun can get past."""
    with FakeAniList(catalog=media(list(range(6000, 0, -1)))) as fake, \
            pytest.raises(GraphQLError, match=r"Page depth exceeds maximum allowed for API requests \(5000"):
        GraphQLClient(fake.url, RetryPolicy(max_retries=0, min_interval=0)).execute(
            "query ($page: Int, $perPage: Int) { Page(page: $page, perPage: $perPage) { media(type: ANIME) { id } } }",
            {"page": 101, "perPage": 50}, "page 101")


def test_a_full_walk_of_6000_anime_at_50_per_page_never_passes_page_100(sleeps: list[float], tmp_path: Path) -> None:
    with FakeAniList(catalog=media(list(range(6000, 0, -1)))) as fake:
        client = GraphQLClient(fake.url, RetryPolicy(max_retries=0, min_interval=0))
        catalog, _ = _fetch(client, tmp_path)
    assert len(catalog) == 6000 and max(v["page"] for v in fake.requests("catalog")) == 100


def test_a_lower_server_limit_closes_the_window_early(sleeps: list[float], tmp_path: Path) -> None:
    with FakeAniList(catalog=media(list(range(230, 0, -10))), depth=4) as fake:
        client = GraphQLClient(fake.url, RetryPolicy(max_retries=0, min_interval=0))
        catalog, _ = _fetch(client, tmp_path, per_page=2, depth=6)
    assert [a["id"] for a in catalog] == list(range(1, 24))
    assert (None, None, 3) in windows(fake)  # asked, refused with the 400, window closed: not retried
    assert windows(fake).count((None, None, 3)) == 1


@pytest.mark.parametrize("popularity, depth, message", [
    ([50] * 8, 6, "more anime than AniList's page-depth limit (5000) share popularity 50"),
    ([50, 40], 0, "Page depth exceeds maximum allowed"),
])
def test_a_walk_that_cannot_go_on_says_rerunning_will_not_help(sleeps: list[float], tmp_path: Path,
                                                               popularity, depth, message) -> None:
    from gnn.ingest.anilist import PageDepthError

    with FakeAniList(catalog=media(popularity), depth=depth) as fake:
        client = GraphQLClient(fake.url, RetryPolicy(max_retries=0, min_interval=0))
        with pytest.raises(PageDepthError) as err:
            _fetch(client, tmp_path, per_page=2, depth=6)
    assert message in str(err.value) and "rerunning will not help" in str(err.value)
    assert "rerun the same command to resume" not in str(err.value)


def test_an_interrupted_window_walk_resumes_to_the_same_file(sleeps: list[float], tmp_path: Path) -> None:
    with FakeAniList(catalog=media(POPULARITY), depth=6) as fake:
        client = GraphQLClient(fake.url, RetryPolicy(max_retries=0, min_interval=0))
        clean, _ = _fetch(client, tmp_path / "clean", per_page=2, depth=6)
        # The tie window of popularity 5 fails hard once: the checkpoint holds the window.
        fake.override = lambda kind, v, n: DROP if v.get("popularity") == 5 and v["page"] == 2 else None
        out, cp = tmp_path / "anime_catalog.json", tmp_path / "cp.json"
        with pytest.raises(FetchError, match="page 2 of popularity 5: giving up.*rerun the same command to resume"):
            fetch_catalog(client, out, cp, per_page=2, depth=6, progress=False)
        assert json.loads(cp.read_text())["window"] == {"popularity": 5}
        fake.override = None
        fetch_catalog(client, out, cp, per_page=2, depth=6, progress=False)
    assert json.loads(out.read_text(encoding="utf-8")) == clean and not cp.exists()
