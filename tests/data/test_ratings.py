"""gnn.data.ratings: CSV and grouped JSON, recoverable drops counted, fatal errors located."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gnn.data.ratings import RatingScale, find_ratings_file, read_ratings
from gnn.errors import InputError
from tests.builders import FIXTURES, write_csv, write_json

HEADER = ["user_id", "anime_id", "rating"]


def test_reads_fixture_csv():
    frame, tally = read_ratings(FIXTURES / "ratings.csv")
    assert list(frame.columns) == HEADER
    assert len(frame) == 16
    assert frame["anime_id"].dtype == "int64" and frame["rating"].dtype == "float64"
    assert frame.iloc[0].tolist() == ["alice", 101, 9.0]
    assert frame.iloc[-1].tolist() == ["erin", 106, 3.0]
    assert tally.as_dict() == {"total": 16, "kept": 16, "dropped": {}}


def test_grouped_json_gives_the_same_ratings_as_csv():
    flat, flat_tally = read_ratings(FIXTURES / "ratings.csv")
    grouped, grouped_tally = read_ratings(FIXTURES / "user_ratings.json")
    pd.testing.assert_frame_equal(flat, grouped)
    assert flat_tally.as_dict() == grouped_tally.as_dict()


def test_grouped_json_accepts_anime_id_key_and_numeric_user_ids(tmp_path):
    path = write_json(tmp_path / "user_ratings.json",
                      [{"user_id": 7, "ratings": [{"anime_id": 1, "rating": 8.5}, {"anilist_id": 2, "rating": 3}]}])
    frame, _ = read_ratings(path)
    assert frame.values.tolist() == [["7", 1, 8.5], ["7", 2, 3.0]]


def test_recoverable_problems_are_dropped_and_counted(tmp_path):
    path = write_csv(tmp_path / "ratings.csv", HEADER, [
        ["u1", 1, 8],
        ["u1", 2, "abc"],      # not a number
        ["u1", 3, ""],         # not a number (empty)
        ["u1", 4, "nan"],      # not a number
        ["u1", 5, "inf"],      # not a number (not finite)
        ["u2", 1, 0],          # out of scale
        ["u2", 2, 11],         # out of scale
        ["u2", 3, "10"],
        ["u2", 3, "2"],        # duplicate (u2, 3): the first one is kept
        ["u1", 1, 5],          # duplicate (u1, 1), not adjacent to the first
        ["u3", 4, " 7 "],      # whitespace around values is fine
    ])
    frame, tally = read_ratings(path)
    assert tally.as_dict() == {"total": 11, "kept": 3, "dropped": {
        "duplicate_user_anime": 2, "rating_not_a_number": 4, "rating_out_of_scale": 2}}
    assert frame.values.tolist() == [["u1", 1, 8.0], ["u2", 3, 10.0], ["u3", 4, 7.0]]
    assert tally.kept + sum(tally.dropped.values()) == tally.total


def test_invalid_rating_does_not_shadow_a_later_valid_duplicate(tmp_path):
    path = write_csv(tmp_path / "ratings.csv", HEADER, [["u1", 1, "x"], ["u1", 1, 6]])
    frame, tally = read_ratings(path)
    assert frame.values.tolist() == [["u1", 1, 6.0]]
    assert dict(tally.dropped) == {"rating_not_a_number": 1}


def test_declared_scale(tmp_path):
    path = write_csv(tmp_path / "ratings.csv", HEADER, [["u", 1, 0], ["u", 2, 5], ["u", 3, 5.5], ["u", 4, 2.5]])
    frame, tally = read_ratings(path, RatingScale(0, 5))
    assert frame["rating"].tolist() == [0.0, 5.0, 2.5]
    assert dict(tally.dropped) == {"rating_out_of_scale": 1}
    with pytest.raises(ValueError, match="low < high"):
        RatingScale(5, 5)


def test_split_and_timestamp_columns(tmp_path):
    path = write_csv(tmp_path / "ratings.csv", HEADER + ["timestamp", "split"], [
        ["u", 1, 5, "1700000000", "train"], ["u", 2, 6, "1700000001", " Test "], ["u", 3, 7, "", "VAL"]])
    frame, _ = read_ratings(path)
    assert frame["split"].tolist() == ["train", "test", "val"]
    assert frame["timestamp"].tolist() == ["1700000000", "1700000001", ""]


def test_integral_anime_id_text_accepted(tmp_path):
    path = write_csv(tmp_path / "ratings.csv", HEADER, [["u", "7.0", 5], ["u", " 8 ", 5]])
    frame, _ = read_ratings(path)
    assert frame["anime_id"].tolist() == [7, 8]


def test_header_only_file_gives_an_empty_frame(tmp_path):
    path = write_csv(tmp_path / "ratings.csv", HEADER, [])
    frame, tally = read_ratings(path)
    assert len(frame) == 0 and tally.total == 0 and tally.kept == 0


# ------------------------------------------------------------------ fatal errors

@pytest.mark.parametrize("header, rows, record, field, message", [
    (["user_id", "anime", "rating"], [["u", 1, 5]], None, None, "missing column(s) anime_id"),
    (["user", "anime", "score"], [["u", 1, 5]], None, None, "missing column(s) user_id, anime_id, rating"),
    (HEADER, [["u", 1, 5], ["u", "abc", 5]], 3, "anime_id", "anime id must be an integer, got 'abc'"),
    (HEADER, [["u", "1.5", 5]], 2, "anime_id", "got '1.5'"),
    (HEADER, [["u", 1, 5], ["u", 2, 5], ["u", "inf", 5]], 4, "anime_id", "got 'inf'"),
    (HEADER, [["u", "1e30", 5]], 2, "anime_id", "got '1e30'"),
    (HEADER, [["u", "", 5]], 2, "anime_id", "got ''"),
    (HEADER, [["u", 1, 5], [" ", 2, 5]], 3, "user_id", "empty user id"),
    (HEADER + ["split"], [["u", 1, 5, "train"], ["u", 2, 5, "validation"]], 3, "split",
     "split must be one of train/val/test, got 'validation'"),
    (HEADER + ["split"], [["u", 1, 5, ""]], 2, "split", "got ''"),
])
def test_fatal_csv_errors_name_file_line_and_field(tmp_path, header, rows, record, field, message):
    path = write_csv(tmp_path / "ratings.csv", header, rows)
    with pytest.raises(InputError) as info:
        read_ratings(path)
    text = str(info.value)
    expected_where = str(path) + (f", record {record}" if record is not None else "") + (
        f", field '{field}'" if field is not None else "")
    assert text.startswith(expected_where + ": ")
    assert message in text
    assert "\n" not in text


def test_unreadable_csvs(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match=r"empty\.csv: not a readable CSV"):
        read_ratings(empty)
    broken = tmp_path / "broken.csv"
    broken.write_text('user_id,anime_id,rating\n"u,1,5\n')
    with pytest.raises(InputError, match=r"broken\.csv: not a readable CSV \(.*\)$"):
        read_ratings(broken)
    with pytest.raises(InputError, match="file not found"):
        read_ratings(tmp_path / "missing.csv")


@pytest.mark.parametrize("content, message", [
    ("[1,", "not valid JSON"),
    ('{"user_id": "u"}', "expected a JSON array"),
    ('[{"user_id": "u", "ratings": 5}]', "record 0, field 'ratings'"),
    ('[{"user_id": "u", "ratings": []}, {"user_id": "v", "ratings": [[1, 5]]}]', "record 1, field 'ratings[0]'"),
    ('[{"user_id": "u", "ratings": [{"anilist_id": 1, "rating": 5}]},'
     ' {"user_id": "v", "ratings": [{"anilist_id": 2, "rating": 5}, {"anilist_id": "two", "rating": 5}]}]',
     "record 1 (ratings[1]), field 'anime_id': anime id must be an integer, got 'two'"),
    ('[{"ratings": [{"anilist_id": 1, "rating": 5}]}]', "record 0 (ratings[0]), field 'user_id': empty user id"),
])
def test_fatal_grouped_json_errors(tmp_path, content, message):
    path = tmp_path / "user_ratings.json"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        read_ratings(path)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)


def test_find_ratings_file_prefers_csv(tmp_path):
    with pytest.raises(InputError, match="no ratings.csv"):
        find_ratings_file(tmp_path)
    write_json(tmp_path / "user_ratings.json", [])
    assert find_ratings_file(tmp_path) == tmp_path / "user_ratings.json"
    write_csv(tmp_path / "ratings.csv", HEADER, [])
    assert find_ratings_file(tmp_path) == tmp_path / "ratings.csv"


# ------------------------------------------------------------------ property-based

_rating_text = st.one_of(st.integers(-2, 13).map(str), st.sampled_from(["", "x", "nan", "inf", "7.5", " 3 ", "1e1"]))
_rows = st.lists(st.tuples(st.sampled_from(["a", "b", "c", "007"]), st.integers(1, 6), _rating_text), max_size=40)


def _reference(rows, scale=RatingScale()):
    """What read_ratings must return, computed the plain way."""
    kept, seen, dropped = [], set(), {}
    for user, anime, text in rows:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if value != value or value in (float("inf"), float("-inf")):
            dropped["rating_not_a_number"] = dropped.get("rating_not_a_number", 0) + 1
        elif not scale.low <= value <= scale.high:
            dropped["rating_out_of_scale"] = dropped.get("rating_out_of_scale", 0) + 1
        elif (user, anime) in seen:
            dropped["duplicate_user_anime"] = dropped.get("duplicate_user_anime", 0) + 1
        else:
            seen.add((user, anime))
            kept.append([user, anime, value])
    return kept, dropped


@settings(max_examples=60, deadline=None)
@given(rows=_rows, grouped=st.booleans())
def test_random_rating_files_match_reference(rows, grouped):
    with tempfile.TemporaryDirectory() as d:
        if grouped:
            users: dict[str, list] = {}
            for u, a, r in rows:
                users.setdefault(u, []).append({"anilist_id": a, "rating": r})
            path = write_json(Path(d) / "user_ratings.json",
                              [{"user_id": u, "ratings": rs} for u, rs in users.items()])
            rows = [(u, e["anilist_id"], e["rating"]) for u, rs in users.items() for e in rs]
        else:
            path = write_csv(Path(d) / "ratings.csv", HEADER, rows)
        frame, tally = read_ratings(path)
    kept, dropped = _reference(rows)
    assert frame.values.tolist() == kept
    assert dict(tally.dropped) == dropped
    assert tally.total == len(rows) and tally.kept == len(frame)
    assert not frame.duplicated(["user_id", "anime_id"]).any()


# ------------------------------------------------------------------ issue 17, defect 9

def test_ids_above_2_53_do_not_round_through_float64(tmp_path):
    big = 2**53 + 1  # float64 would read it as 2**53
    path = write_csv(tmp_path / "ratings.csv", HEADER, [["u", str(big), 5], ["u", "4.0", 6], ["v", " 7 ", 7],
                                                        ["v", str(2**63 - 1), 8]])
    frame, _ = read_ratings(path)
    assert frame["anime_id"].tolist() == [big, 4, 7, 2**63 - 1]
    for bad in (str(2**63), "1e3", "0x10", "4.5", "--4"):
        path = write_csv(tmp_path / "bad.csv", HEADER, [["u", bad, 5]])
        with pytest.raises(InputError, match="anime id must be an integer"):
            read_ratings(path)


def test_a_bom_is_not_part_of_the_header(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_bytes("\ufeffuser_id,anime_id,rating\nu,1,5\n".encode("utf-8"))
    frame, _ = read_ratings(path)
    assert frame.iloc[0].tolist() == ["u", 1, 5.0]


def test_non_utf8_and_folders_are_input_errors(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_bytes(b"user_id,anime_id,rating\nu,1,5\n" + b"\xff\xfe" * 10)
    with pytest.raises(InputError, match=r"ratings\.csv: not UTF-8 text"):
        read_ratings(path)
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    with pytest.raises(InputError, match=r"dir\.csv: is a folder, not a file"):
        read_ratings(folder)


def test_the_scale_must_be_finite():
    with pytest.raises(ValueError, match="finite bounds"):
        RatingScale(0, float("inf"))


# ------------------------------------------------------------------ chunked reading (issue: real-size data)

def _chunked_equals_whole(path, sizes=(1, 2, 3, 7)):
    """Every chunk size gives what one whole read gives: frame, tally, or the same one-line error."""
    def outcome(chunk_rows):
        try:
            frame, tally = read_ratings(path, chunk_rows=chunk_rows)
        except InputError as err:
            return str(err)
        return frame, tally.as_dict()

    whole = outcome(10**9)
    for size in sizes:
        got = outcome(size)
        if isinstance(whole, str):
            assert got == whole, size
        else:
            pd.testing.assert_frame_equal(got[0], whole[0])
            assert got[1] == whole[1], size
    return whole


def test_chunked_read_equals_whole_read(tmp_path):
    path = write_csv(tmp_path / "ratings.csv", HEADER + ["timestamp", "split"], [
        ["u2", 1, 8, "1", "train"], ["u1", 2, "x", "2", "test"], ["u1", 3, 11, "", "val"],
        ["u3", 1, 7, "3", " VAL "], ["u2", 1, 5, "4", "train"],   # duplicate of line 2, in another chunk
        ["u1", "7.0", 6, "5", "train"], ["u10", " 8 ", 6, "6", "test"], ["u2", str(2**53 + 1), 9, "7", "train"]])
    frame, tally = _chunked_equals_whole(path)
    assert frame["user_id"].tolist() == ["u2", "u3", "u1", "u10", "u2"]
    assert frame["anime_id"].tolist() == [1, 1, 7, 8, 2**53 + 1]
    assert frame["split"].tolist() == ["train", "val", "train", "test", "train"]
    assert frame["timestamp"].tolist() == ["1", "3", "5", "6", "7"]
    assert tally == {"total": 8, "kept": 5, "dropped": {
        "duplicate_user_anime": 1, "rating_not_a_number": 1, "rating_out_of_scale": 1}}


def test_user_ids_are_one_sorted_categorical(tmp_path):
    """Compact user ids: int codes into sorted categories, so sorting by them sorts by the id text."""
    path = write_csv(tmp_path / "ratings.csv", HEADER, [["b", 1, 5], ["a", 1, 5], ["c", 1, 5], ["a", 2, 5]])
    frame, _ = read_ratings(path, chunk_rows=1)
    assert isinstance(frame["user_id"].dtype, pd.CategoricalDtype)
    assert frame["user_id"].cat.categories.tolist() == ["a", "b", "c"]
    assert frame["user_id"].cat.codes.tolist() == [1, 0, 2, 0]
    assert frame.sort_values("user_id", kind="stable")["user_id"].tolist() == ["a", "a", "b", "c"]


@pytest.mark.parametrize("rows, record, field", [
    # each kind of problem is reported at its first line in the whole file, even in a later chunk,
    # and an empty user id is reported before an earlier bad anime id, as a whole read does
    ([["u", 1, 5], ["u", "x", 5], ["u", 3, 5], [" ", 4, 5]], 5, "user_id"),
    ([["u", 1, 5], ["u", 2, 5], ["u", 3, 5], ["u", "4.5", 5], ["u", "y", 5]], 5, "anime_id"),
])
def test_chunked_read_reports_the_first_problem_of_the_whole_file(tmp_path, rows, record, field):
    path = write_csv(tmp_path / "ratings.csv", HEADER, rows)
    message = _chunked_equals_whole(path)
    assert message.startswith(f"{path}, record {record}, field '{field}': ")


def test_a_parse_error_in_a_later_chunk_is_the_same_error(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("user_id,anime_id,rating\nu,1,5\nu,2,5\nu,3,5\nu,4,5,9\n")
    assert "not a readable CSV" in _chunked_equals_whole(path)


@settings(max_examples=60, deadline=None)
@given(rows=_rows, chunk_rows=st.integers(1, 5))
def test_random_files_read_in_chunks_match_reference(rows, chunk_rows):
    with tempfile.TemporaryDirectory() as d:
        frame, tally = read_ratings(write_csv(Path(d) / "ratings.csv", HEADER, rows), chunk_rows=chunk_rows)
    kept, dropped = _reference(rows)
    assert frame.values.tolist() == kept
    assert dict(tally.dropped) == dropped
