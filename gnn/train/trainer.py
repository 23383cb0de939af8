"""The one trainer: AdamW, LR schedule, early stopping, clipping, checkpoints, exact resume, DDP.

Under ``torchrun`` (``WORLD_SIZE`` > 1) it trains with DistributedDataParallel
(gloo on CPU, nccl on GPU): each rank takes a disjoint shard of every epoch's
shuffled ratings; all ranks evaluate the (small) validation split the same way,
so they take identical early-stopping decisions without extra communication;
rank 0 alone writes files.
"""

from __future__ import annotations

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

from gnn.data.processed import ProcessedData
from gnn.io import finite_or_null, write_json
from gnn.models.base import LOSSES, Batch, ModelContext, RatingModel
from gnn.models.registry import build_model
from gnn.models.series import SeriesAdjusted
from gnn.train.checkpoint import model_blob, read_checkpoint, save_checkpoint, model_from_blob
from gnn.train.config import TrainConfig
from gnn.train.evaluate import evaluate_new_users, evaluate_split, fmt_metric
from gnn.train.histories import UserHistories
from gnn.train.resume import plan_resume, restore
from gnn.train.series import fit_series, series_blob

EpochCallback = Callable[[int, dict], bool]  # return True to stop after this epoch


@dataclass
class TrainResult:
    output_dir: Path
    best_epoch: int
    metrics: dict                      # val/test/new-user metrics of the best model
    history: list[dict] = field(default_factory=list)
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


def _scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig, total_steps: int):
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=max(total_steps, 2),
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


