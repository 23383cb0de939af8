"""gnn.preprocess end to end on the hand-written fixtures and small generated datasets."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from gnn.data.schema import RELATION_TYPES
from gnn.errors import InputError
from gnn.graph.config import DEFAULT_RELATION_WEIGHTS
from gnn.graph.features import FEATURE_NAMES
from gnn.preprocess import PreprocessConfig, _fingerprint, preprocess
from gnn.export.display import read_catalog_side
from gnn.processed import load_processed, load_split, split_frame
from tests.builders import make_dataset, write_csv

SPLIT_NPY = tuple(f"{s}_{c}.npy" for s in ("train", "val", "test", "cold") for c in ("user", "anime", "rating"))
OUTPUTS = (*SPLIT_NPY, "holdout_ratings.csv",
           "data_stats.json", "anime_metadata.json", "mappings.json", "graph.pt", "preprocess_report.json")
SPLIT_FILES = ("train", "val", "test", "holdout")


def run(input_dir: Path, output_dir: Path, **overrides):
    config = PreprocessConfig(**{"min_ratings": 1, "holdout_user_frac": 0.0, "val_frac": 0.25,
                                 "test_frac": 0.25, **overrides})
    return preprocess(input_dir, output_dir, config)


def load(out: Path, name: str):
    return json.loads((out / name).read_text(encoding="utf-8"))


def splits(out: Path) -> dict[str, pd.DataFrame]:
    return {s: split_frame(out, s) for s in SPLIT_FILES}


def assert_tallies_add_up(report: dict) -> None:
    for section in ("anime", "ratings", "relations"):
        part = report[section]
        assert part["kept"] + sum(part["dropped"].values()) == part["total"], section
        assert part["kept"] >= 0


@pytest.fixture
def fixture_run(input_dir, tmp_path):
    out = tmp_path / "out"
    return run(input_dir, out), out


# ------------------------------------------------------------------ outputs and report

def test_all_outputs_written_and_report_counts(fixture_run):
    result, out = fixture_run
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)   # no temporary files left
    report = load(out, "preprocess_report.json")
    assert report == result.report
    # Every catalog anime is a graph node, rated or not (107 is never rated).
    assert report["anime"] == {"total": 7, "kept": 7, "dropped": {},
                               "notes": {"never_rated": 1, "relations_unknown_type_as_other": 1,
                                         "with_training_ratings": 4}}
    assert report["ratings"] == {"total": 16, "kept": 16, "dropped": {}}
    # Relations to and from the unrated 107 are kept too; only 999 (not in the catalog) is not.
    assert report["relations"] == {
        "total": 11, "kept": 8,
        "dropped": {"duplicate_pair": 1, "self_relation": 1, "target_not_in_catalog": 1},
        "notes": {"inverse_edges_added": 6}}
    # val/test 0.25: users with 4, 3, 3, 4, 2 ratings -> train 2+1+1+2+1, val 1+1+1+1+0, test 1+1+1+1+1
    assert report["splits"] == {"train": 7, "val": 4, "test": 5, "holdout": 0, "cold": 0}
    assert report["users"] == {"train_users": 5, "holdout_users": 0}
    assert report["graph_edges"]["anime/related_to/anime"] == 14
    # 101 and 104 credit a producer (Orbit Pictures) besides the animation studio.
    assert report["graph_edges"]["anime/animated_by/studio"] == report["graph_edges"]["studio/animates/anime"] == 5
    assert report["graph_edges"]["anime/produced_by/studio"] == report["graph_edges"]["studio/produces/anime"] == 2
    assert report["graph_edges"]["anime/has_genre/genre"] == 9
    assert_tallies_add_up(report)


def test_graph_pt_loads_with_weights_only(fixture_run):
    _, out = fixture_run
    blob = torch.load(out / "graph.pt", weights_only=True)
    assert blob["format_version"] == 3
    assert set(blob["tables"]) == {"genre_idx", "tag_idx", "tag_w", "studio_idx", "studio_w",
                                   "rel_idx", "rel_w", "rel_type"}
    data = load_processed(out)
    data.graph.validate(raise_on_error=True)
    assert data.graph["anime"].num_nodes == data.n_anime == 8   # 7 catalog anime + padding
    assert (len(data.train), len(data.val), len(data.test), len(data.holdout), len(data.cold)) == (7, 4, 5, 0, 0)
    # Each anime carries its number of training ratings; the never-rated 107 (index 7) has none.
    assert torch.equal(data.anime_train_count, torch.bincount(data.train.anime, minlength=8))
    assert int(data.anime_train_count[7]) == 0 and int(data.anime_train_count.sum()) == 7
    assert data.train.user.dtype == data.train.anime.dtype == torch.long and data.train.rating.dtype == torch.float32
    assert int(data.train.anime.min()) >= 1 and int(data.train.user.min()) >= 1


def test_a_folder_of_the_older_preprocess_is_refused_in_one_line(fixture_run, tmp_path):
    """Format 1 called data_stats.json model_config.json: such a folder is made again, not read."""
    _, out = fixture_run
    old = tmp_path / "old"
    shutil.copytree(out, old)
    (old / "data_stats.json").rename(old / "model_config.json")
    with pytest.raises(InputError) as err:
        load_processed(old)
    assert str(err.value) == (f"{old}: written by an older anime-gnn (model_config.json, now data_stats.json); "
                              "rerun `anime-gnn preprocess` to make it again")
    with pytest.raises(InputError) as err:
        load_processed(tmp_path / "nothing")
    assert str(err.value) == f"{tmp_path / 'nothing'}: no data_stats.json here; run `anime-gnn preprocess` first"


def test_a_format_2_folder_is_refused_in_one_line(fixture_run, tmp_path):
    """Format 2 wrote the rating splits as CSV: such a folder is made again, not read."""
    _, out = fixture_run
    old = tmp_path / "old"
    shutil.copytree(out, old)
    stats = load(old, "data_stats.json")
    (old / "data_stats.json").write_text(json.dumps({**stats, "format_version": 2}))
    for name in SPLIT_NPY:
        (old / name).unlink()
    (old / "train_ratings.csv").write_text("user_id,anime_id,rating,user_idx,anime_idx\n")
    for load_it in (load_processed, lambda d: read_catalog_side(d, 8, None)):
        with pytest.raises(InputError) as err:
            load_it(old)
        assert str(err.value) == (f"{old}: written by an older anime-gnn (format 2: rating splits as CSV, now "
                                  "memory-mapped .npy); rerun `anime-gnn preprocess` to make it again")


def _mapped_file(address: int) -> str | None:
    """The file whose memory mapping holds ``address`` in this process (Linux /proc/self/maps), or None."""
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        low, high = (int(x, 16) for x in fields[0].split("-"))
        if low <= address < high:
            return fields[5] if len(fields) == 6 else None
    return None


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads the memory map of the process (Linux)")
def test_the_splits_are_memory_mapped_not_copied(fixture_run):
    """Each split column is its .npy file mapped: equal to what was written, and the tensor's memory is
    the mapping itself (no copy of tens of millions of ratings at load time)."""
    _, out = fixture_run
    data = load_processed(out)
    frame = splits(out)
    for name in ("train", "val", "test"):
        mapped = load_split(out, name)
        for column, tensor in (("user", mapped.user), ("anime", mapped.anime), ("rating", mapped.rating)):
            written = np.load(out / f"{name}_{column}.npy")
            assert np.array_equal(tensor.numpy(), written) and tensor.numpy().dtype == written.dtype
            assert _mapped_file(tensor.data_ptr()) == str((out / f"{name}_{column}.npy").resolve()), (name, column)
        loaded = getattr(data, name)  # load_processed: indices widened to long, ratings still the mapping
        assert torch.equal(loaded.user, mapped.user.long()) and torch.equal(loaded.anime, mapped.anime.long())
        assert _mapped_file(loaded.rating.data_ptr()) == str((out / f"{name}_rating.npy").resolve())
        assert torch.equal(loaded.user, torch.tensor(frame[name]["user_idx"].to_numpy()))
    # Rows sorted by (user, anime) index, the order the CSV splits had.
    user, anime = data.train.user.numpy().astype(np.int64), data.train.anime.numpy().astype(np.int64)
    key = user * 1000 + anime
    assert (np.diff(key) > 0).all()
    # A write to a loaded tensor never reaches the file (copy-on-write mapping).
    before = (out / "train_rating.npy").read_bytes()
    load_processed(out).train.rating[0] = -1.0
    assert (out / "train_rating.npy").read_bytes() == before


def test_mappings_are_invertible_and_padded(fixture_run):
    _, out = fixture_run
    mappings, stats = load(out, "mappings.json"), load(out, "data_stats.json")
    assert mappings["padding_index"] == 0 and mappings["relation_type"] == list(RELATION_TYPES)
    sizes = {"anime": "n_anime", "user": "n_users", "studio": "n_studios", "tag": "n_tags", "genre": "n_genres"}
    for kind, size in sizes.items():
        m = mappings[kind]
        assert m["index_to_id"][0] is None
        assert len(m["index_to_id"]) == stats[size] == len(m["id_to_index"]) + 1
        for i, key in enumerate(m["index_to_id"][1:], start=1):
            assert m["id_to_index"][str(key)] == i
        assert 0 not in m["id_to_index"].values()
    assert mappings["anime"]["index_to_id"][1:] == [101, 102, 103, 104, 105, 106, 107]
    assert mappings["user"]["index_to_id"][1:] == ["alice", "bob", "carol", "dave", "erin"]
    assert mappings["studio"]["index_to_id"][1:] == ["Orbit Pictures", "Paper Lantern Works", "Studio Kestrel"]


def test_rating_files_match_mappings_and_partition_the_input(fixture_run, input_dir):
    _, out = fixture_run
    mappings = load(out, "mappings.json")
    parts = splits(out)
    seen: set = set()
    for name, part in parts.items():
        assert list(part.columns) == ["user_id", "anime_id", "rating", "user_idx", "anime_idx"]
        rows = set(zip(part["user_id"], part["anime_id"], part["rating"]))
        assert not rows & seen, f"{name} overlaps another split"
        seen |= rows
        for row in part.itertuples():
            assert row.user_idx == mappings["user"]["id_to_index"][row.user_id]
            assert row.anime_idx == mappings["anime"]["id_to_index"][str(row.anime_id)]
    source = pd.read_csv(input_dir / "ratings.csv", dtype={"user_id": str})
    assert seen == set(zip(source["user_id"], source["anime_id"], source["rating"].astype(float)))
    for user, rows in pd.concat(parts.values()).groupby("user_id"):
        assert user in set(parts["train"]["user_id"])


def test_anime_metadata(fixture_run):
    _, out = fixture_run
    meta, mappings = load(out, "anime_metadata.json"), load(out, "mappings.json")
    assert [m["anime_index"] for m in meta] == [1, 2, 3, 4, 5, 6, 7]
    fields = {"anime_index", "anime_id", "id_mal", "id_anilist", "title", "title_romaji", "title_english",
              "title_native", "format", "year", "cover_image", "genres", "studios", "producers",
              "relationship_indices", "relationship_types",
              "relationship_weights", "studio_indices", "studio_weights", "tag_indices", "tag_weights",
              "genre_indices", "popularity_score", "average_score", "status", "n_train_ratings"}
    ids = mappings["anime"]["index_to_id"]
    for m in meta:
        assert set(m) == fields
        assert ids[m["anime_index"]] == m["anime_id"]
        assert len(m["relationship_indices"]) == len(m["relationship_types"]) == len(m["relationship_weights"])
        assert len(m["studio_indices"]) == len(m["studio_weights"])
        if m["studio_weights"]:
            assert sum(m["studio_weights"]) == pytest.approx(1.0, abs=1e-5)
        if m["tag_weights"]:
            assert sum(m["tag_weights"]) == pytest.approx(1.0, abs=1e-5)
        assert 0 not in m["relationship_indices"] + m["studio_indices"] + m["tag_indices"] + m["genre_indices"]
    courier = meta[0]
    assert (courier["anime_id"], courier["title"], courier["format"], courier["year"]) == (101, "Star Courier", "TV", 2015)
    assert [(m["id_mal"], m["id_anilist"]) for m in meta[:3]] == [(101, 9101), (102, 9102), (103, None)]
    assert (courier["studios"], courier["producers"]) == (["Studio Kestrel"], ["Orbit Pictures"])
    # 104 lists Paper Lantern Works twice (main and not): one animation studio, not also a producer.
    assert (meta[3]["studios"], meta[3]["producers"]) == (["Paper Lantern Works"], ["Orbit Pictures"])
    assert (meta[5]["studios"], meta[5]["producers"]) == ([], [])
    # 107 (never rated) is kept: its CHARACTER relation to 101 comes back as 101's inverse edge.
    assert [ids[i] for i in courier["relationship_indices"]] == [102, 103, 107, 106]
    assert courier["relationship_types"] == ["SEQUEL", "SIDE_STORY", "CHARACTER", "OTHER"]
    assert courier["relationship_weights"] == [1.0, 0.6, 0.3, 0.2]
    studio_names = mappings["studio"]["index_to_id"]
    assert dict(zip((studio_names[i] for i in courier["studio_indices"]), courier["studio_weights"])) == \
        pytest.approx({"Studio Kestrel": 2 / 3, "Orbit Pictures": 1 / 3}, abs=1e-6)
    assert meta[2]["title"] == "Hoshi no Haitatsunin: Side Mission"   # no English title: romaji
    assert meta[5]["popularity_score"] == 0.0                           # unknown -> the mean


def test_data_stats(fixture_run):
    _, out = fixture_run
    stats, train = load(out, "data_stats.json"), splits(out)["train"]
    assert (stats["n_anime"], stats["n_users"], stats["n_studios"], stats["n_tags"], stats["n_genres"]) == (
        8, 6, 4, 6, 6)
    assert stats["padding_index"] == 0 and stats["relation_types"] == list(RELATION_TYPES)
    assert stats["n_relation_types"] == len(RELATION_TYPES)
    assert stats["relation_type_weights"] == DEFAULT_RELATION_WEIGHTS
    assert stats["anime_feature_names"] == list(FEATURE_NAMES)
    assert (stats["max_relations"], stats["max_studios"], stats["max_tags"], stats["max_genres"]) == (4, 2, 3, 2)
    assert stats["rating_mean"] == pytest.approx(train["rating"].mean())
    assert stats["rating_std"] == pytest.approx(train["rating"].std(ddof=0))
    assert stats["rating_scale"] == {"low": 1.0, "high": 10.0}
    assert len(stats["data_fingerprint"]) == 16


# ------------------------------------------------------------------ input shapes

def test_older_shapes_give_the_same_outputs(input_dir, anilist_input_dir, tmp_path):
    new, old = tmp_path / "new", tmp_path / "old"
    r_new, r_old = run(input_dir, new), run(anilist_input_dir, old)
    for name in (*SPLIT_NPY, "holdout_ratings.csv", "mappings.json"):
        assert (new / name).read_bytes() == (old / name).read_bytes(), name
    # The older shape's id is the AniList id (the current fixture names other AniList ids): all else is equal.
    m_new, m_old = load(new, "anime_metadata.json"), load(old, "anime_metadata.json")
    assert [m.pop("id_anilist") for m in m_old] == [m["anime_id"] for m in m_old]
    assert [{k: v for k, v in m.items() if k != "id_anilist"} for m in m_new] == m_old
    c_new, c_old = load(new, "data_stats.json"), load(old, "data_stats.json")
    assert c_new.pop("data_fingerprint") != c_old.pop("data_fingerprint")   # the files differ
    assert c_new == c_old
    assert {k: v for k, v in r_new.report.items() if k != "inputs"} == \
        {k: v for k, v in r_old.report.items() if k != "inputs"}
    assert r_old.report["inputs"]["ratings"].endswith("user_ratings.json")
    g_new = torch.load(new / "graph.pt", weights_only=True)
    g_old = torch.load(old / "graph.pt", weights_only=True)
    for name, table in g_new["tables"].items():
        assert torch.equal(g_old["tables"][name], table), name
    for key, attrs in g_new["graph"]["edges"].items():
        for attr, value in attrs.items():
            assert torch.equal(g_old["graph"]["edges"][key][attr], value), (key, attr)
    assert torch.equal(g_new["graph"]["nodes"]["anime"]["x"], g_old["graph"]["nodes"]["anime"]["x"])


def test_recoverable_rating_problems_are_counted(input_dir, tmp_path):
    with open(input_dir / "ratings.csv", "a", encoding="utf-8") as f:
        f.write("frank,101,abc\nfrank,102,11\nfrank,103,0\nalice,101,3\nbob,555,7\nbob,556,8\n")
    result = run(input_dir, tmp_path / "out")
    assert result.report["ratings"] == {"total": 22, "kept": 16, "dropped": {
        "anime_not_in_catalog": 2, "duplicate_user_anime": 1, "rating_not_a_number": 1, "rating_out_of_scale": 2}}
    assert_tallies_add_up(result.report)
    everything = pd.concat(splits(tmp_path / "out").values())
    assert everything.loc[(everything["user_id"] == "alice") & (everything["anime_id"] == 101), "rating"].tolist() == [9.0]
    assert "frank" not in set(everything["user_id"])


def test_catalog_numbers_out_of_range_are_counted_in_the_report(input_dir, tmp_path):
    """Issue 17, defect 7: out-of-range numbers and unknown formats are counted, not silently used."""
    catalog = json.loads((input_dir / "anime_catalog.json").read_text(encoding="utf-8"))
    catalog[0]["averageScore"] = 1e308
    catalog[1]["popularity"] = -3
    catalog[2]["format"] = "MOTION_COMIC"
    (input_dir / "anime_catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    report = run(input_dir, tmp_path / "out").report
    notes = report["anime"]["notes"]
    assert (notes["average_score_out_of_range_as_missing"], notes["popularity_negative_as_missing"],
            notes["format_unknown"]) == (1, 1, 1)
    assert json.loads((tmp_path / "out" / "preprocess_report.json").read_text())["anime"]["notes"] == notes
    assert_tallies_add_up(report)


def test_min_ratings_filter_iterates_in_preprocess(input_dir, tmp_path):
    # min 2: anime 103 has one rating (u3) and goes; then u3 is left with one rating and goes too.
    write_csv(input_dir / "ratings.csv", ["user_id", "anime_id", "rating"],
              [["u1", 101, 8], ["u1", 102, 7], ["u2", 101, 9], ["u2", 102, 6], ["u3", 101, 5], ["u3", 103, 4]])
    report = run(input_dir, tmp_path / "out", min_ratings=2, val_frac=0.0, test_frac=0.0).report
    assert report["ratings"] == {"total": 6, "kept": 4,
                                 "dropped": {"anime_below_min_ratings": 1, "user_below_min_ratings": 1}}
    # The filter drops ratings, never anime: all 7 stay graph nodes; 103 lost its only rating.
    assert report["anime"]["kept"] == 7 and report["anime"]["dropped"] == {}
    assert report["anime"]["notes"]["ratings_all_dropped_by_min_ratings"] == 1
    assert report["anime"]["notes"]["never_rated"] == 4
    assert report["anime"]["notes"]["with_training_ratings"] == 2
    assert load(tmp_path / "out", "mappings.json")["user"]["index_to_id"] == [None, "u1", "u2"]
    assert report["relations"]["kept"] == 8
    assert_tallies_add_up(report)


def test_nothing_left_after_filtering_is_an_input_error(input_dir, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(InputError, match=r"ratings\.csv: no training ratings left after filtering"):
        run(input_dir, out, min_ratings=50)
    assert not out.exists()


# ------------------------------------------------------------------ splits and holdout

def test_holdout_users_are_kept_out_of_training(tmp_path):
    data = make_dataset(tmp_path / "in", n_anime=40, n_users=40, per_user=(12, 40), seed=1)
    out = tmp_path / "out"
    report = run(data, out, min_ratings=5, holdout_user_frac=0.1, val_frac=0.1, test_frac=0.1).report
    parts = splits(out)
    holdout = parts["holdout"]
    held = set(holdout["user_id"])
    assert report["users"]["holdout_users"] == len(held) == 4
    assert (holdout["user_idx"] == 0).all() and (holdout["anime_idx"] >= 1).all()
    assert (holdout.groupby("user_id").size() >= 25).all()
    user_ids = set(load(out, "mappings.json")["user"]["id_to_index"])
    assert not held & user_ids
    for name in ("train", "val", "test"):
        assert not held & set(parts[name]["user_id"]), name
    assert report["splits"]["holdout"] == len(holdout)
    assert sum(report["splits"].values()) == report["ratings"]["kept"]
    assert_tallies_add_up(report)


def test_split_column_is_honoured(tmp_path):
    data = make_dataset(tmp_path / "in", n_anime=20, n_users=15, per_user=(10, 20), seed=2, with_split=True)
    out = tmp_path / "out"
    report = run(data, out, min_ratings=1, val_frac=0.1, test_frac=0.1).report
    source = pd.read_csv(data / "ratings.csv", dtype={"user_id": str})
    parts = splits(out)
    key = lambda f: set(zip(f["user_id"], f["anime_id"]))  # noqa: E731
    assert key(parts["test"]) == key(source[source["split"] == "test"])
    assert key(parts["val"]) and key(parts["val"]) <= key(source[source["split"] == "train"])
    assert report["ratings"]["notes"]["val_rows_carved_from_train"] == len(parts["val"])


def test_same_seed_same_bytes_other_seed_other_split(input_dir, tmp_path):
    run(input_dir, tmp_path / "a", seed=3)
    run(input_dir, tmp_path / "b", seed=3)
    for name in OUTPUTS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    shuffled = tmp_path / "shuffled"
    shutil.copytree(input_dir, shuffled)
    frame = pd.read_csv(input_dir / "ratings.csv").sample(frac=1.0, random_state=0)
    frame.to_csv(shuffled / "ratings.csv", index=False)
    run(shuffled, tmp_path / "c", seed=3)
    for name in SPLIT_NPY:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "c" / name).read_bytes(), name
    run(input_dir, tmp_path / "d", seed=4)
    assert load(tmp_path / "a", "data_stats.json")["data_fingerprint"] != \
        load(tmp_path / "d", "data_stats.json")["data_fingerprint"]
    assert any((tmp_path / "a" / n).read_bytes() != (tmp_path / "d" / n).read_bytes() for n in SPLIT_NPY)



def test_an_option_added_later_leaves_the_fingerprint_as_before_at_its_old_meaning(tmp_path):
    # The digest of the files and of the options as they were before cold_after_year existed: data
    # preprocessed then (and the benchmark results on it) keeps matching data preprocessed now.
    files = [tmp_path / "a.json", tmp_path / "b.csv"]
    files[0].write_text("[]")
    files[1].write_text("user_id,anime_id,rating\n")
    before = {k: v for k, v in asdict(PreprocessConfig(cold_anime_frac=0.1)).items() if k != "cold_after_year"}
    old = hashlib.sha256(b"[]" + b"user_id,anime_id,rating\n" + repr(before).encode()).hexdigest()[:16]
    assert _fingerprint(files, PreprocessConfig(cold_anime_frac=0.1)) == old
    assert _fingerprint(files, PreprocessConfig(cold_anime_frac=0.1, cold_after_year=2020)) != old


# ------------------------------------------------------------------ atomic writes

def test_failed_graph_write_leaves_the_old_file_intact(input_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    run(input_dir, out)
    before = (out / "graph.pt").read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        if isinstance(f, (str, os.PathLike)):
            Path(f).write_bytes(b"half a graph")
        else:
            f.write(b"half a graph")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        run(input_dir, out, seed=9)
    assert (out / "graph.pt").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)    # no temporary file left behind
    monkeypatch.undo()
    torch.load(out / "graph.pt", weights_only=True)


def test_failed_json_write_in_a_fresh_folder_leaves_nothing_half_written(input_dir, tmp_path, monkeypatch):
    out = tmp_path / "out"
    real_dump = json.dump

    def dump(obj, f, **kwargs):
        if isinstance(obj, dict) and "graph_edges" in obj:       # the report, written last
            f.write('{"inputs": ')
            raise KeyboardInterrupt
        return real_dump(obj, f, **kwargs)

    monkeypatch.setattr(json, "dump", dump)
    with pytest.raises(KeyboardInterrupt):
        run(input_dir, out)
    names = sorted(p.name for p in out.iterdir())
    assert "preprocess_report.json" not in names
    assert names == sorted(set(OUTPUTS) - {"preprocess_report.json"})
    for name in names:
        if name.endswith(".json"):
            json.loads((out / name).read_text())          # every file there is complete


def test_outputs_are_readable_like_plain_files(fixture_run):
    _, out = fixture_run
    umask = os.umask(0)
    os.umask(umask)
    for name in OUTPUTS:
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


def test_dataset_provenance_is_carried_into_data_stats(input_dir, tmp_path):
    src = tmp_path / "in"
    shutil.copytree(input_dir, src)
    assert load(run(src, tmp_path / "plain").output_dir, "data_stats.json")["dataset"] == {}
    (src / "dataset.json").write_text(json.dumps({"name": "toy", "synthetic": True}))
    stats = load(run(src, tmp_path / "flagged").output_dir, "data_stats.json")
    assert stats["dataset"] == {"name": "toy", "synthetic": True}


def test_cold_anime_are_held_out_entirely(input_dir, tmp_path):
    # Cold anime: every rating of theirs (of a training-side user) is in the cold split, none in
    # train/val/test; they stay graph nodes, and their training count is 0.
    out = tmp_path / "out"
    report = run(input_dir, out, cold_anime_frac=0.34).report
    data = load_processed(out)
    cold = set(data.cold.anime.tolist())
    assert report["cold_anime"] == len(cold) == 2                 # round(6 rated anime * 0.34)
    for split in (data.train, data.val, data.test):
        assert not cold & set(split.anime.tolist())
    assert all(int(data.anime_train_count[a]) == 0 for a in cold)
    source = pd.read_csv(input_dir / "ratings.csv")
    cold_ids = {load(out, "mappings.json")["anime"]["index_to_id"][a] for a in cold}
    assert len(data.cold) == int(source["anime_id"].isin(cold_ids).sum()) == report["splits"]["cold"]
    assert sum(report["splits"].values()) == report["ratings"]["kept"]
    # The same seed picks the same anime whatever the row order.
    shuffled = tmp_path / "shuffled"
    shutil.copytree(input_dir, shuffled)
    source.sample(frac=1.0, random_state=3).to_csv(shuffled / "ratings.csv", index=False)
    assert run(shuffled, tmp_path / "out2", cold_anime_frac=0.34).report["splits"] == report["splits"]
    assert set(load_processed(tmp_path / "out2").cold.anime.tolist()) == cold


def test_anime_after_a_year_are_held_out_entirely(input_dir, tmp_path):
    # --cold-after 2018: the rated anime of 2019, 2021 and 2024 (104, 105, 106) form the cold split; 107
    # (no year) and the earlier ones stay; with --cold-anime too, both kinds are held out.
    out = tmp_path / "out"
    report = run(input_dir, out, cold_after_year=2018).report
    data = load_processed(out)
    index_to_id = load(out, "mappings.json")["anime"]["index_to_id"]
    cold = {index_to_id[a] for a in set(data.cold.anime.tolist())}
    assert cold == {104, 105, 106} and report["cold_anime"] == 3 and report["config"]["cold_after_year"] == 2018
    for split in (data.train, data.val, data.test):
        assert not {index_to_id[a] for a in split.anime.tolist()} & cold
    both = run(input_dir, tmp_path / "both", cold_anime_frac=0.34, cold_after_year=2018).report
    assert both["cold_anime"] > 3 and sum(both["splits"].values()) == both["ratings"]["kept"]
