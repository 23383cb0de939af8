"""fetch-ratings against the fake AniList: score formats, discovery, privacy, resume, CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from cli.ingest import fetch_ratings as fetch_ratings_cmd
from fakeserver import DROP, FakeAniList
from gnn.ingest.anilist_ratings import fetch_ratings, to_ten_point
from gnn.ingest.graphql import FetchError, GraphQLClient, RetryPolicy

NAMES = ("KiraNeko", "MochiFan", "HiddenOne", "TanukiTen", "StarGazer5", "SmileBox", "EmptyLists")
FIRST_FOUR = [  # --users 4: HiddenOne is private, so StarGazer5 is the fourth
    ("u000001", 9001, 9), ("u000001", 9003, 10), ("u000001", 9005, 1),   # POINT_100 85, 100, 7
    ("u000002", 9001, 8), ("u000002", 9004, 10), ("u000002", 9006, 1),   # POINT_10_DECIMAL 7.5, 9.9, 0.4
    ("u000003", 9001, 6), ("u000003", 9002, 10),                         # POINT_10 6, 10 (11 dropped)
    ("u000004", 9001, 6), ("u000004", 9002, 10), ("u000004", 9004, 2),   # POINT_5 3, 5, 1
]


@pytest.mark.parametrize("fmt, raw, expected", [
    ("POINT_100", 100, 10), ("POINT_100", 85, 9), ("POINT_100", 84, 8), ("POINT_100", 15, 2),
    ("POINT_100", 14, 1), ("POINT_100", 1, 1),
    ("POINT_10_DECIMAL", 10.0, 10), ("POINT_10_DECIMAL", 7.5, 8), ("POINT_10_DECIMAL", 7.4, 7),
    ("POINT_10_DECIMAL", 0.4, 1), ("POINT_10_DECIMAL", 0.1, 1),
    ("POINT_10", 1, 1), ("POINT_10", 6, 6), ("POINT_10", 10, 10),
    ("POINT_5", 1, 2), ("POINT_5", 3, 6), ("POINT_5", 5, 10),
    ("POINT_3", 1, 4), ("POINT_3", 2, 6), ("POINT_3", 3, 9),
])
def test_score_format_table(fmt: str, raw: float, expected: int) -> None:
    assert to_ten_point(raw, fmt) == expected


@pytest.mark.parametrize("fmt", ["POINT_100", "POINT_10_DECIMAL", "POINT_10", "POINT_5", "POINT_3"])
def test_zero_means_unscored(fmt: str) -> None:
    assert to_ten_point(0, fmt) is None


@pytest.mark.parametrize("fmt, raw", [("POINT_100", 101), ("POINT_10", 11), ("POINT_10", -1),
                                      ("POINT_5", 6), ("POINT_3", 4), ("POINT_3", 1.5),
                                      ("STARS_7", 3)])
def test_out_of_range_or_unknown_format_is_refused(fmt: str, raw: float) -> None:
    with pytest.raises(ValueError):
        to_ten_point(raw, fmt)


def _rows(path: Path) -> list[tuple[str, int, int]]:
    frame = pd.read_csv(path)
    assert list(frame.columns) == ["user_id", "anime_id", "rating"]
    return list(frame.itertuples(index=False, name=None))


def _assert_no_names(*paths: Path) -> None:
    for path in paths:
        text = path.read_text(encoding="utf-8").lower()
        assert not [n for n in NAMES if n.lower() in text], path


def test_discovered_users_are_converted_with_their_own_format(anilist: FakeAniList, client: GraphQLClient,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "ratings.csv"
    counts = fetch_ratings(client, out, tmp_path / "cp.json", users=4, progress=False)
    assert _rows(out) == FIRST_FOUR
    assert [v["page"] for v in anilist.requests("users")] == [1, 2]
    lists = anilist.requests("list")
    assert [(v["name"], v["format"], v["chunk"]) for v in lists] == [
        ("KiraNeko", "POINT_100", 1), ("KiraNeko", "POINT_100", 2), ("MochiFan", "POINT_10_DECIMAL", 1),
        ("HiddenOne", "POINT_10", 1), ("TanukiTen", "POINT_10", 1), ("StarGazer5", "POINT_5", 1)]
    assert anilist.requests("user") == []  # discovery already told us the formats
    assert counts["users"] == 4 and counts["ratings"] == len(FIRST_FOUR)
    assert counts["users_skipped_private_or_missing"] == 1
    assert counts["entries_dropped_unscored"] == 2
    assert counts["entries_repeated_in_custom_lists"] == 1
    assert counts["entries_dropped_out_of_range"] == 1
    _assert_no_names(out)
    assert not (tmp_path / "cp.json").exists()


def test_user_without_a_known_format_is_read_as_point_100(anilist: FakeAniList, client: GraphQLClient,
                                                          tmp_path: Path) -> None:
    counts = fetch_ratings(client, tmp_path / "r.csv", tmp_path / "cp.json", users=50, progress=False)
    assert counts["users"] == 5  # EmptyLists has only unscored entries, HiddenOne is private
    assert ("EmptyLists", "POINT_100") in [(v["name"], v["format"]) for v in anilist.requests("list")]
    assert counts["users_format_unknown_read_as_point_100"] == 1
    assert counts["users_skipped_no_kept_ratings"] == 1
    assert _rows(tmp_path / "r.csv")[-3:] == [("u000005", 9001, 4), ("u000005", 9002, 6),
                                              ("u000005", 9005, 9)]  # POINT_3 smileys


def test_named_users_first_then_discovery_without_repeats(anilist: FakeAniList, client: GraphQLClient,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "ratings.csv"
    counts = fetch_ratings(client, out, tmp_path / "cp.json", users=1,
                           names=("SmileBox", "NoSuchUser", "kiraneko"), catalog_ids={9001, 9002, 9005},
                           progress=False)
    assert [v["name"] for v in anilist.requests("user")] == ["SmileBox", "NoSuchUser", "kiraneko"]
    assert _rows(out) == [("u000001", 9001, 4), ("u000001", 9002, 6), ("u000001", 9005, 9),
                          ("u000002", 9001, 9), ("u000002", 9005, 1),
                          ("u000003", 9001, 8)]  # MochiFan: discovery skipped KiraNeko (done)
    assert counts["users_skipped_private_or_missing"] == 1
    assert counts["entries_dropped_not_in_catalog"] == 3  # 9003 (Kira), 9004, 9006 (Mochi)
    _assert_no_names(out)


def test_interrupted_ratings_fetch_resumes_without_refetching(anilist: FakeAniList, client: GraphQLClient,
                                                              tmp_path: Path) -> None:
    fetch_ratings(client, tmp_path / "clean.csv", tmp_path / "cp0.json", users=4, progress=False)
    anilist.log.clear()
    anilist.override = lambda kind, v, n: DROP if v.get("name") == "TanukiTen" else None
    out, cp = tmp_path / "ratings.csv", tmp_path / "cp.json"
    with pytest.raises(FetchError, match="user #4 list chunk 1: giving up.*resume"):
        fetch_ratings(client, out, cp, users=4, progress=False)
    assert cp.exists() and not out.exists()
    _assert_no_names(cp)  # the checkpoint keeps digests, not names

    anilist.override = None
    anilist.log.clear()
    fetch_ratings(client, out, cp, users=4, progress=False)
    assert [v["name"] for v in anilist.requests("list")] == ["TanukiTen", "StarGazer5"]
    assert out.read_text() == (tmp_path / "clean.csv").read_text()


def test_cli_fetch_ratings(anilist: FakeAniList, sleeps: list[float], tmp_path: Path) -> None:
    out = tmp_path / "ratings.csv"
    result = CliRunner().invoke(fetch_ratings_cmd, [
        "--source", "anilist", "--users", "2", "--user", "SmileBox", "--out", str(out),
        "--endpoint", anilist.url, "--min-interval", "0", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "wrote 9 ratings of 3 users" in result.output
    assert not [n for n in NAMES if n.lower() in result.output.lower()]
    assert {r[0] for r in _rows(out)} == {"u000001", "u000002", "u000003"}


def test_cli_fetch_ratings_needs_users(tmp_path: Path) -> None:
    result = CliRunner().invoke(fetch_ratings_cmd, ["--out", str(tmp_path / "r.csv")])
    assert result.exit_code == 2
    assert result.output.strip() == "error: nothing to fetch: give --users N and/or --user NAME"


def test_discovery_stops_at_the_page_depth_limit_and_writes_what_it_found(anilist: FakeAniList,
                                                                          client: GraphQLClient,
                                                                          tmp_path: Path) -> None:
    """Issue 17, defect 8: Page.users cannot be walked in windows; past 5,000 entries AniList answers 400."""
    out = tmp_path / "ratings.csv"
    counts = fetch_ratings(client, out, tmp_path / "cp.json", users=50, progress=False, depth=50)
    assert [v["page"] for v in anilist.requests("users")] == [1]  # page 2 would be entries 51-100
    assert counts["users_discovery_stopped_at_page_depth_limit"] == 1
    assert counts["users"] == 3 and out.exists() and not (tmp_path / "cp.json").exists()
    assert anilist.requests("users")[0] == {"page": 1, "perPage": 50}


def test_a_depth_refusal_from_the_server_ends_discovery(sleeps: list[float], tmp_path: Path) -> None:
    with FakeAniList(depth=50) as fake:
        client = GraphQLClient(fake.url, RetryPolicy(max_retries=2, min_interval=0))
        counts = fetch_ratings(client, tmp_path / "ratings.csv", tmp_path / "cp.json", users=50, progress=False)
    assert [v["page"] for v in fake.requests("users")] == [1, 2]  # page 2 refused once, not retried
    assert counts["users_discovery_stopped_at_page_depth_limit"] == 1 and counts["users"] == 3
