"""The one trainer: AdamW, LR schedule, early stopping, clipping, checkpoints, exact resume, DDP.

The model owns its objective (:meth:`RatingModel.loss`), its weight-decay groups
(:meth:`RatingModel.optimizer_groups`) and the kind of batch it trains on
(:mod:`gnn.train.batches`); the trainer only runs the loop. Under ``torchrun``
(``WORLD_SIZE`` > 1) it trains with DistributedDataParallel (gloo on CPU, nccl on
GPU): each rank takes a disjoint share of every epoch's batches; all ranks evaluate
the validation split the same way, so they take identical early-stopping decisions
without extra communication; rank 0 alone writes files.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from gnn.io import finite_or_null, write_json
from gnn.models.base import ModelContext, RatingModel
from gnn.models.registry import build_model
from gnn.processed import ProcessedData
from gnn.train.batches import BatchSource, batch_size, batch_source
from gnn.train.checkpoint import load_state, model_blob, read_checkpoint, save_checkpoint
from gnn.train.config import TrainConfig
from gnn.train.evaluate import Evaluator, evaluate_new_users
from gnn.train.optim import build_optimizer, clip_grad_norm, dense_embedding_grads
from gnn.train.resume import plan_resume, restore

EpochCallback = Callable[[int, dict], bool]  # return True to stop after this epoch


@dataclass
class TrainResult:
    output_dir: Path
    best_epoch: int
    metrics: dict | None               # val/test/new-user metrics of the best model (None on torchrun ranks > 0)
    epoch_log: list[dict] = field(default_factory=list)  # one record per epoch (training_history.json)
    train_seconds: float = 0.0
    ratings_per_second: float = 0.0


def _dist(device: str) -> tuple[int, int, torch.device]:
    """(rank, world size, this process's device); one GPU per process under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    on_gpu = device.startswith("cuda")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if on_gpu else "gloo")
    if on_gpu and world > 1:
        return dist.get_rank(), world, torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return (dist.get_rank(), world, torch.device(device)) if world > 1 else (0, 1, torch.device(device))


def _silent(_message: str) -> None:
    """The log of a torchrun rank other than 0."""


def _scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig, total_steps: int):
    if cfg.schedule == "onecycle":
        # OneCycle needs at least two warm-up steps (pct_start * total_steps - 1 > 0); a tiny run gets them.
        least = math.ceil(2 / max(cfg.warmup_frac, 1e-3)) + 1
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=max(total_steps, least),
                                                   pct_start=cfg.warmup_frac)
    if cfg.schedule == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=max(cfg.patience // 2, 1))
    warmup = max(int(total_steps * cfg.warmup_frac), 1)

    def factor(step: int) -> float:
        if cfg.schedule == "constant":
            return 1.0
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(total_steps - warmup, 1))))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


class _Objective(torch.nn.Module):
    """The model's own training loss as a module, so DDP sees the whole step (its gradient hooks fire)."""

    def __init__(self, model: RatingModel, kind: str) -> None:
        super().__init__()
        self.model, self.kind = model, kind

    def forward(self, batch) -> torch.Tensor:
        return self.model.loss(batch, self.kind)


@dataclass
class _Run:
    """The mutable state of one training run (what ``checkpoint.pt`` saves)."""

    model: RatingModel
    ctx: ModelContext
    optimizer: torch.optim.Optimizer
    scheduler: Any
    gen: torch.Generator
    epoch_log: list[dict] = field(default_factory=list)
    best_rmse: float = math.inf
    best_epoch: int = 0
    bad_epochs: int = 0
    first_epoch: int = 1
    seen_ratings: int = 0
    world: int = 1                     # processes (torchrun); a resume must have as many

    def checkpoint(self, cfg: TrainConfig, epoch: int, val: dict, fingerprint: str | None) -> dict:
        blob = model_blob(self.model, self.ctx)
        blob.update(train_config=cfg.to_dict(), epoch=epoch, epoch_log=self.epoch_log, metrics={"val": val},
                    data_fingerprint=fingerprint)
        return blob

    def full_state(self, blob: dict) -> dict:
        return {**blob, "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                "best_rmse": self.best_rmse, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs,
                "seen_ratings": self.seen_ratings, "world_size": self.world, "rng_torch": torch.get_rng_state(),
                "rng_shuffle": self.gen.get_state()}


