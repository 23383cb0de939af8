"""Training configuration: one frozen dataclass, stored in every checkpoint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

SCHEDULES = ("onecycle", "cosine", "plateau", "constant")
LOSS_KINDS = ("mse", "huber", "l1")


@dataclass(frozen=True)
class TrainConfig:
    """Defaults were picked on the validation split of the real data (see README, "Training")."""

    epochs: int = 50
    batch_size: int = 512
    lr: float = 2e-3
    weight_decay: float = 1e-4
    schedule: str = "onecycle"        # onecycle | cosine (linear warmup + cosine) | plateau | constant
    warmup_frac: float = 0.1          # share of steps spent warming up (onecycle, cosine)
    patience: int = 5                 # epochs without a validation-RMSE gain before stopping
    min_delta: float = 1e-4
    grad_clip: float = 1.0
    loss: str = "mse"                 # mse | huber | l1, on normalized ratings
    seed: int = 0
    history_frac: float = 0.25        # share of training rows scored from a sampled history, not the ID
    history_len: int = 32             # entries sampled per history during training
    eval_batch_size: int = 8192

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}")
        if self.loss not in LOSS_KINDS:
            raise ValueError(f"loss must be one of {', '.join(LOSS_KINDS)}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be positive")
        if not 0 <= self.history_frac <= 1:
            raise ValueError("history_frac must be within 0..1")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        return cls(**{k: v for k, v in d.items() if k in {f.name for f in fields(cls)}})
