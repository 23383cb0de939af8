"""Load what ``anime-gnn preprocess`` (:mod:`gnn.preprocess`) wrote, as tensors ready for training.

This is the only place models and trainers get data from; models themselves
never read files. It reads a whole processed folder (rating splits, the catalog
graph, the padded per-anime tables), so it sits after :mod:`gnn.data` and
:mod:`gnn.graph`, next to the module that writes the folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
from torch_geometric.data import HeteroData

from gnn.errors import InputError
from gnn.graph.builder import ItemTables, graph_from_dict
from gnn.io import read_json_input

DATA_STATS = "data_stats.json"  # sizes, padding lengths, graph config, rating scale and statistics
_OLD_DATA_STATS = "model_config.json"  # its name before format 2; such a folder is refused, not read


@dataclass(frozen=True)
class RatingSplit:
    """One split as aligned 1-D tensors of length ``n``."""

    user: torch.Tensor    # [n] long, user index (0 = unknown/held-out user)
    anime: torch.Tensor   # [n] long, anime index (>= 1)
    rating: torch.Tensor  # [n] float, on the original scale

    def __len__(self) -> int:
        return int(self.user.shape[0])

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> "RatingSplit":
        def column(name: str, dtype: torch.dtype) -> torch.Tensor:
            return torch.tensor(frame[name].to_numpy(), dtype=dtype)

        return cls(user=column("user_idx", torch.long), anime=column("anime_idx", torch.long),
                   rating=column("rating", torch.float32))

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


def refuse_old_format(data_dir: Path) -> None:
    """One InputError for a folder written by an older ``anime-gnn preprocess`` (no :data:`DATA_STATS`,
    its statistics still under their old name ``model_config.json``): it is to be made again."""
    if not (data_dir / DATA_STATS).exists() and (data_dir / _OLD_DATA_STATS).exists():
        raise InputError(str(data_dir), f"written by an older anime-gnn ({_OLD_DATA_STATS}, now {DATA_STATS}); "
                                        "rerun `anime-gnn preprocess` to make it again")


def read_data_stats(data_dir: Path) -> dict:
    """:data:`DATA_STATS` of a processed folder, as a dict; a missing or old-format one is one InputError."""
    refuse_old_format(data_dir)
    if not (data_dir / DATA_STATS).exists():
        raise InputError(str(data_dir), f"no {DATA_STATS} here; run `anime-gnn preprocess` first")
    stats = read_json_input(data_dir / DATA_STATS)
    if not isinstance(stats, dict):
        raise InputError(str(data_dir / DATA_STATS), "not the shape preprocess writes (rerun `anime-gnn preprocess`)")
    return stats


def load_processed(data_dir: str | Path) -> ProcessedData:
    data_dir = Path(data_dir)
    stats = read_data_stats(data_dir)
    try:
        blob = torch.load(data_dir / "graph.pt", weights_only=True)
    except Exception as err:  # noqa: BLE001 - torch raises RuntimeError, UnpicklingError, EOFError, OSError...
        raise InputError(str(data_dir / "graph.pt"), f"not readable ({type(err).__name__}); "
                                                     "rerun `anime-gnn preprocess`") from None
    # Explicit dtypes: an empty split (header only) must still give integer/float columns.
    dtypes = {"user_id": str, "anime_id": "int64", "rating": "float64", "user_idx": "int64", "anime_idx": "int64"}
    frames = {name: pd.read_csv(data_dir / f"{name}_ratings.csv", dtype=dtypes)
              for name in ("train", "val", "test", "holdout", "cold") if (data_dir / f"{name}_ratings.csv").exists()}
    return ProcessedData(
        stats=stats, graph=graph_from_dict(blob["graph"]), tables=ItemTables.from_dict(blob["tables"]),
        train=RatingSplit.from_frame(frames["train"]), val=RatingSplit.from_frame(frames["val"]),
        test=RatingSplit.from_frame(frames["test"]), holdout=frames["holdout"], data_dir=data_dir,
        cold=RatingSplit.from_frame(frames["cold"]) if "cold" in frames else None,
        anime_train_count=blob["anime_train_count"])