def _setup(model_name: str, data: ProcessedData, cfg: TrainConfig, model_config: dict | None,
           state: dict | None, ckpt_path: Path, steps: Callable[[RatingModel, ModelContext], int],
           device: torch.device, log: Callable[[str], None]) -> tuple[_Run, bool]:
    """The model (closed-form models fitted here), optimizer and schedule, restored from ``state`` if resuming."""
    torch.manual_seed(cfg.seed)
    ctx = ModelContext.from_processed(data)
    model = build_model(model_name, ctx, model_config)
    closed_form = model.fit_closed_form(data.train)
    model.to(device)
    optimizer = build_optimizer(model, cfg, device)
    run = _Run(model, ctx, optimizer, _scheduler(optimizer, cfg, steps(model, ctx) * cfg.epochs),
               torch.Generator().manual_seed(cfg.seed))
    if state is not None:
        restore(state, ckpt_path, model, optimizer, run.scheduler, run.gen)
        run.epoch_log, run.best_rmse, run.best_epoch = state["epoch_log"], state["best_rmse"], state["best_epoch"]
        run.bad_epochs, run.first_epoch, run.seen_ratings = state["bad_epochs"], state["epoch"] + 1, \
            state["seen_ratings"]
        log(f"resumed from {ckpt_path} after epoch {state['epoch']}")
    return run, closed_form


def epoch_steps(source: BatchSource, cfg: TrainConfig, world: int) -> int:
    """Optimizer steps per epoch: a pass over the training data, or at most ``cfg.steps_per_epoch``."""
    steps = source.steps(world)
    return min(steps, cfg.steps_per_epoch) if cfg.steps_per_epoch > 0 else steps


def _train_epoch(run: _Run, net: torch.nn.Module, source: BatchSource, cfg: TrainConfig, epoch: int,
                 device: torch.device, rank: int, world: int, progress: bool,
                 log: Callable[[str], None], log_every: float = 120.0) -> float | None:
    """One pass over the training data; returns the mean loss per rating (None if nothing was trained).

    Without a progress bar (not a terminal), a line every ``log_every`` seconds says how far it is.
    """
    run.model.train()
    total, count = 0.0, 0
    steps = epoch_steps(source, cfg, world)
    batches = itertools.islice(source.epoch(run.gen, rank, world), steps)
    bar = tqdm(batches, total=steps, desc=f"epoch {epoch}/{cfg.epochs}", leave=False,
               disable=not progress or rank != 0 or None)
    started = last = time.perf_counter()
    for step, batch in enumerate(bar, start=1):
        loss = net(batch.to(device))
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            clip_grad_norm(run.model.parameters(), cfg.grad_clip)
        run.optimizer.step()
        if cfg.schedule != "plateau":
            run.scheduler.step()
        n = batch_size(batch)
        total += float(loss.detach()) * n
        count += n
        bar.set_postfix(loss=f"{total / count:.4f}")
        if bar.disable and time.perf_counter() - last >= log_every:
            last = time.perf_counter()
            log(f"  epoch {epoch}: step {step}/{steps}, loss {total / count:.4f}, "
                f"{count * world / (last - started):,.0f} ratings/s")
    run.seen_ratings += count * world
    return total / count if count else None


