"""``anime-gnn preprocess``: input contract -> indexed splits, catalog graph and report.

Outputs (all written atomically into ``output_dir``):

* the rating splits train, val, test and cold (every training-side rating of the anime
  held out as cold by ``--cold-anime`` and ``--cold-after``, empty by default: the cold-item test) as
  memory-mappable ``.npy`` files, one per split and column: ``{split}_user.npy`` (int32
  user index), ``{split}_anime.npy`` (int32 anime index), ``{split}_rating.npy``
  (float32), rows sorted by user then anime index (see :func:`gnn.processed.load_split`;
  :func:`gnn.processed.split_frame` gives one back as a frame with the ids);
  ``holdout_ratings.csv``: ``user_id,anime_id,rating,user_idx,anime_idx`` of every
  rating of the users set aside for the new-user evaluation (``user_idx`` 0: unknown user).

The whole catalog is the graph: every catalog anime is a node (and can be scored),
whether or not anyone rated it. ``--min-ratings`` filters only the ratings and
users used for training; each anime carries how many training ratings it has.
* ``data_stats.json``: statistics of the data, not settings of a model: vocabulary sizes,
  padding lengths, relation-type weights, graph config, rating scale and normalization
  stats (train only), data fingerprint and provenance.
* ``anime_metadata.json``: one entry per anime index with its padded-list content,
  its animation studios (``studios``) and other companies (``producers``) by name.
* ``mappings.json``: every id <-> index map (index 0 is padding everywhere).
* ``graph.pt``: the graph and the padded tables as plain tensors
  (``torch.load(path, weights_only=True)``; see :func:`gnn.processed.load_processed`).
* ``preprocess_report.json``: kept/dropped counts by reason for every input.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch

from gnn.data.catalog import read_catalog
from gnn.data.ratings import RatingScale, find_ratings_file, read_ratings
from gnn.data.schema import RELATION_TYPES
from gnn.data.split import (filter_min_ratings, honour_split_column, pick_cold_anime, pick_holdout_users,
                            pick_new_anime, split_per_user)
from gnn.data.tally import Tally
from gnn.data.vocab import CatalogVocab, Vocab
from gnn.errors import InputError
from gnn.graph.builder import build_catalog_graph, company_roles, graph_to_dict
from gnn.graph.config import GraphConfig
from gnn.graph.features import FEATURE_NAMES, normalized_scores
from gnn.io import read_json_input, write_csv, write_json, write_npy, write_torch
from gnn.processed import DATA_STATS, FORMAT_VERSION, MAPPED_SPLITS, SPLIT_COLUMNS, split_paths

__all__ = ["FORMAT_VERSION", "PreprocessConfig", "PreprocessResult", "preprocess"]


@dataclass(frozen=True)
class PreprocessConfig:
    min_ratings: int = 10
    val_frac: float = 0.1
    test_frac: float = 0.1
    seed: int = 0
    holdout_user_frac: float = 0.05      # users kept out of training for the new-user evaluation
    holdout_min_ratings: int = 25        # so that k = 5, 10, 20 given ratings leave some to predict
    cold_anime_frac: float = 0.0         # share of rated anime whose ratings all go to the cold test
    cold_after_year: int | None = None   # and every rated anime that came out after this year
    scale: RatingScale = field(default_factory=RatingScale)
    graph: GraphConfig = field(default_factory=GraphConfig)

    def __post_init__(self) -> None:
        if self.min_ratings < 1:
            raise ValueError("min_ratings must be at least 1")
        if not (0 <= self.val_frac < 1 and 0 <= self.test_frac < 1 and self.val_frac + self.test_frac < 1):
            raise ValueError("val_frac and test_frac must be in [0, 1) and sum below 1")
        if not 0 <= self.holdout_user_frac < 1:  # also refuses NaN, which click's FloatRange lets through
            raise ValueError("holdout_user_frac (--holdout-users) must be in [0, 1)")
        if not 0 <= self.cold_anime_frac < 1:
            raise ValueError("cold_anime_frac (--cold-anime) must be in [0, 1)")


@dataclass
class PreprocessResult:
    output_dir: Path
    report: dict


# Options added after results were committed, with the value that means "as before": left out of the
# fingerprint at that value, so data preprocessed before the option existed keeps its fingerprint and
# benchmark runs on it still join (``compare.py --merge``) runs made since.
_BEFORE_ADDED = {"cold_after_year": None}


def _fingerprint(paths: list[Path], config: PreprocessConfig) -> str:
    digest = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    options = {k: v for k, v in asdict(config).items() if k not in _BEFORE_ADDED or v != _BEFORE_ADDED[k]}
    digest.update(repr(options).encode())
    return digest.hexdigest()[:16]


def _anime_metadata(graph, vocab: CatalogVocab, anime, train_count) -> list[dict]:
    t = graph.tables
    popularity, average = normalized_scores(anime)

    def row(tensor, i, keep):
        return [round(float(v), 6) for v in tensor[i][keep]]

    out = []
    for i, a in enumerate(anime, start=1):
        rel, studio, tag = t.rel_idx[i] > 0, t.studio_idx[i] > 0, t.tag_idx[i] > 0
        out.append({
            "anime_index": i, "anime_id": a.id, "id_mal": a.id_mal, "id_anilist": a.id_anilist, "title": a.title,
            "title_romaji": a.title_romaji, "title_english": a.title_english,
            "title_native": a.title_native, "format": a.format, "year": a.year, "status": a.status,
            "cover_image": a.cover_image, "genres": list(a.genres),
            "studios": [n for n, animates in company_roles(a).items() if animates],
            "producers": [n for n, animates in company_roles(a).items() if not animates],
            "relationship_indices": t.rel_idx[i][rel].tolist(),
            "relationship_types": [RELATION_TYPES[k] for k in t.rel_type[i][rel].tolist()],
            "relationship_weights": row(t.rel_w, i, rel),
            "studio_indices": t.studio_idx[i][studio].tolist(),
            "studio_weights": row(t.studio_w, i, studio),
            "tag_indices": t.tag_idx[i][tag].tolist(),
            "tag_weights": row(t.tag_w, i, tag),
            "genre_indices": t.genre_idx[i][t.genre_idx[i] > 0].tolist(),
            "popularity_score": popularity[i - 1], "average_score": average[i - 1],
            "status": a.status, "n_train_ratings": int(train_count[i]),
        })
    return out


def _vocab_json(v: Vocab) -> dict:
    return {"index_to_id": [None, *v.to_json()], "id_to_index": {str(k): i for k, i in v.index.items()}}


SPLITS = ("train", "val", "test", "holdout", "cold")


@dataclass
class _Ratings:
    """The rating rows after filtering, with their split, and the tallies that account for them."""

    frame: pd.DataFrame          # user_id, anime_id, rating (+ split, user_idx int32, anime_idx int32 once split)
    tally: Tally
    path: Path
    holdout: set
    cold: set


def _filter_ratings(ratings: pd.DataFrame, tally: Tally, catalog, config: PreprocessConfig,
                    path: Path) -> _Ratings:
    """Ratings of catalog anime, filtered by ``min_ratings``; held-out users and cold anime chosen."""
    known = ratings["anime_id"].isin({a.id for a in catalog.anime})
    tally.drop("anime_not_in_catalog", int((~known).sum()))
    ratings = filter_min_ratings(ratings if known.all() else ratings[known], config.min_ratings, tally)
    holdout = pick_holdout_users(ratings, config.holdout_user_frac,
                                 max(config.holdout_min_ratings, config.min_ratings), config.seed)
    cold = pick_cold_anime(ratings, config.cold_anime_frac, config.seed)
    cold |= pick_new_anime(ratings, {a.id: a.year for a in catalog.anime}, config.cold_after_year)
    return _Ratings(ratings, tally, path, holdout, cold)


def _anime_tally(catalog, ever_rated: set, r: _Ratings) -> Tally:
    """Every catalog anime is kept (a graph node); the notes say which ones have training ratings."""
    tally = Tally(total=len(catalog.anime))
    trained = r.frame.loc[r.frame["split"] == "train", "anime_id"].nunique()
    tally.note("with_training_ratings", trained)
    tally.note("never_rated", len(catalog.anime) - len(ever_rated))
    tally.note("ratings_all_dropped_by_min_ratings", len(ever_rated - set(r.frame["anime_id"].unique().tolist())))
    tally.note("held_out_as_cold", len(r.cold))
    for k, v in catalog.counts.items():
        tally.note(k, v)
    return tally


def _user_index(user_id: pd.Series, users: Vocab) -> np.ndarray:
    """int32 user index per row (0: not a training-side user), looked up once per distinct id."""
    if isinstance(user_id.dtype, pd.CategoricalDtype):
        lookup = np.array([users.index.get(c, 0) for c in user_id.cat.categories] + [0], dtype=np.int32)
        return lookup[user_id.cat.codes.to_numpy()]  # code -1 (missing) reads the trailing 0
    return user_id.map(users.index).fillna(0).to_numpy().astype(np.int32)


def _assign_splits(r: _Ratings, vocab: CatalogVocab, config: PreprocessConfig) -> Vocab:
    """Adds ``split`` (categorical), ``user_idx`` and ``anime_idx`` (int32) to ``r.frame``; returns the
    training users' vocabulary."""
    ratings = r.frame
    is_holdout = ratings["user_id"].isin(r.holdout).to_numpy()
    is_cold = ratings["anime_id"].isin(r.cold).to_numpy() & ~is_holdout
    train_side = ~is_holdout & ~is_cold
    side = ratings.loc[train_side, [c for c in ("user_id", "anime_id", "split") if c in ratings.columns]]
    if "split" in ratings.columns:
        split = honour_split_column(side, config.val_frac, config.test_frac, config.seed, r.tally)
    else:
        split = split_per_user(side, config.val_frac, config.test_frac, config.seed)
    codes = np.full(len(ratings), SPLITS.index("holdout"), dtype=np.int8)
    codes[is_cold] = SPLITS.index("cold")
    codes[train_side] = pd.Categorical(split.reindex(side.index), categories=list(SPLITS)).codes
    del side, split
    ratings["split"] = pd.Categorical.from_codes(codes, categories=list(SPLITS))
    kept_users = ratings.loc[~is_holdout, "user_id"].drop_duplicates()
    users = Vocab.build(sorted(kept_users.astype(object).tolist()))
    ratings["user_idx"] = _user_index(ratings["user_id"], users)
    ratings["anime_idx"] = ratings["anime_id"].map(vocab.anime.index).to_numpy().astype(np.int32)
    if not (codes == SPLITS.index("train")).any():  # nothing to train on: stop before writing anything
        raise InputError(str(r.path), f"no training ratings left after filtering "
                         f"(min_ratings {config.min_ratings}, holdout_user_frac {config.holdout_user_frac}; "
                         f"ratings kept {r.tally.kept:,} of {r.tally.total:,})")
    return users


