"""Issue 17, defects 4 and 9 end to end: the issue's repro inputs give one ``error:`` line, exit code 2.

(A catalog path that is a folder, a 200k-deep JSON, an infinite --scale, a --ratings-file with a
BOM, non-UTF-8 bytes or a 140 KB field, and the "no anime match these filters" wording.)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from tests.builders import FIXTURES
from tests.export import tiny


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _input(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(FIXTURES / "ratings.csv", d / "ratings.csv")
    return d


def test_catalog_path_that_is_a_folder(tmp_path):
    d = _input(tmp_path)
    (d / "anime_catalog.json").mkdir()
    result = CliRunner().invoke(main, ["preprocess", "--input-dir", str(d), "--output-dir", str(tmp_path / "o")])
    assert one_error_line(result) == f"error: {d / 'anime_catalog.json'}: is a folder, not a file"


def test_deeply_nested_catalog(tmp_path):
    d = _input(tmp_path)
    (d / "anime_catalog.json").write_text("[" * 200_000 + "]" * 200_000)
    result = CliRunner().invoke(main, ["preprocess", "--input-dir", str(d), "--output-dir", str(tmp_path / "o")])
    assert one_error_line(result) == f"error: {d / 'anime_catalog.json'}: not readable: JSON nested too deeply"


def test_scale_must_be_finite(tmp_path):
    result = CliRunner().invoke(main, ["preprocess", "--input-dir", str(_input(tmp_path)), "--output-dir",
                                       str(tmp_path / "o"), "--scale", "0-inf"])
    assert result.exit_code == 2 and "rating scale needs finite bounds" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory) -> Path:
    return tiny.exported(tmp_path_factory)


def recommend(export_dir: Path, *args: str):
    return CliRunner().invoke(main, ["recommend", "--model-dir", str(export_dir), *args])


def test_ratings_file_with_a_bom_is_read(export_dir, tmp_path):
    """Issue 17, defect 9: spreadsheet programs save a BOM; it made the header look like data."""
    path = tmp_path / "list.csv"
    path.write_bytes("\ufeffanime_id,rating\n1,10\n2,9\n".encode("utf-8"))
    result = recommend(export_dir, "--ratings-file", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert not {1, 2} & {r["anime_id"] for r in json.loads(result.stdout)["recommendations"]}


@pytest.mark.parametrize("content, message", [
    (b"anime_id,rating\n1,\xff\xfe9\n", "not UTF-8 text (invalid start byte at byte 18)"),
    (b"anime_id,rating\n1," + b"9" * 140_000 + b"\n", "not a readable CSV (field larger than field limit"),
    (b"anime_id,rating\n1,nine" + b"e" * 5000 + b"\n", "record 2, field 'rating': rating 'nineeeeeeeeeeeeeeeeeeee"),
])
def test_bad_ratings_files_are_one_line(export_dir, tmp_path, content, message):
    path = tmp_path / "list.csv"
    path.write_bytes(content)
    line = one_error_line(recommend(export_dir, "--ratings-file", str(path)))
    assert line.startswith(f"error: {path}") and message in line and len(line) < 600


def test_nothing_to_recommend_says_why(export_dir):
    """Issue 17, defect 9: 'no anime match these filters' appeared though no filter was given."""
    everything = ",".join(f"{i}:5" for i in range(1, tiny.N_ANIME + 1))
    result = recommend(export_dir, "--ratings", everything)
    assert result.exit_code == 0
    assert result.stdout.strip() == ("nothing to recommend: every anime of this model's catalog is already rated "
                                     "(--include-rated lists them anyway)")
    filtered = recommend(export_dir, "--ratings", "1:9", "--year-min", "3000")
    assert filtered.stdout.strip() == "no anime match these filters"


@pytest.mark.parametrize("args, message", [
    (["--lr", "nan"], "lr must be a finite number, got nan"),
    (["--weight-decay", "inf"], "weight_decay must be a finite number, got inf"),
    (["--model-option", "dropout=NaN"], "--model-option dropout: NaN is not a finite number"),
])
def test_non_finite_training_options_are_refused_before_training(tmp_path, args, message):
    """They trained nothing useful and, with strict JSON, would only fail when the metadata is written."""
    result = CliRunner().invoke(main, ["train", "--data-dir", str(tmp_path / "none"), "--output-dir",
                                       str(tmp_path / "o"), *args])
    assert one_error_line(result) == f"error: {message}"


def test_non_finite_holdout_share_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["preprocess", "--input-dir", str(_input(tmp_path)), "--output-dir",
                                       str(tmp_path / "o"), "--holdout-users", "nan"])
    assert result.exit_code == 2 and "holdout_user_frac (--holdout-users) must be in [0, 1)" in result.output