def train_model(model_name: str, data: ProcessedData, output_dir: str | Path, cfg: TrainConfig = TrainConfig(),
                model_config: dict[str, Any] | None = None, resume: bool = False,
                on_epoch: EpochCallback | None = None, log: Callable[[str], None] = print,
                progress: bool = True, explicit: Collection[str] | None = None) -> TrainResult:
    """Train ``model_name`` on ``data`` and write artifacts into ``output_dir``.

    Files: ``checkpoint.pt`` (every epoch: model, optimizer, scheduler, epoch,
    RNG states, epoch log), ``best_model.pt`` (best validation RMSE), and at the
    end ``training_history.json``, ``training_curves.png``, ``model_metadata.json``.
    With ``resume`` the run continues from ``checkpoint.pt`` as if it had not been
    interrupted (same seed, same data, same config as stored there; bit-identical with
    one thread): :func:`gnn.train.resume.plan_resume` refuses other data and changed
    options (``explicit``: the option names the user gave; None = all).
    """
    output_dir = Path(output_dir)
    rank, world, device = _dist(cfg.device)
    if rank != 0:  # under torchrun rank 0 alone reports (each rank would print the same lines)
        log = _silent
    ckpt_path = output_dir / "checkpoint.pt"
    state = None
    if resume:  # the stored config wins, except where to run; other data or changed options are refused
        plan = plan_resume(ckpt_path, data, model_name, cfg, model_config, explicit, world)
        state, cfg, model_name, model_config = plan.state, plan.cfg, plan.model_name, plan.model_config
        for note in plan.notes:
            log(note)
    sources: dict = {}

    def steps(model: RatingModel, ctx: ModelContext) -> int:
        sources["source"] = batch_source(model, data, ctx, cfg)
        return epoch_steps(sources["source"], cfg, world)

    start = time.perf_counter()
    run, closed_form = _setup(model_name, data, cfg, model_config, state, ckpt_path, steps, device, log)
    run.world = world
    if world > 1 and device.type == "cuda" and dense_embedding_grads(run.model):
        log("torchrun on GPUs (NCCL): the ID tables' gradients are dense")
    resumed_ratings = run.seen_ratings  # ratings/s counts this session's work only
    objective = _Objective(run.model, cfg.loss)
    net = DistributedDataParallel(objective, find_unused_parameters=True,
                                  device_ids=[device] if device.type == "cuda" else None) if world > 1 else objective
    evaluator = Evaluator(data, run.ctx)
    for epoch in (range(run.first_epoch, cfg.epochs + 1) if not closed_form else range(1, 2)):
        loss = None if closed_form else _train_epoch(run, net, sources["source"], cfg, epoch, device, rank, world,
                                                     progress, log)
        if _end_epoch(run, evaluator, cfg, epoch, loss, closed_form, start, rank, output_dir, data, on_epoch, log):
            break
    train_seconds = time.perf_counter() - start
    if world > 1:
        dist.barrier()
    sources.clear()   # the batch source (~1 GB at 60M ratings) is not needed for the final metrics
    # Rank 0 alone evaluates best_model.pt and writes; the other ranks hold no best weights (their
    # last-epoch model's metrics would be another model's) and end here.
    best = _with_best_weights(run.model, output_dir / "best_model.pt") if rank == 0 else None
    result = TrainResult(output_dir=output_dir, best_epoch=run.best_epoch,
                         metrics=_final_metrics(best, evaluator, cfg) if best is not None else None,
                         epoch_log=run.epoch_log, train_seconds=train_seconds,
                         ratings_per_second=(run.seen_ratings - resumed_ratings) / train_seconds if train_seconds else 0.0)
    if best is not None:
        _write_artifacts(result, model_name, cfg, data, best)
    return result


