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

from gnn.graph.builder import ItemTables, graph_from_dict
from gnn.io import read_json_input
from gnn.errors import InputError


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
    config: dict             # model_config.json
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
        return int(self.config["n_users"])

    @property
    def n_anime(self) -> int:
        return int(self.config["n_anime"])


def load_processed(data_dir: str | Path) -> ProcessedData:
    data_dir = Path(data_dir)
    if not (data_dir / "model_config.json").exists():
        raise InputError(str(data_dir), "no model_config.json here; run `anime-gnn preprocess` first")
    config = read_json_input(data_dir / "model_config.json")
    try:
        blob = torch.load(data_dir / "graph.pt", weights_only=True)
    except Exception as err:  # noqa: BLE001 - torch raises RuntimeError, UnpicklingError, EOFError, OSError...
        raise InputError(str(data_dir / "graph.pt"), f"not readable ({type(err).__name__}); "
                                                     "rerun `anime-gnn preprocess`") from None
    # Explicit dtypes: an empty split (header only) must still give integer/float columns.
    dtypes = {"user_id": str, "anime_id": "int64", "rating": "float64", "user_idx": "int64", "anime_idx": "int64"}
    frames = {name: pd.read_csv(data_dir / f"{name}_ratings.csv", dtype=dtypes)
              for name in ("train", "val", "test", "holdout", "cold") if (data_dir / f"{name}_ratings.csv").exists()}
    train = RatingSplit.from_frame(frames["train"])
    count = blob.get("anime_train_count")
    if count is None:  # written before the count was stored
        count = torch.bincount(train.anime, minlength=int(config["n_anime"]))
    return ProcessedData(
        config=config, graph=graph_from_dict(blob["graph"]), tables=ItemTables.from_dict(blob["tables"]),
        train=train, val=RatingSplit.from_frame(frames["val"]),
        test=RatingSplit.from_frame(frames["test"]), holdout=frames["holdout"], data_dir=data_dir,
        cold=RatingSplit.from_frame(frames["cold"]) if "cold" in frames else None, anime_train_count=count)
