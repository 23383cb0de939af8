"""benchmarks/reason_kinds.py: every reason the builders write falls in its kind; shares add up to one."""

from __future__ import annotations

import json

import pytest

from benchmarks.reason_kinds import kind_shares, main, reason_kind
from gnn.reasons import ReasonBuilder
from tests.export import tiny

DISPLAY = [None,
           {"id": 1, "title": "Liked, like me", "studios": ["Bones"], "genres": ["Drama"], "relations": [], "corated": []},
           {"id": 2, "title": "Sequel", "studios": [], "genres": [], "relations": [[1, "PREQUEL"]]},
           {"id": 3, "title": "Same Studio", "studios": ["Bones"], "genres": [], "relations": []},
           {"id": 4, "title": "Together", "studios": [], "genres": ["Drama"], "relations": [], "corated": [1]},
           {"id": 5, "title": "Genre", "studios": [], "genres": ["Drama"], "relations": []},
           {"id": 6, "title": "Other Genre", "studios": [], "genres": ["Mecha"], "relations": []},
           {"id": 7, "title": "Nothing", "studios": [], "genres": [], "relations": []}]


def test_each_reason_the_builder_writes_has_its_kind():
    reasons = ReasonBuilder(DISPLAY, {1: 9.0}, 1, 10)
    kinds = [reason_kind(reasons(a)) for a in range(2, 8)]
    assert kinds == ["franchise", "studio", "watched with", "genre", "genre, none liked", "none"]
    # The liked anime's title holds ", like ": a franchise reason naming it is still a franchise reason.
    assert reason_kind("sequel of Liked, like me, which you rated 9") == "franchise"
    assert reason_kind("start of the Show series (3 entries)") == "series start"
    assert reason_kind("same studio (A) as B (you rated 9); start of its series (3 entries)") == "studio"
    assert reason_kind("in the Show series (3 entries), which you have not started") == "series not started"
    assert reason_kind("something new") == "other"


def test_shares_add_up_to_one_most_frequent_first():
    shares = kind_shares(["same studio (A) as B (you rated 9)"] * 3 + ["popular with fans of Drama"])
    assert list(shares) == ["studio", "genre, none liked"] and shares["studio"] == pytest.approx(0.75)


def test_the_script_reports_both_displays(tmp_path_factory, capsys):
    export = tiny.exported(tmp_path_factory)
    main(["--export", str(export), "--data-dir", str(tiny.processed(tmp_path_factory)), "--given", "3", "--top", "5"])
    report = json.loads(capsys.readouterr().out)
    assert report["users"] > 0
    for name in ("as exported", "without co-rated lists"):
        assert report[name]["slots"] > 0 and sum(report[name]["shares"].values()) == pytest.approx(1.0)
    assert "watched with" not in report["without co-rated lists"]["shares"]


def test_a_filter_narrows_the_lists(tmp_path_factory, capsys):
    # The tiny catalog's anime 27 is RELEASING and 30 NOT_YET_RELEASED: at most one card each.
    export = tiny.exported(tmp_path_factory)
    args = ["--export", str(export), "--data-dir", str(tiny.processed(tmp_path_factory)), "--given", "3", "--top", "5"]
    main([*args, "--status", "not_yet_released", "--status", "RELEASING"])
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == ["not_yet_released", "RELEASING"]
    assert 0 < report["as exported"]["slots"] <= 2 * report["users"]
