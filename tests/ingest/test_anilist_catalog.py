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
from gnn.ingest.graphql import FetchError, GraphQLClient

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
    assert first["studios"] == [{"id": 501, "name": "Studio Kumo", "isMain": True},
                                {"id": 502, "name": "Fictional Pictures", "isMain": False}]
    assert first["averageScore"] == 81.0 and first["popularity"] == 120000
    by_id = {a["id"]: a for a in catalog}
    assert by_id[9003]["year"] == 2021  # no seasonYear: the start date's year
    assert by_id[9003]["idMal"] is None and by_id[9003]["coverImage"] is None
    assert by_id[9004]["status"] is None and by_id[9005]["status"] == "RELEASING"
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