def _write_splits(output_dir: Path, frame: pd.DataFrame) -> None:
    """train/val/test/cold as ``.npy`` columns sorted by (user, anime) index; the holdout as CSV with its ids."""
    codes = frame["split"].cat.codes.to_numpy()
    columns = {"user": frame["user_idx"].to_numpy(), "anime": frame["anime_idx"].to_numpy(),
               "rating": frame["rating"].to_numpy()}
    for name in MAPPED_SPLITS:
        rows = np.flatnonzero(codes == SPLITS.index(name))
        rows = rows[np.lexsort((columns["anime"][rows], columns["user"][rows]))]
        for column, path in split_paths(output_dir, name).items():
            write_npy(path, columns[column][rows].astype(SPLIT_COLUMNS[column]))
        (output_dir / f"{name}_ratings.csv").unlink(missing_ok=True)  # format 2's file, now stale
    holdout = frame.loc[codes == SPLITS.index("holdout"), ["user_id", "anime_id", "rating", "user_idx", "anime_idx"]]
    write_csv(output_dir / "holdout_ratings.csv", holdout.sort_values(["user_id", "anime_idx"]))


def _data_stats(graph, vocab: CatalogVocab, users: Vocab, train: pd.DataFrame, config: PreprocessConfig,
                fingerprint: str, dataset: dict) -> dict:
    """``data_stats.json``: sizes, padding lengths, graph config, rating scale and statistics."""
    t = graph.tables
    return {
        "format_version": FORMAT_VERSION,
        "n_users": len(users), "n_anime": len(vocab.anime), "n_studios": len(vocab.studio),
        "n_tags": len(vocab.tag), "n_genres": len(vocab.genre), "n_relation_types": len(RELATION_TYPES),
        "relation_types": list(RELATION_TYPES), "padding_index": 0,
        "max_genres": t.genre_idx.shape[1], "max_tags": t.tag_idx.shape[1],
        "max_studios": t.studio_idx.shape[1], "max_relations": t.rel_idx.shape[1],
        "anime_feature_names": list(FEATURE_NAMES),
        "relation_type_weights": dict(config.graph.relation_weights),
        "graph": config.graph.to_dict(),
        "rating_scale": {"low": config.scale.low, "high": config.scale.high},
        "rating_mean": float(train["rating"].mean()), "rating_std": float(train["rating"].std(ddof=0) or 1.0),
        "seed": config.seed, "min_ratings": config.min_ratings,
        "data_fingerprint": fingerprint,
        # Provenance written next to the inputs (generate-sample writes {"synthetic": true, ...}).
        "dataset": dataset,
    }


