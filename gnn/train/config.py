"""Training configuration: one frozen dataclass, stored in every checkpoint."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

SCHEDULES = ("onecycle", "cosine", "plateau", "constant")
LOSS_KINDS = ("mse", "huber", "l1")
SHORT_HISTORY = ("uniform", "log")   # gnn.train.tasks.draw_length


@dataclass(frozen=True)
class TrainConfig:
    """Defaults for both neural models (see README, "Training").

    The GNN runs its encoder over the whole catalog graph once per step, so a
    larger batch amortizes it: on the real data (1 CPU thread) a GNN step took
    316 ms at 512 ratings and 655 ms at 2048, i.e. 1.6k vs 3.1k ratings/s.
    Hence 2048 ratings per step, with the peak LR raised to 3e-3 for the larger
    batch, and 20 OneCycle epochs with early stopping. This is a throughput-led
    choice checked on the validation split, not the result of a full search:
    ``benchmarks/tune.py`` compared weight decay, dropout, LR, history share and
    encoder variants side by side and none beat these by more than noise
    (table in ``benchmarks/README.md``).
    """

    epochs: int = 20
    batch_size: int = 2048
    lr: float = 3e-3
    weight_decay: float = 1e-4
    schedule: str = "onecycle"        # onecycle | cosine (linear warmup + cosine) | plateau | constant
    warmup_frac: float = 0.1          # share of steps spent warming up (onecycle, cosine)
    patience: int = 4                 # epochs without a validation-RMSE gain before stopping
    min_delta: float = 1e-4
    grad_clip: float = 1.0
    loss: str = "mse"                 # mse | huber | l1, on normalized ratings
    seed: int = 0
    history_frac: float = 0.25        # share of training rows scored from a sampled history, not the ID
    history_len: int = 32             # entries sampled per history during training (row models)
    targets_per_task: int = 32        # ratings predicted per task (models trained on tasks: gnn)
    # Length of a task's shortened history (half of them): uniform | log (gnn.train.tasks). MAL, seed 0: log made
    # new users given 5 / 10 / 20 ratings 1.8 / 1.2 / 0.4 % more accurate and known users 0.5 % less (test RMSE
    # 1.0876 vs 1.0824, NDCG@10 -1 %; benchmarks/README "Short histories").
    short_history: str = "uniform"
    eval_batch_size: int = 8192
    steps_per_epoch: int = 0          # > 0: an epoch stops after this many steps (a fresh shuffle each); 0 = all data
    device: str = "cpu"               # cpu | cuda | cuda:N; checkpoints are always written on CPU

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}")
        if self.loss not in LOSS_KINDS:
            raise ValueError(f"loss must be one of {', '.join(LOSS_KINDS)}")
        if self.steps_per_epoch < 0:
            raise ValueError(f"steps_per_epoch must be 0 (every rating once per epoch) or more, got {self.steps_per_epoch}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be positive")
        if not (self.device == "cpu" or self.device.startswith("cuda")):
            raise ValueError(f"device must be cpu, cuda or cuda:N, got {self.device!r}")
        if self.short_history not in SHORT_HISTORY:
            raise ValueError(f"short_history must be one of {', '.join(SHORT_HISTORY)}, got {self.short_history!r}")
        if not 0 <= self.history_frac <= 1:
            raise ValueError("history_frac must be within 0..1")
        for name in ("lr", "weight_decay", "warmup_frac", "min_delta", "grad_clip"):
            if not math.isfinite(getattr(self, name)):  # NaN/inf would train nothing and break strict JSON
                raise ValueError(f"{name} must be a finite number, got {getattr(self, name)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        return cls(**{k: v for k, v in d.items() if k in {f.name for f in fields(cls)}})
