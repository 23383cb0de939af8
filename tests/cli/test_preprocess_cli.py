"""``anime-gnn preprocess``: summary on success; one-line errors, exit code 2, no traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from tests.builders import record, write_csv, write_json


def invoke(*args: str):
    return CliRunner().invoke(main, ["preprocess", *args])


def error_lines(result) -> list[str]:
    # stderr also carries the progress bar, which redraws with carriage returns
    return [line for line in re.split(r"[\r\n]", result.stderr) if line.startswith("error: ")]


def test_success_prints_a_summary(input_dir, tmp_path):
    out = tmp_path / "out"
    result = invoke("--input-dir", str(input_dir), "--output-dir", str(out),
                    "--min-ratings", "1", "--holdout-users", "0", "--val-frac", "0.25", "--test-frac", "0.25")
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}/" in result.stdout
    assert re.search(r"anime\s+7 read\s+7 kept\s+dropped: none", result.stdout)
    assert re.search(r"anime notes: never_rated 1, .*with_training_ratings 4", result.stdout)
    assert re.search(r"ratings\s+16 read\s+16 kept\s+dropped: none", result.stdout)
    assert re.search(r"relations\s+11 read\s+8 kept\s+dropped: duplicate_pair 1, self_relation 1", result.stdout)
    assert "relations notes: inverse_edges_added 6" in result.stdout
    assert "train 7  val 4  test 5  holdout 0 (0 users); 5 training users" in result.stdout
    assert json.loads((out / "preprocess_report.json").read_text())["ratings"]["kept"] == 16


def _catalog(d: Path, records) -> None:
    write_json(d / "anime_catalog.json", records)


def _ratings(d: Path, header, rows) -> None:
    write_csv(d / "ratings.csv", header, rows)


GOOD_RATINGS = (["user_id", "anime_id", "rating"], [["u", 1, 5]])


@pytest.mark.parametrize("case, expected", [
    ("missing_id", r"anime_catalog\.json, record 1, field 'id': record has no id"),
    ("duplicate_id", r"anime_catalog\.json, record 1, field 'id': duplicate id 1 \(first at record 0\)"),
    ("wrong_type", r"anime_catalog\.json, record 0 \(id 1\), field 'episodes': expected an integer, got 'many'"),
    ("bad_json", r"anime_catalog\.json: not valid JSON \("),
    ("missing_column", r"ratings\.csv: missing column\(s\) rating; expected user_id,anime_id,rating"),
    ("non_integer_anime", r"ratings\.csv, record 3, field 'anime_id': anime id must be an integer, got 'one'"),
    ("unknown_split", r"ratings\.csv, record 2, field 'split': split must be one of train/val/test, got 'dev'"),
    ("no_ratings_file", r"no ratings\.csv \(or older user_ratings\.json\) in this directory"),
    ("no_catalog", r"anime_catalog\.json: file not found"),
])
def test_input_errors_are_one_line_with_exit_code_2(tmp_path, case, expected):
    d = tmp_path / "in"
    d.mkdir()
    _catalog(d, [record(1), record(2)])
    _ratings(d, *GOOD_RATINGS)
    if case == "missing_id":
        _catalog(d, [record(1), {"title": "no id"}])
    elif case == "duplicate_id":
        _catalog(d, [record(1), record(1)])
    elif case == "wrong_type":
        _catalog(d, [record(1, episodes="many")])
    elif case == "bad_json":
        (d / "anime_catalog.json").write_text('[{"id": 1}')
    elif case == "missing_column":
        _ratings(d, ["user_id", "anime_id"], [["u", 1]])
    elif case == "non_integer_anime":
        _ratings(d, ["user_id", "anime_id", "rating"], [["u", 1, 5], ["u", "one", 5]])
    elif case == "unknown_split":
        _ratings(d, ["user_id", "anime_id", "rating", "split"], [["u", 1, 5, "dev"]])
    elif case == "no_ratings_file":
        (d / "ratings.csv").unlink()
    elif case == "no_catalog":
        (d / "anime_catalog.json").unlink()
    out = tmp_path / "out"
    result = invoke("--input-dir", str(d), "--output-dir", str(out), "--min-ratings", "1")
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert re.search(expected, lines[0]), lines[0]
    assert result.stdout == ""
    assert not out.exists()


def test_nothing_left_after_filtering_is_reported_not_crashed(input_dir, tmp_path):
    result = invoke("--input-dir", str(input_dir), "--output-dir", str(tmp_path / "out"), "--min-ratings", "40")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert error_lines(result) == [
        f"error: {input_dir / 'ratings.csv'}: no training ratings left after filtering "
        "(min_ratings 40, holdout_user_frac 0.05; ratings kept 0 of 16)"]


@pytest.mark.parametrize("args, message", [
    (["--scale", "ten"], "Invalid value for '--scale': expected LOW-HIGH like 1-10 (got 'ten')"),
    (["--scale", "1-5-10"], "Invalid value for '--scale': expected LOW-HIGH like 1-10 (got '1-5-10')"),
    (["--scale", "10-1"], "Invalid value for '--scale': expected LOW-HIGH like 1-10 (rating scale needs low < high"),
    (["--val-frac", "0.6", "--test-frac", "0.6"],
     "Invalid value for '--val-frac' / '--test-frac': val_frac and test_frac must be in [0, 1) and sum below 1"),
    (["--min-ratings", "0"], "0 is not in the range x>=1"),
    (["--val-frac", "1"], "--val-frac"),
])
def test_bad_options_are_usage_errors(input_dir, tmp_path, args, message):
    result = invoke("--input-dir", str(input_dir), "--output-dir", str(tmp_path / "out"), *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


def test_help_lists_the_options():
    result = invoke("--help")
    assert result.exit_code == 0
    for option in ("--input-dir", "--output-dir", "--min-ratings", "--val-frac", "--test-frac",
                   "--holdout-users", "--seed", "--scale"):
        assert option in result.stdout