def preprocess(input_dir: str | Path, output_dir: str | Path, config: PreprocessConfig = PreprocessConfig(),
               progress: Callable[[str], None] | None = None) -> PreprocessResult:
    """Run the whole preprocessing; ``progress`` is called with a short label per step."""
    step = progress or (lambda _label: None)
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    step("reading catalog")
    catalog = read_catalog(input_dir / "anime_catalog.json")
    step("reading ratings")
    ratings_path = find_ratings_file(input_dir)
    ratings, rating_tally = read_ratings(ratings_path, config.scale)

    step("filtering")
    ever_rated = set(ratings["anime_id"].unique().tolist()) & {a.id for a in catalog.anime}
    r = _filter_ratings(ratings, rating_tally, catalog, config, ratings_path)
    del ratings  # the filtered frame is all that is needed from here (memory: one frame of ratings, not two)

    step("building graph")
    anime = list(catalog.anime)
    vocab = CatalogVocab.from_anime(anime)
    graph = build_catalog_graph(anime, vocab, config.graph)

    step("splitting")
    users = _assign_splits(r, vocab, config)
    train = r.frame.loc[r.frame["split"] == "train", ["anime_idx", "rating"]]
    train_count = torch.bincount(torch.from_numpy(train["anime_idx"].to_numpy().astype(np.int64)),
                                 minlength=len(vocab.anime))

    step("writing outputs")
    output_dir.mkdir(parents=True, exist_ok=True)
    _write_splits(output_dir, r.frame)
    dataset = read_json_input(input_dir / "dataset.json") if (input_dir / "dataset.json").exists() else {}
    fingerprint = _fingerprint([input_dir / "anime_catalog.json", ratings_path], config)
    write_json(output_dir / DATA_STATS, _data_stats(graph, vocab, users, train, config, fingerprint, dataset))
    write_json(output_dir / "anime_metadata.json", _anime_metadata(graph, vocab, anime, train_count), indent=None)
    write_json(output_dir / "mappings.json", {
        "padding_index": 0, "anime": _vocab_json(vocab.anime), "user": _vocab_json(users),
        "studio": _vocab_json(vocab.studio), "tag": _vocab_json(vocab.tag),
        "genre": _vocab_json(vocab.genre), "relation_type": list(RELATION_TYPES)})
    write_torch(output_dir / "graph.pt", {"format_version": FORMAT_VERSION, "graph": graph_to_dict(graph.data),
                                          "tables": graph.tables.to_dict(), "anime_train_count": train_count})
    report = _report(input_dir, ratings_path, config, catalog, ever_rated, r, graph, users)
    write_json(output_dir / "preprocess_report.json", report)
    return PreprocessResult(output_dir=output_dir, report=report)


def _report(input_dir: Path, ratings_path: Path, config: PreprocessConfig, catalog, ever_rated: set,
            r: _Ratings, graph, users: Vocab) -> dict:
    split_counts = r.frame["split"].value_counts().to_dict()
    return {
        "inputs": {"catalog": str(input_dir / "anime_catalog.json"), "ratings": str(ratings_path)},
        "config": {"min_ratings": config.min_ratings, "val_frac": config.val_frac,
                   "test_frac": config.test_frac, "seed": config.seed,
                   "holdout_user_frac": config.holdout_user_frac, "cold_anime_frac": config.cold_anime_frac,
                   "cold_after_year": config.cold_after_year},
        "anime": _anime_tally(catalog, ever_rated, r).as_dict(),
        "ratings": r.tally.as_dict(),
        "relations": graph.relations.as_dict(),
        "graph_edges": {"/".join(e): int(graph.data[e].edge_index.shape[1]) for e in graph.data.edge_types},
        "truncated_list_entries": dict(graph.truncated),
        "users": {"train_users": users.n_real, "holdout_users": len(r.holdout)},
        "cold_anime": len(r.cold),
        "splits": {k: int(split_counts.get(k, 0)) for k in SPLITS},
    }
