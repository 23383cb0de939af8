"""Load what ``anime-gnn preprocess`` (:mod:`gnn.preprocess`) wrote, as tensors ready for training.

This is the only place models and trainers get data from; models themselves
never read files. It reads a whole processed folder (rating splits, the catalog
graph, the padded per-anime tables), so it sits after :mod:`gnn.data` and
:mod:`gnn.graph`, next to the module that writes the folder.

The rating splits train/val/test/cold are memory-mapped: one ``.npy`` file per split and
column (``{split}_user.npy`` int32, ``{split}_anime.npy`` int32, ``{split}_rating.npy``
float32), mapped copy-on-write and wrapped as tensors without a copy (:func:`load_split`).
:func:`load_processed` widens the two index columns to long (16 bytes a rating, what the
trainers' index arithmetic needs) and keeps the ratings mapped; nothing is parsed from
text. The held-out users' ratings stay a small CSV with their user ids
(``holdout_ratings.csv``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch_geometric.data import HeteroData

from gnn.errors import InputError
from gnn.graph.builder import ItemTables, graph_from_dict
from gnn.io import read_json, read_json_input

DATA_STATS = "data_stats.json"  # sizes, padding lengths, graph config, rating scale and statistics
_OLD_DATA_STATS = "model_config.json"  # its name before format 2; such a folder is refused, not read
# 2: the statistics file is data_stats.json (format 1 called it model_config.json)
# 3: the rating splits are memory-mapped .npy files (format 2 wrote them as CSV)
FORMAT_VERSION = 3
SPLIT_COLUMNS = {"user": np.int32, "anime": np.int32, "rating": np.float32}  # {split}_{column}.npy
MAPPED_SPLITS = ("train", "val", "test", "cold")


@dataclass(frozen=True)
class RatingSplit:
    """One split as aligned 1-D tensors of length ``n``."""

    user: torch.Tensor    # [n] long (int32 as mapped by load_split), user index (0 = unknown/held-out user)
    anime: torch.Tensor   # [n] long (int32 as mapped by load_split), anime index (>= 1)
    rating: torch.Tensor  # [n] float32, on the original scale

    def __len__(self) -> int:
        return int(self.user.shape[0])

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> "RatingSplit":
        def column(name: str, dtype: torch.dtype) -> torch.Tensor:
            return torch.tensor(frame[name].to_numpy(), dtype=dtype)

        return cls(user=column("user_idx", torch.long), anime=column("anime_idx", torch.long),
                   rating=column("rating", torch.float32))

    def widened(self) -> "RatingSplit":
        """``user`` and ``anime`` as long, ``rating`` as it is (still mapped). The trainers and metrics form
        keys like ``user * n_anime + anime``, which overflow int32 at real sizes (300k users x 20k anime)."""
        return RatingSplit(self.user.long(), self.anime.long(), self.rating)

    def subset(self, mask: torch.Tensor) -> "RatingSplit":
        return RatingSplit(self.user[mask], self.anime[mask], self.rating[mask])


@dataclass(frozen=True)
class ProcessedData:
    stats: dict              # data_stats.json (see gnn.preprocess)
    graph: HeteroData        # the catalog graph (node 0 of every type is padding)
    tables: ItemTables       # padded per-anime lists
    train: RatingSplit
    val: RatingSplit
    test: RatingSplit
    holdout: pd.DataFrame    # user_id, anime_id, rating, anime_idx of held-out users
    data_dir: Path
    cold: RatingSplit | None = None              # ratings of the anime held out as cold (--cold-anime)
    anime_train_count: torch.Tensor | None = None  # [n_anime] training ratings per anime (0 = cold)

    @property
    def n_users(self) -> int:
        return int(self.stats["n_users"])

    @property
    def n_anime(self) -> int:
        return int(self.stats["n_anime"])


def _written_format(data_dir: Path) -> object:
    try:
        stats = read_json_input(data_dir / DATA_STATS)
    except InputError:
        return None  # read_data_stats reports it
    return stats.get("format_version") if isinstance(stats, dict) else None


def refuse_old_format(data_dir: Path) -> None:
    """One InputError for a folder written by an older ``anime-gnn preprocess``: format 1 (no
    :data:`DATA_STATS`, its statistics still under their old name ``model_config.json``) or format 2
    (rating splits as CSV files): it is to be made again."""
    if not (data_dir / DATA_STATS).exists() and (data_dir / _OLD_DATA_STATS).exists():
        raise InputError(str(data_dir), f"written by an older anime-gnn ({_OLD_DATA_STATS}, now {DATA_STATS}); "
                                        "rerun `anime-gnn preprocess` to make it again")
    written = _written_format(data_dir) if (data_dir / DATA_STATS).exists() else None
    if isinstance(written, int) and not isinstance(written, bool) and written < FORMAT_VERSION:
        raise InputError(str(data_dir), f"written by an older anime-gnn (format {written}: rating splits as CSV, "
                                        "now memory-mapped .npy); rerun `anime-gnn preprocess` to make it again")


def split_paths(data_dir: Path, name: str) -> dict[str, Path]:
    """The ``.npy`` file of each column of split ``name``."""
    return {column: data_dir / f"{name}_{column}.npy" for column in SPLIT_COLUMNS}


def load_split(data_dir: Path, name: str) -> RatingSplit | None:
    """Split ``name`` mapped from its ``.npy`` files (no copy: the tensors' memory is the mapping), or None
    if it has none. Copy-on-write mapping: the tensors are writable, a write never reaches the file."""
    paths = split_paths(data_dir, name)
    if not all(p.exists() for p in paths.values()):
        return None
    columns = {}
    for column, path in paths.items():
        try:
            array = np.load(path, mmap_mode="c", allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:
            raise InputError(str(path), f"not readable ({type(err).__name__}); rerun `anime-gnn preprocess`") from None
        if array.ndim != 1 or array.dtype != SPLIT_COLUMNS[column]:
            raise InputError(str(path), f"expected a 1-D {np.dtype(SPLIT_COLUMNS[column]).name} array, got "
                                        f"{array.dtype} {array.shape}; rerun `anime-gnn preprocess`")
        columns[column] = torch.from_numpy(array) if array.size else torch.from_numpy(np.array(array))
    if not len(columns["user"]) == len(columns["anime"]) == len(columns["rating"]):
        raise InputError(str(data_dir), f"the {name} split's columns differ in length; rerun `anime-gnn preprocess`")
    return RatingSplit(**columns)


def anime_metadata(data_dir: str | Path | None, missing_ok: bool = True) -> dict[int, dict]:
    """Anime index -> its ``anime_metadata.json`` entry (title, year, format, status, ...). Empty for no
    folder, or one without the file when ``missing_ok`` (else FileNotFoundError)."""
    path = None if data_dir is None else Path(data_dir) / "anime_metadata.json"
    if path is None or (missing_ok and not path.exists()):
        return {}
    return {int(m["anime_index"]): m for m in read_json(path)}


def read_data_stats(data_dir: Path) -> dict:
    """:data:`DATA_STATS` of a processed folder, as a dict; a missing or old-format one is one InputError."""
    refuse_old_format(data_dir)
    if not (data_dir / DATA_STATS).exists():
        raise InputError(str(data_dir), f"no {DATA_STATS} here; run `anime-gnn preprocess` first")
    stats = read_json_input(data_dir / DATA_STATS)
    if not isinstance(stats, dict):
        raise InputError(str(data_dir / DATA_STATS), "not the shape preprocess writes (rerun `anime-gnn preprocess`)")
    return stats


# Explicit dtypes: an empty holdout (header only) must still give integer/float columns.
_HOLDOUT_DTYPES = {"user_id": str, "anime_id": "int64", "rating": "float64", "user_idx": "int64", "anime_idx": "int64"}


def split_frame(data_dir: str | Path, name: str) -> pd.DataFrame:
    """Split ``name`` as a frame with its ids, ``user_id, anime_id, rating, user_idx, anime_idx`` (for people
    and tests): the ``.npy`` columns joined with ``mappings.json``; the holdout is its CSV as written."""
    data_dir = Path(data_dir)
    if name == "holdout":
        return pd.read_csv(data_dir / "holdout_ratings.csv", dtype=_HOLDOUT_DTYPES)
    split = load_split(data_dir, name)
    if split is None:
        raise InputError(str(data_dir), f"no {name} split here; run `anime-gnn preprocess` first")
    mappings = read_json_input(data_dir / "mappings.json")
    user_ids = np.array(mappings["user"]["index_to_id"], dtype=object)
    anime_ids = np.array(mappings["anime"]["index_to_id"], dtype=object)
    user, anime = split.user.numpy().astype(np.int64), split.anime.numpy().astype(np.int64)
    return pd.DataFrame({"user_id": user_ids[user], "anime_id": anime_ids[anime].astype(np.int64),
                         "rating": split.rating.numpy().astype(np.float64), "user_idx": user, "anime_idx": anime})


def load_processed(data_dir: str | Path) -> ProcessedData:
    data_dir = Path(data_dir)
    stats = read_data_stats(data_dir)
    try:
        blob = torch.load(data_dir / "graph.pt", weights_only=True)
    except Exception as err:  # noqa: BLE001 - torch raises RuntimeError, UnpicklingError, EOFError, OSError...
        raise InputError(str(data_dir / "graph.pt"), f"not readable ({type(err).__name__}); "
                                                     "rerun `anime-gnn preprocess`") from None
    splits = {name: load_split(data_dir, name) for name in MAPPED_SPLITS}
    splits = {name: None if split is None else split.widened() for name, split in splits.items()}
    missing = [name for name in ("train", "val", "test") if splits[name] is None]
    if missing or not (data_dir / "holdout_ratings.csv").exists():
        raise InputError(str(data_dir), f"missing the {'/'.join(missing) or 'holdout'} rating split; "
                                        "rerun `anime-gnn preprocess`")
    holdout = split_frame(data_dir, "holdout")
    return ProcessedData(
        stats=stats, graph=graph_from_dict(blob["graph"]), tables=ItemTables.from_dict(blob["tables"]),
        train=splits["train"], val=splits["val"], test=splits["test"], holdout=holdout, data_dir=data_dir,
        cold=splits["cold"], anime_train_count=blob["anime_train_count"])
