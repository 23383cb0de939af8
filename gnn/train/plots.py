"""Training-curve plot (PNG), because people would rather look than read the JSON epoch log."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402

from gnn.io import atomic_path  # noqa: E402


def plot_training_curves(epoch_log: list[dict], path: str | Path, title: str = "training") -> None:
    """Train loss, validation RMSE/MAE and learning rate per epoch, from the trainer's epoch records."""
    epochs = [h["epoch"] for h in epoch_log]
    fig, (ax_loss, ax_val, ax_lr) = plt.subplots(1, 3, figsize=(13, 3.6))
    losses = [h["train_loss"] for h in epoch_log]
    if any(v is not None for v in losses):
        ax_loss.plot(epochs, losses, marker="o", ms=3)
    ax_loss.set(title="train loss (normalized ratings)", xlabel="epoch")
    ax_val.plot(epochs, [h["val_rmse"] for h in epoch_log], marker="o", ms=3, label="RMSE")
    ax_val.plot(epochs, [h["val_mae"] for h in epoch_log], marker="o", ms=3, label="MAE")
    best = min(epoch_log, key=lambda h: h["val_rmse"])
    ax_val.axvline(best["epoch"], color="grey", ls="--", lw=1, label=f"best (epoch {best['epoch']})")
    ax_val.set(title="validation (rating scale)", xlabel="epoch")
    ax_val.legend()
    ax_lr.plot(epochs, [h["lr"] for h in epoch_log], marker="o", ms=3)
    ax_lr.set(title="learning rate (end of epoch)", xlabel="epoch")
    for ax in (ax_loss, ax_val, ax_lr):
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