def _end_epoch(run: _Run, evaluator: "Evaluator", cfg: TrainConfig, epoch: int, loss: float | None,
               closed_form: bool, start: float, rank: int, output_dir: Path, data: ProcessedData,
               on_epoch: EpochCallback | None, log: Callable[[str], None]) -> bool:
    """Validate, record, checkpoint; returns whether to stop (patience or the callback)."""
    measured = evaluator.split(run.model, data.val).as_dict()
    if cfg.schedule == "plateau" and not closed_form and measured["rmse"] is not None:
        run.scheduler.step(measured["rmse"])
    record = {"epoch": epoch, "train_loss": loss, "val_mae": measured["mae"], "val_rmse": measured["rmse"],
              "lr": run.optimizer.param_groups[0]["lr"], "seconds": round(time.perf_counter() - start, 2)}
    run.epoch_log.append(record)
    rmse = measured["rmse"] if measured["rmse"] is not None else math.inf
    improved = rmse < run.best_rmse - cfg.min_delta or (run.best_epoch == 0 and not math.isfinite(rmse))
    if improved:
        run.best_rmse, run.best_epoch, run.bad_epochs = rmse, epoch, 0
    else:
        run.bad_epochs += 1
    stop = run.bad_epochs >= cfg.patience or bool(on_epoch and on_epoch(epoch, record))
    if rank == 0:  # every rank has the same record: rank 0 alone saves it
        blob = run.checkpoint(cfg, epoch, measured, data.stats.get("data_fingerprint"))
        if improved:
            save_checkpoint(output_dir / "best_model.pt", blob)
        save_checkpoint(output_dir / "checkpoint.pt", run.full_state(blob))
    shown = "n/a" if measured["rmse"] is None else f"{measured['rmse']:.4f}"
    log(f"epoch {epoch:3d}  train loss {loss or 0:.4f}  val RMSE {shown}{'  *' if improved else ''}")
    return stop


def _with_best_weights(model: RatingModel, path: Path) -> RatingModel:
    """``model`` (eval mode) with ``best_model.pt``'s weights, loaded in place: the final metrics need no
    second model (at 60M ratings another rating graph in memory and minutes of building it)."""
    load_state(model, read_checkpoint(path)["state_dict"], path)
    return model.eval()


def _final_metrics(best: RatingModel, evaluator: "Evaluator", cfg: TrainConfig) -> dict:
    """Validation, test and new-user metrics of the best model (nothing is fitted after training)."""
    return {"val": evaluator.split(best, evaluator.data.val).as_dict(),
            "test": evaluator.split(best, evaluator.data.test).as_dict(),
            "new_users": evaluate_new_users(best, evaluator.data.holdout, seed=cfg.seed)}


def final_metrics(model: RatingModel, data: ProcessedData, ctx: ModelContext, seed: int) -> dict:
    """The metrics :func:`train_model` reports for a trained ``model`` (``seed``: the new users' draw)."""
    return _final_metrics(model, Evaluator(data, ctx), TrainConfig(seed=seed))


def _write_artifacts(result: TrainResult, model_name: str, cfg: TrainConfig, data: ProcessedData,
                     model: RatingModel) -> None:
    from gnn.train.plots import plot_training_curves  # matplotlib only when artifacts are written

    out = result.output_dir
    write_json(out / "training_history.json", finite_or_null(result.epoch_log))  # a diverged loss: null
    plot_training_curves(result.epoch_log, out / "training_curves.png", title=f"{model_name} training")
    write_json(out / "model_metadata.json", {
        "model_name": model_name, "best_epoch": result.best_epoch, "metrics": finite_or_null(result.metrics),
        "train_config": cfg.to_dict(), "model_config": asdict(model.config),  # type: ignore[attr-defined]
        "n_parameters": sum(p.numel() for p in model.parameters()),
        "train_seconds": round(result.train_seconds, 2), "ratings_per_second": round(result.ratings_per_second),
        "data_dir": str(data.data_dir), "data_fingerprint": data.stats.get("data_fingerprint"),
        "dataset": data.stats.get("dataset", {}),
        "rating_scale": data.stats["rating_scale"], "rating_mean": data.stats["rating_mean"],
        "rating_std": data.stats["rating_std"], "best_model": "best_model.pt"})
