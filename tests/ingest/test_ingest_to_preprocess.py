"""What each ingest command writes is accepted by ``preprocess`` (min_ratings=1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.ingest import fetch_catalog, fetch_ratings, import_group
from fakeserver import FakeAniList
from gnn.preprocess import PreprocessConfig, preprocess

MAL = Path(__file__).resolve().parents[1] / "fixtures" / "mal"
CONFIG = PreprocessConfig(min_ratings=1, holdout_user_frac=0.0)


def _preprocess(data: Path, tmp_path: Path) -> dict:
    report = preprocess(data, tmp_path / "processed", CONFIG).report
    assert (tmp_path / "processed" / "graph.pt").exists()
    return report


def _ok(result) -> None:
    assert result.exit_code == 0, result.output


def test_fetch_catalog_and_fetch_ratings_feed_preprocess(anilist: FakeAniList, sleeps: list[float],
                                                         tmp_path: Path) -> None:
    data = tmp_path / "data"
    common = ["--endpoint", anilist.url, "--min-interval", "0", "--no-progress"]
    _ok(CliRunner().invoke(fetch_catalog, ["--out", str(data / "anime_catalog.json"), *common]))
    _ok(CliRunner().invoke(fetch_ratings, ["--users", "50", "--out", str(data / "ratings.csv"),
                                           "--catalog", str(data / "anime_catalog.json"), *common]))
    report = _preprocess(data, tmp_path)
    assert report["ratings"]["kept"] == report["ratings"]["total"] > 0
    # Relations come through: the fake catalog has SEQUEL/PREQUEL/PARENT/... edges between rated anime.
    assert sum(report["graph_edges"].values()) > 0
    # Only AniList's animation studios are studios; Moonbeam Publishing, though marked main, is not.
    meta = {m["anime_id"]: m for m in json.loads((tmp_path / "processed" / "anime_metadata.json").read_text())}
    assert (meta[9001]["studios"], meta[9001]["producers"]) == (["Studio Kumo"], ["Fictional Pictures"])
    assert (meta[9002]["studios"], meta[9002]["producers"]) == (["Studio Kumo"], ["Moonbeam Publishing"])
    assert (meta[9005]["studios"], meta[9005]["producers"]) == (["Studio Kumo"], ["Tanuki Broadcasting"])


@pytest.mark.parametrize("layout, ratings", [("2020", "rating_complete.csv"), ("2020", "animelist.csv"),
                                             ("2017", "rating.csv")])
def test_import_mal_feeds_preprocess(tmp_path: Path, layout: str, ratings: str) -> None:
    data = tmp_path / "data"
    _ok(CliRunner().invoke(import_group, ["mal", "--anime", str(MAL / layout / "anime.csv"),
                                          "--ratings", str(MAL / layout / ratings),
                                          "--out-dir", str(data)]))
    report = _preprocess(data, tmp_path)
    assert report["ratings"]["kept"] == report["ratings"]["total"] > 0
    assert json.loads((data / "anime_catalog.json").read_text(encoding="utf-8"))
    meta = {m["anime_id"]: m for m in json.loads((tmp_path / "processed" / "anime_metadata.json").read_text())}
    if layout == "2020":  # Studios and Producers columns kept apart (2017 has neither)
        assert (meta[1]["studios"], meta[1]["producers"]) == (["Studio Kumo"], ["Bandai Fiction", "TEM Co., Ltd."])
        assert (meta[2]["studios"], meta[2]["producers"]) == (["Studio Kumo", "Pixel Forge"], [])
        assert (meta[3]["studios"], meta[3]["producers"]) == (["Pixel Forge"], [])  # in both columns: animated it


def test_commands_are_registered_and_every_option_has_help() -> None:
    from cli.main import main

    commands = [main.commands["fetch-catalog"], main.commands["fetch-ratings"],
                main.commands["import"].commands["mal"]]  # type: ignore[attr-defined]
    for command in commands:
        for param in command.params:
            assert getattr(param, "help", None), f"{command.name} {param.name} has no help text"
