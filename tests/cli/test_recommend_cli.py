"""``anime-gnn export / rollback / recommend``: summaries, tables, JSON; one-line errors without tracebacks."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from gnn.export import ExportError, gnn_export
from tests.export import tiny


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory) -> Path:
    return tiny.exported(tmp_path_factory)


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def one_error_line(result) -> str:
    """The one ``error:`` line on stderr (progress notes may precede it); no traceback anywhere."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return lines[0]


def test_export_then_rollback(tmp_path_factory, tmp_path):
    model_dir = tiny.trained(tmp_path_factory)
    out = tmp_path / "anime_recommender"
    args = ("export", "--model-dir", str(model_dir), "--output-dir", str(out), "--exporter", "torchscript",
            "--max-history", "8")
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    assert re.search(r"exported .*anime_recommender/ version \S+", first.stdout)
    assert re.search(r"model\.onnx \d+\.\d\d MB", first.stdout)
    assert re.search(r"parity vs PyTorch: max \|diff\| \d\.\d\de[-+]\d\d", first.stdout)
    second = invoke(*args)
    assert second.exit_code == 0 and "previous export kept as version" in second.stdout
    back = invoke("rollback", "--output-dir", str(out))
    assert back.exit_code == 0 and back.stdout.startswith("restored version ")
    assert one_error_line(invoke("rollback", "--output-dir", str(out))).startswith("error: ")


def test_export_failure_is_one_line(tmp_path_factory, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ExportError("parity check failed: max |ONNX - PyTorch| = 0.5 > tolerance 0.0001; nothing was deployed")

    monkeypatch.setattr(gnn_export, "check_gnn_parity", broken)
    result = invoke("export", "--model-dir", str(tiny.trained(tmp_path_factory)), "--output-dir",
                    str(tmp_path / "m"), "--exporter", "torchscript", "--max-history", "4")
    assert result.exit_code == 1 and "parity check failed" in one_error_line(result)
    assert not (tmp_path / "m").exists()


def test_recommend_table_and_json(export_dir, tmp_path):
    table = invoke("recommend", "--model-dir", str(export_dir), "--ratings", "1:10, 8:2", "--top-k", "3")
    assert table.exit_code == 0, table.output
    lines = table.stdout.split("\n\n")[0].splitlines()   # the table, without the series-to-continue line
    assert lines[0].split()[:3] == ["rank", "title", "rating"]
    assert [line.split()[0] for line in lines[1:] if not line.startswith(" " * 6)] == ["1", "2", "3"]
    # Show 0 S1 rated 10: its franchise's card is season 2, season 3 listed under it.
    assert re.search(r"Show 0 S2 .* sequel of Show 0 S1, which you rated 10\n +also in this series: Show 0 S3 \(\d+\.\d\)",
                     invoke("recommend", "--model-dir", str(export_dir), "--ratings", "1:10", "--top-k", "20").stdout)
    as_json = invoke("recommend", "--model-dir", str(export_dir), "--user-id", "u003", "--top-k", "5", "--json",
                     "--format", "TV,OVA", "--year-min", "2003")
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)["recommendations"]
    assert 0 < len(rows) <= 5 and all(r["format"] in ("TV", "OVA") and r["year"] >= 2003 for r in rows)
    assert {"rank", "anime_id", "title", "predicted_rating", "reason"} <= set(rows[0])
    airing = invoke("recommend", "--model-dir", str(export_dir), "--ratings", "1:10", "--json", "--no-group",
                    "--status", "releasing", "--status", "NOT_YET_RELEASED")
    assert [r["title"] for r in json.loads(airing.stdout)["recommendations"]] in (["Show 8 S3", "Show 9 S3"],
                                                                                ["Show 9 S3", "Show 8 S3"])
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("anime_id,rating\n1,10\n2,9\n")
    from_file = invoke("recommend", "--model-dir", str(export_dir), "--ratings-file", str(csv_file), "--json")
    assert from_file.exit_code == 0
    assert not {1, 2} & {r["anime_id"] for r in json.loads(from_file.stdout)["recommendations"]}


