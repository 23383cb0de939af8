"""``anime-gnn train`` (also under ``torchrun --nproc_per_node=N -m cli train ...``)."""

from __future__ import annotations

import json
import math

import click
from click.core import ParameterSource

from cli.common import friendly_errors
from gnn.errors import UsageError
from gnn.io import ensure_writable_dir
from gnn.models.registry import MODELS, model_names, train_defaults
from gnn.train.config import LOSS_KINDS, SCHEDULES, SHORT_HISTORY, TrainConfig

MODEL_HELP = "Model to train. " + "; ".join(f"{name}: {info.summary}" for name, info in MODELS.items()) + "."


def _num(value: float | None) -> str:
    """A metric for the summary line; "n/a" where it was not measured (no rows)."""
    return "n/a" if value is None or value != value else f"{value:.4f}"


@click.command()
@click.option("--data-dir", default="data/processed", show_default=True, type=click.Path(file_okay=False),
              help="Output folder of `anime-gnn preprocess`.")
@click.option("--output-dir", default="data/model/pytorch", show_default=True, type=click.Path(file_okay=False),
              help="Where checkpoints, best_model.pt, history and plots are written.")
@click.option("--model", "model_name", default="gnn", show_default=True, type=click.Choice(model_names()),
              help=MODEL_HELP)
@click.option("--epochs", default=TrainConfig.epochs, show_default=True, type=click.IntRange(min=1),
              help="Maximum number of epochs (early stopping may end sooner).")
@click.option("--batch-size", default=TrainConfig.batch_size, show_default=True, type=click.IntRange(min=1),
              help="Ratings per optimizer step (per process under torchrun); gnn: 4096 unless given.")
@click.option("--steps-per-epoch", default=TrainConfig.steps_per_epoch, show_default=True,
              type=click.IntRange(min=0),
              help="End each epoch after this many optimizer steps, each epoch a fresh shuffle (data too large "
                   "for a full pass between validations, e.g. 60M ratings); 0 = every rating once per epoch.")
@click.option("--lr", default=TrainConfig.lr, show_default=True, type=float, help="Peak learning rate (AdamW).")
@click.option("--weight-decay", default=TrainConfig.weight_decay, show_default=True, type=float,
              help="AdamW weight decay.")
@click.option("--schedule", default=TrainConfig.schedule, show_default=True, type=click.Choice(SCHEDULES),
              help="Learning-rate schedule.")
@click.option("--patience", default=TrainConfig.patience, show_default=True, type=click.IntRange(min=1),
              help="Early stopping: epochs without validation-RMSE improvement.")
@click.option("--loss", default=TrainConfig.loss, show_default=True, type=click.Choice(LOSS_KINDS),
              help="Loss on normalized ratings.")
@click.option("--grad-clip", default=TrainConfig.grad_clip, show_default=True, type=float,
              help="Clip the gradient norm to this (0 disables).")
@click.option("--history-frac", default=TrainConfig.history_frac, show_default=True,
              type=click.FloatRange(0, 1), help="Share of training rows scored from a sampled history "
                                                "instead of the user ID (trains the new-user path).")
@click.option("--short-history", default=TrainConfig.short_history, show_default=True, type=click.Choice(SHORT_HISTORY),
              help="How long a training task's shortened history is (gnn; half the tasks): every length 1..max "
                   "alike (uniform), or short ones as often as long ones on a log scale (log).")
@click.option("--seed", default=TrainConfig.seed, show_default=True, type=int, help="Random seed.")
@click.option("--device", default=TrainConfig.device, show_default=True,
              help="cpu, cuda or cuda:N (under torchrun each process takes cuda:LOCAL_RANK).")
@click.option("--model-option", "model_options", multiple=True, metavar="KEY=VALUE",
              help="Override a model config field, e.g. --model-option dropout=0.3 (repeatable).")
@click.option("--resume", is_flag=True,
              help="Continue from OUTPUT_DIR/checkpoint.pt where it stopped (same data; options you leave out "
                   "are taken from the checkpoint, changed ones are refused).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@friendly_errors
def train(data_dir: str, output_dir: str, model_name: str, epochs: int, batch_size: int, steps_per_epoch: int,
          lr: float, weight_decay: float, schedule: str, patience: int, loss: str, grad_clip: float, history_frac: float,
          short_history: str, seed: int, device: str, model_options: tuple[str, ...], resume: bool, quiet: bool) -> None:
    """Train a rating model; writes best_model.pt, training_history.json and a training-curve PNG."""
    from gnn.processed import load_processed
    from gnn.train.trainer import train_model

    overrides = {}
    for item in model_options:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--model-option expects KEY=VALUE, got {item!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
        if isinstance(overrides[key], float) and not math.isfinite(overrides[key]):
            raise UsageError(f"--model-option {key}: {value} is not a finite number")
    if device != "cpu":
        import torch

        if not device.startswith("cuda"):
            raise UsageError(f"--device expects cpu, cuda or cuda:N, got {device!r}")
        if not torch.cuda.is_available():
            raise UsageError(f"--device {device}: no CUDA GPU is visible to this PyTorch build")
    ctx = click.get_current_context()
    given = {name for name in ctx.params
             if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)}
    options = dict(epochs=epochs, batch_size=batch_size, steps_per_epoch=steps_per_epoch, lr=lr, weight_decay=weight_decay, schedule=schedule,
                   patience=patience, loss=loss, grad_clip=grad_clip, history_frac=history_frac,
                   short_history=short_history, seed=seed,
                   device=device)
    options.update({k: v for k, v in train_defaults(model_name).items() if k not in given})
    try:
        cfg = TrainConfig(**options)
    except ValueError as err:
        raise UsageError(str(err)) from None
    ensure_writable_dir(output_dir, "--output-dir")  # now, not after the first epoch
    data = load_processed(data_dir)
    # An unknown --model-option key or a refused value is a ModelConfigError (a UsageError): one line.
    result = train_model(model_name, data, output_dir, cfg, model_config=overrides or None, resume=resume,
                         log=click.echo, progress=not quiet, explicit=given)
    m = result.metrics
    if m is None:  # a torchrun rank other than 0: rank 0 evaluates the best model and reports
        return
    click.echo(f"best epoch {result.best_epoch}; test MAE {_num(m['test']['mae'])} RMSE {_num(m['test']['rmse'])}; "
               f"{result.train_seconds:.0f}s, {result.ratings_per_second:,.0f} ratings/s")
    for k, v in m["new_users"].items():
        click.echo(f"  new users ({k} given, {v['users']} users): MAE {_num(v['mae'])} RMSE {_num(v['rmse'])}")
    click.echo(f"artifacts in {result.output_dir}/")