def _batches(n: int, cfg: TrainConfig, gen: torch.Generator, rank: int, world: int) -> list[torch.Tensor]:
    perm = torch.randperm(n, generator=gen)
    shard = perm[rank: (n // world) * world: world]  # equal-length shards keep DDP steps in lockstep
    return list(shard.split(cfg.batch_size))


def train_model(model_name: str, data: ProcessedData, output_dir: str | Path, cfg: TrainConfig = TrainConfig(),
                model_config: dict[str, Any] | None = None, resume: bool = False,
                on_epoch: EpochCallback | None = None, log: Callable[[str], None] = print,
                progress: bool = True, explicit: Collection[str] | None = None) -> TrainResult:
    """Train ``model_name`` on ``data`` and write artifacts into ``output_dir``.

    Files: ``checkpoint.pt`` (every epoch: model, optimizer, scheduler, epoch,
    RNG states, history), ``best_model.pt`` (best validation RMSE), and at the
    end ``training_history.json``, ``training_curves.png``, ``model_metadata.json``.
    With ``resume`` the run continues from ``checkpoint.pt`` as if it had not been
    interrupted (same seed, same data, same config as stored there; bit-identical with
    one thread): :func:`gnn.train.resume.plan_resume` refuses other data and changed
    options (``explicit``: the option names the user gave; None = all).
    """
    output_dir = Path(output_dir)
    rank, world, device = _dist(cfg.device)
    ckpt_path = output_dir / "checkpoint.pt"
    state = None
    if resume:  # the stored config wins, except where to run; other data or changed options are refused
        plan = plan_resume(ckpt_path, data, model_name, cfg, model_config, explicit)
        state, cfg, model_name, model_config = plan.state, plan.cfg, plan.model_name, plan.model_config
        for note in plan.notes:
            log(note)

    torch.manual_seed(cfg.seed)
    ctx = ModelContext.from_processed(data)
    model = build_model(model_name, ctx, model_config)
    gen = torch.Generator().manual_seed(cfg.seed)
    histories = UserHistories(data.train, ctx.n_users, ctx.rating_mean, ctx.rating_std)
    train = data.train
    target = (train.rating - ctx.rating_mean) / ctx.rating_std
    steps_per_epoch = math.ceil((len(train) // world) / cfg.batch_size)
    start = time.perf_counter()

    # Classic references with a closed-form fit (e.g. the global mean) skip the gradient loop.
    closed_form = model.fit_closed_form(train)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad] or [torch.nn.Parameter(torch.zeros(1))]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = _scheduler(optimizer, cfg, steps_per_epoch * cfg.epochs)
    history: list[dict] = []
    best_rmse, best_epoch, bad_epochs, first_epoch, seen_ratings = math.inf, 0, 0, 1, 0
    if state is not None:
        restore(state, ckpt_path, model, optimizer, scheduler, gen)
        history, best_rmse, best_epoch = state["history"], state["best_rmse"], state["best_epoch"]
        bad_epochs, first_epoch, seen_ratings = state["bad_epochs"], state["epoch"] + 1, state["seen_ratings"]
        log(f"resumed from {ckpt_path} after epoch {state['epoch']}")
    resumed_ratings = seen_ratings  # ratings/s counts this session's work only
    net = DistributedDataParallel(model, find_unused_parameters=True,
                                  device_ids=[device] if device.type == "cuda" else None) if world > 1 else model
    loss_fn = LOSSES[cfg.loss]
    epochs = range(first_epoch, cfg.epochs + 1) if not closed_form else range(1, 2)

    for epoch in epochs:
        model.train()
        total, count = 0.0, 0
        if not closed_form:
            bar = tqdm(_batches(len(train), cfg, gen, rank, world), desc=f"epoch {epoch}/{cfg.epochs}",
                       leave=False, disable=not progress or rank != 0 or None)
            for idx in bar:
                users = train.user[idx]
                hist_anime, hist_rating = histories.sample(users, cfg.history_len, gen)
                use_history = torch.rand(len(idx), generator=gen) < cfg.history_frac
                batch = Batch(user=users, anime=train.anime[idx], target=target[idx], hist_anime=hist_anime,
                              hist_rating=hist_rating, use_history=use_history).to(device)
                loss = loss_fn(net(batch), batch.target) + model.regularization(batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip > 0:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                optimizer.step()
                if cfg.schedule != "plateau":
                    scheduler.step()
                total += float(loss.detach()) * len(idx)
                count += len(idx)
                bar.set_postfix(loss=f"{total / count:.4f}")
            seen_ratings += count * world
        val = evaluate_split(model, data.val, cfg.eval_batch_size)
        if cfg.schedule == "plateau" and not closed_form:
            scheduler.step(val.rmse)
        record = {"epoch": epoch, "train_loss": total / count if count else None, "val_mae": val.mae,
                  "val_rmse": val.rmse, "lr": optimizer.param_groups[0]["lr"],
                  "seconds": round(time.perf_counter() - start, 2)}
        history.append(record)
        improved = val.rmse < best_rmse - cfg.min_delta or not model.predicts_ratings  # ranking-only: no RMSE
        if improved:
            best_rmse, best_epoch, bad_epochs = val.rmse, epoch, 0
        else:
            bad_epochs += 1
        stop = bad_epochs >= cfg.patience or bool(on_epoch and on_epoch(epoch, record))
        if rank == 0:
            blob = model_blob(model, ctx)
            blob.update(train_config=cfg.to_dict(), epoch=epoch, history=history, metrics={"val": val.as_dict()},
                        data_fingerprint=data.config.get("data_fingerprint"))
            if improved:
                save_checkpoint(output_dir / "best_model.pt", blob)
            save_checkpoint(ckpt_path, {
                **blob, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "best_rmse": best_rmse, "best_epoch": best_epoch, "bad_epochs": bad_epochs,
                "seen_ratings": seen_ratings, "rng_torch": torch.get_rng_state(), "rng_shuffle": gen.get_state()})
        log(f"epoch {epoch:3d}  train loss {record['train_loss'] or 0:.4f}  val MAE {fmt_metric(val.mae)}  "
            f"val RMSE {fmt_metric(val.rmse)}{'  *' if improved else ''}")
        if stop:
            break

    train_seconds = time.perf_counter() - start
    if world > 1:
        dist.barrier()
    best, _ = model_from_blob(read_checkpoint(output_dir / "best_model.pt")) if rank == 0 or world == 1 \
        else (model, None)
    metrics = _final_metrics(best, data, cfg, output_dir, fit_term=rank == 0)
    result = TrainResult(output_dir=output_dir, best_epoch=best_epoch, metrics=metrics, history=history,
                         train_seconds=train_seconds,
                         ratings_per_second=(seen_ratings - resumed_ratings) / train_seconds if train_seconds else 0.0)
    if rank == 0:
        _write_artifacts(result, model_name, cfg, data, best)
    return result


def _final_metrics(best: RatingModel, data: ProcessedData, cfg: TrainConfig, output_dir: Path,
                   fit_term: bool = True) -> dict:
    """Val/test/new-user metrics of the best model; models that see relations first get the franchise term.

    The term (two numbers per user path, fitted on the validation split) is stored in
    ``best_model.pt``; the metrics without it are kept under ``series_term`` for comparison.
    """
    def measure(model: RatingModel) -> dict:
        return {"val": evaluate_split(model, data.val).as_dict(), "test": evaluate_split(model, data.test).as_dict(),
                "new_users": evaluate_new_users(model, data.holdout, seed=cfg.seed)}

    plain = measure(best)
    if not (best.uses_relations and fit_term):  # under DDP, rank 0 alone fits and writes
        return plain
    known, history, residuals = fit_series(best, data, seed=cfg.seed)
    path = output_dir / "best_model.pt"
    save_checkpoint(path, {**read_checkpoint(path), "series": series_blob(known, history)})
    scored = measure(SeriesAdjusted(best, ModelContext.from_processed(data), known, history, residuals))
    return {**scored, "series_term": {**series_blob(known, history), "without": plain}}


def _write_artifacts(result: TrainResult, model_name: str, cfg: TrainConfig, data: ProcessedData,
                     model: RatingModel) -> None:
    from gnn.train.plots import plot_history  # matplotlib only when artifacts are written

    out = result.output_dir
    write_json(out / "training_history.json", finite_or_null(result.history))  # a diverged loss: null
    plot_history(result.history, out / "training_curves.png", title=f"{model_name} training")
    write_json(out / "model_metadata.json", {
        "model_name": model_name, "best_epoch": result.best_epoch, "metrics": finite_or_null(result.metrics),
        "train_config": cfg.to_dict(), "model_config": asdict(model.config),  # type: ignore[attr-defined]
        "n_parameters": sum(p.numel() for p in model.parameters()),
        "train_seconds": round(result.train_seconds, 2), "ratings_per_second": round(result.ratings_per_second),
        "data_dir": str(data.data_dir), "data_fingerprint": data.config.get("data_fingerprint"),
        "dataset": data.config.get("dataset", {}),
        "rating_scale": data.config["rating_scale"], "rating_mean": data.config["rating_mean"],
        "rating_std": data.config["rating_std"], "best_model": "best_model.pt"})