def test_recommend_groups_by_franchise_unless_told_not_to(export_dir):
    grouped = json.loads(invoke("recommend", "--model-dir", str(export_dir), "--ratings", "31:5", "--top-k", "50",
                                "--json").stdout)["recommendations"]
    assert len(grouped) == 10 and all(r["kind"] == "entry" and len(r["other_entries"]) == 2 for r in grouped)
    raw = invoke("recommend", "--model-dir", str(export_dir), "--ratings", "31:5", "--top-k", "50", "--json",
                 "--no-group")
    rows = json.loads(raw.stdout)["recommendations"]
    assert len(rows) == 30 and not {"kind", "other_entries"} & set(rows[0])
    assert [r["anime_id"] for r in grouped] == sorted({r["anime_id"] for r in grouped},
                                                      key=lambda a: min(i for i, r in enumerate(rows)
                                                                        if (r["anime_id"] - 1) // 3 == (a - 1) // 3))


def test_recommend_continue_lists_next_entries_and_says_when_there_are_none(export_dir):
    base = ("recommend", "--model-dir", str(export_dir), "--ratings", "1:9,5:4")
    rows = json.loads(invoke(*base, "--continue", "--json").stdout)["recommendations"]
    assert [r["anime_id"] for r in rows] in ([2, 6], [6, 2]) and all(r["kind"] == "next" for r in rows)
    table = invoke(*base, "--continue")
    assert table.exit_code == 0 and "sequel of Show 0 S1, which you rated 9" in table.stdout
    assert table.stdout.splitlines()[0].split() == ["rank", "title", "rating", "reason"]
    none = invoke("recommend", "--model-dir", str(export_dir), "--ratings", "31:9", "--continue")
    assert none.exit_code == 0 and none.stdout == "no series to continue: no franchise you started has an " \
                                                   "unrated next entry\n"
    adult = invoke(*base, "--continue", "--json", "--adult")     # no adult title in this catalog: the same rows
    assert adult.exit_code == 0 and json.loads(adult.stdout)["recommendations"] == rows
    filtered = invoke(*base, "--continue", "--year-min", "3000")
    assert filtered.stdout.endswith("next entry that passes these filters\n")


def test_the_list_names_the_series_to_continue_that_it_does_not_show(export_dir):
    base = ("recommend", "--model-dir", str(export_dir), "--ratings", "1:9,5:4")
    nexts = {r["anime_id"]: r["title"] for r in json.loads(invoke(*base, "--continue", "--json").stdout)["recommendations"]}
    one = json.loads(invoke(*base, "--top-k", "1", "--json").stdout)["recommendations"]
    left = [title for a, title in nexts.items() if a not in {r["anime_id"] for r in one}]
    table = invoke(*base, "--top-k", "1").stdout
    assert left and table.endswith(f"\nnext in series you started: {', '.join(left)} (--continue lists them)\n")
    everything = invoke(*base, "--top-k", "50").stdout     # every franchise has its card: nothing to add
    assert set(nexts.values()) <= set(re.findall(r"^ +\d+  (.+?) +\d+\.\d\d  ", everything, flags=re.M))
    assert "next in series" not in everything
    assert "next in series" not in invoke(*base, "--top-k", "1", "--no-group").stdout


def test_the_continue_hint_counts_what_it_does_not_name():
    from cli.recommend import _continue_hint

    nexts = [{"anime_id": a, "title": f"T{a}"} for a in (3, 4, 5, 6, 7)]
    assert _continue_hint(nexts) == "\nnext in series you started: T3, T4, T5 and 2 more (--continue lists them)"
    assert _continue_hint(nexts[:3]) == "\nnext in series you started: T3, T4, T5 (--continue lists them)"
    assert _continue_hint([]) == ""


LISTS = Path(__file__).resolve().parents[1] / "fixtures" / "lists"


def test_recommend_from_a_mal_export(export_dir, tmp_path):
    """tests/fixtures/lists/mal_export.xml on the tiny catalog (anime i = MAL id 100 + i)."""
    plain = invoke("recommend", "--model-dir", str(export_dir), "--list-file", str(LISTS / "mal_export.xml"),
                   "--json", "--top-k", "50")
    assert plain.exit_code == 0, plain.output
    assert plain.stderr.splitlines()[:2] == [
        "read 11 entries (mal-xml): 4 rated, 2 without a score (left out of "
        "recommendations), 1 plan-to-watch (marked, not ratings)", "skipped: 2 not in this model's catalog, 2 invalid"]
    rows = json.loads(plain.stdout)["recommendations"]
    listed = {r["anime_id"] for r in rows} | {o["anime_id"] for r in rows for o in r["other_entries"]}
    assert not listed & {13, 7, 1, 16, 4, 5}  # rated, and on the list without a score
    by_id = {r["anime_id"]: r for r in rows}
    assert by_id[2]["reason"] == "sequel of Show 0 S1, which you rated 9"
    assert by_id[6]["reason"] == "sequel of Show 1 S2, which is on your list"  # watching S2, unscored
    assert by_id[10]["planned"] is True and not any(r["planned"] for r in rows if r["anime_id"] != 10)
    gz = tmp_path / "animelist.xml.gz"
    gz.write_bytes(gzip.compress((LISTS / "mal_export.xml").read_bytes()))
    zipped = invoke("recommend", "--model-dir", str(export_dir), "--list-file", str(gz), "--json", "--top-k", "50")
    assert zipped.exit_code == 0 and json.loads(zipped.stdout) == json.loads(plain.stdout)
    table = invoke("recommend", "--model-dir", str(export_dir), "--list-file", str(LISTS / "anilist_list.json"))
    assert table.exit_code == 0 and table.stdout.startswith("read 9 entries (anilist-json): 3 rated")
    assert "not in the catalog: Glass Orchard\nrank  title" in table.stdout


def test_a_title_the_terminal_cannot_encode_is_printed_escaped(export_dir, tmp_path):
    # Valid JSON: a lone surrogate in the title of an anime that is not in the catalog (the report lists it).
    entry = {"mediaId": 9999, "score": 8, "status": "COMPLETED", "media": {"title": {"romaji": "Bad \ud800 title"}}}
    doc = {"MediaListCollection": {"user": {"mediaListOptions": {"scoreFormat": "POINT_10"}},
                                   "lists": [{"entries": [entry]}]}}
    path = tmp_path / "anilist.json"
    path.write_text(json.dumps(doc))   # ensure_ascii keeps the lone surrogate as the escape \ud800
    result = invoke("recommend", "--model-dir", str(export_dir), "--list-file", str(path))
    assert result.exit_code == 0, result.output
    assert "Bad \\ud800 title" in result.stdout


def test_a_bad_list_file_is_one_error_line(export_dir, tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_bytes((LISTS / "mal_export.xml").read_bytes()[:700])
    result = invoke("recommend", "--model-dir", str(export_dir), "--list-file", str(broken))
    assert result.exit_code == 2
    assert one_error_line(result).startswith(f"error: {broken}: not well-formed XML (")


@pytest.mark.parametrize("args, message", [
    (["--ratings", "1:9,424242:8,zzz:3,1:5"], "unknown anime id(s) in the ratings (not in this model's catalog): "
                                                "424242, zzz"),
    (["--ratings", "1:9,oops,2-3"], "--ratings expects ANIME_ID:RATING pairs separated by commas"),
    (["--ratings", "1:nine"], "bad item(s): '1:nine'"),
    (["--ratings", "1:12"], "outside the 1-10 scale: 1:12"),
    (["--user-id", "u001", "--ratings", "1:9"], "give one of --user-id, --ratings, --ratings-file, --list-file"),
    (["--list-file", "/nonexistent/animelist.xml"], "--list-file /nonexistent/animelist.xml: no such file"),
    ([], "give --user-id for a known user"),
    (["--user-id", "nobody"], "unknown user id 'nobody'"),
    (["--ratings-file", "/nonexistent/list.csv"], "no such file"),
    (["--ratings", "1:9", "--year-min", "2010", "--year-max", "2000"], "--year-min 2010 is after --year-max 2000"),
    (["--ratings", "1:9", "--status", "AIRED"], "--status AIRED: not one of FINISHED, RELEASING, NOT_YET_RELEASED"),
    (["--ratings", "1:9", "--continue", "--no-group"], "--continue lists unrated next entries, one per franchise: "
                                                       "it does not go with --no-group"),
])
def test_recommend_errors_are_one_line(export_dir, args, message):
    result = invoke("recommend", "--model-dir", str(export_dir), *args)
    assert result.exit_code == 2
    assert message in one_error_line(result)


def test_missing_model_dir(tmp_path):
    result = invoke("recommend", "--model-dir", str(tmp_path / "nothing"), "--ratings", "1:9")
    assert result.exit_code == 2
    assert "no ONNX export here" in one_error_line(result)


@pytest.mark.parametrize("content, message", [("{", "mappings.json: not valid JSON"),
                                               ("{}", "mappings.json: not the shape preprocess writes")])
def test_export_names_a_damaged_preprocess_file(tmp_path_factory, tmp_path, content, message):
    import shutil

    model_dir = tiny.trained(tmp_path_factory)
    data = tmp_path / "processed"
    shutil.copytree(tiny._CACHE["processed"], data)
    (data / "mappings.json").write_text(content)
    result = invoke("export", "--model-dir", str(model_dir), "--output-dir", str(tmp_path / "m"),
                    "--data-dir", str(data), "--exporter", "torchscript", "--max-history", "4")
    assert result.exit_code == 2 and message in one_error_line(result)
    assert not (tmp_path / "m").exists()


def test_recommend_discover_reorders_the_list_and_refuses_what_it_cannot_mean(export_dir):
    base = ("recommend", "--model-dir", str(export_dir), "--ratings", "1:9", "--top-k", "50", "--json", "--no-group")
    plain = json.loads(invoke(*base).stdout)["recommendations"]
    leaned = json.loads(invoke(*base, "--discover", "2").stdout)["recommendations"]
    assert sorted(r["anime_id"] for r in leaned) == sorted(r["anime_id"] for r in plain)
    assert [r["anime_id"] for r in leaned] != [r["anime_id"] for r in plain]
    below = invoke(*base, "--discover", "-1")
    assert below.exit_code == 2 and "Invalid value for '--discover': -1.0 is not in the range x>=0." in below.output
    assert one_error_line(invoke(*base, "--discover", "nan")) == \
        "error: discover must be a number >= 0 (0 = the model's order), got nan"
    with_continue = invoke("recommend", "--model-dir", str(export_dir), "--ratings", "1:9", "--continue", "--discover", "1")
    assert one_error_line(with_continue) == \
        "error: --continue lists the next entries by predicted rating: --discover does not apply to it"


def test_an_anime_given_twice_is_named_and_its_last_rating_used(export_dir, tmp_path):
    twice = invoke("recommend", "--model-dir", str(export_dir), "--ratings", "1:10,8:2,1:3", "--json")
    assert twice.exit_code == 0, twice.output
    assert twice.stderr.strip() == "note: 1 anime given more than once, the last rating of each is used: 1 (10, 3)"
    last = invoke("recommend", "--model-dir", str(export_dir), "--ratings", "8:2,1:3", "--json")
    assert json.loads(twice.stdout)["recommendations"] == json.loads(last.stdout)["recommendations"]
    assert invoke("recommend", "--model-dir", str(export_dir), "--ratings", "1:10,8:2", "--json").stderr == ""
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("anime_id,rating\n" + "".join(f"{a},{r}\n" for a in range(1, 8) for r in (9, 7)))
    from_file = invoke("recommend", "--model-dir", str(export_dir), "--ratings-file", str(csv_file), "--top-k", "1")
    assert from_file.exit_code == 0
    assert from_file.stderr.strip() == ("note: 7 anime given more than once, the last rating of each is used: "
                                        "1 (9, 7), 2 (9, 7), 3 (9, 7), 4 (9, 7), 5 (9, 7) and 2 more")


def test_no_ratings_given_says_so_and_gives_the_list_for_nobody(export_dir, tmp_path):
    empty = invoke("recommend", "--model-dir", str(export_dir), "--ratings", " , ", "--json")
    assert empty.exit_code == 0, empty.output
    assert empty.stderr.strip() == "note: --ratings gave no ratings: the list is for someone who has rated nothing yet"
    header_only = tmp_path / "empty.csv"
    header_only.write_text("anime_id,rating\n")
    from_file = invoke("recommend", "--model-dir", str(export_dir), "--ratings-file", str(header_only), "--json")
    assert from_file.stderr.strip() == (f"note: --ratings-file {header_only} gave no ratings: the list is for "
                                        "someone who has rated nothing yet")
    assert json.loads(empty.stdout) == json.loads(from_file.stdout)
    assert invoke("recommend", "--model-dir", str(export_dir), "--ratings", "1:9", "--json").stderr == ""
