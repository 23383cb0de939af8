"""Training throughput over a fixed number of optimizer steps, and a profile of one step (scaling benchmark).

An epoch of 46M ratings takes hours on a small CPU, so :func:`time_steps` trains ``warmup`` +
``steps`` steps with the trainer's own pieces (the model's batches from
:func:`gnn.train.batches.batch_source`, its :meth:`~gnn.models.base.RatingModel.loss`, AdamW at the
model's default training settings, gradient clipping) and reports the timed steps' ratings per
second, split into building the batch (``data``) and the step itself (``compute``; for the GNN,
``encoder_forward`` of it is the item encoder's forward pass over the whole graph).
:func:`profile_step` runs one more step under :mod:`torch.profiler` and keeps its top operators, and
times the item encoder's forward and backward alone.
"""

from __future__ import annotations

import time
from typing import Any, Iterator

import torch


def _setup(model_name: str, data: Any) -> tuple[Any, Any, Any, Iterator]:
    from gnn.models.base import ModelContext
    from gnn.models.registry import build_model, train_defaults
    from gnn.train.batches import batch_source
    from gnn.train.config import TrainConfig
    from gnn.train.optim import build_optimizer

    cfg = TrainConfig.from_dict({**train_defaults(model_name), "epochs": 1, "seed": 0})
    torch.manual_seed(cfg.seed)
    ctx = ModelContext.from_processed(data)
    model = build_model(model_name, ctx, None)
    model.fit_closed_form(data.train)
    optimizer = build_optimizer(model, cfg, torch.device("cpu"))
    model.train()
    return cfg, model, optimizer, _epochs(batch_source(model, data, ctx, cfg), torch.Generator().manual_seed(cfg.seed))


def _epochs(source: Any, gen: torch.Generator) -> Iterator:
    """The batches of one epoch after another (a small dataset has fewer batches than the steps timed)."""
    while True:
        empty = True
        for batch in source.epoch(gen, 0, 1):
            empty = False
            yield batch
        if empty:
            return


def _encoder_clock(model: Any) -> dict[str, float]:
    """Seconds spent in ``model.encoder``'s forward passes (hooks), where the model has an encoder."""
    spent = {"encoder_forward": 0.0}
    encoder = getattr(model, "encoder", None)
    if encoder is None:
        return spent
    started: list[float] = []
    encoder.register_forward_pre_hook(lambda *_: started.append(time.perf_counter()))
    encoder.register_forward_hook(lambda *_: spent.__setitem__(
        "encoder_forward", spent["encoder_forward"] + time.perf_counter() - started.pop()))
    return spent


def _step(cfg: Any, model: Any, optimizer: Any, batch: Any) -> torch.Tensor:
    from gnn.train.optim import clip_grad_norm

    loss = model.loss(batch, cfg.loss)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if cfg.grad_clip > 0:
        clip_grad_norm(model.parameters(), cfg.grad_clip)
    optimizer.step()
    return loss.detach()


def time_steps(model_name: str, data: Any, steps: int, warmup: int = 2) -> dict[str, Any]:
    """Throughput of ``steps`` optimizer steps after ``warmup`` untimed ones (epochs follow one another)."""
    from gnn.train.batches import batch_size

    start = time.perf_counter()
    cfg, model, optimizer, batches = _setup(model_name, data)
    setup_seconds = time.perf_counter() - start
    clock = _encoder_clock(model)
    timed = {"data": 0.0, "compute": 0.0, "ratings": 0, "steps": 0}
    losses = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        batch = next(batches, None)
        if batch is None:
            break
        t1 = time.perf_counter()
        if i == warmup:
            clock["encoder_forward"] = 0.0
        losses.append(float(_step(cfg, model, optimizer, batch)))
        if i >= warmup:
            timed["data"] += t1 - t0
            timed["compute"] += time.perf_counter() - t1
            timed["ratings"] += batch_size(batch)
            timed["steps"] += 1
    total = timed["data"] + timed["compute"]
    return {"model": model_name, "steps": timed["steps"], "warmup_steps": warmup,
            "ratings_per_step": round(timed["ratings"] / max(timed["steps"], 1)),
            "ratings_per_second": round(timed["ratings"] / total) if total else None,
            "seconds_per_step": round(total / max(timed["steps"], 1), 4),
            "data_seconds_per_step": round(timed["data"] / max(timed["steps"], 1), 4),
            "compute_seconds_per_step": round(timed["compute"] / max(timed["steps"], 1), 4),
            "encoder_forward_seconds_per_step": round(clock["encoder_forward"] / max(timed["steps"], 1), 4),
            "setup_seconds": round(setup_seconds, 2), "first_loss": losses[0] if losses else None,
            "last_loss": losses[-1] if losses else None, "batch_size": cfg.batch_size,
            "n_parameters": sum(p.numel() for p in model.parameters()),
            "_state": (cfg, model, optimizer, batches)}


def profile_step(state: tuple, top: int = 20) -> dict[str, Any]:
    """One more training step under :mod:`torch.profiler` (CPU): its top operators by self CPU time."""
    from torch.profiler import ProfilerActivity, profile

    cfg, model, optimizer, batches = state
    batch = next(batches)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        _step(cfg, model, optimizer, batch)
    encoder = getattr(model, "encoder", None)
    encoder_seconds = None
    if encoder is not None:   # the item encoder alone, forward and backward over the whole graph (no masks)
        start = time.perf_counter()
        encoder().float().pow(2).mean().backward()
        encoder_seconds = round(time.perf_counter() - start, 3)
        optimizer.zero_grad(set_to_none=True)
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events) or 1.0
    rows = [{"op": e.key, "calls": e.count, "self_cpu_ms": round(e.self_cpu_time_total / 1000, 1),
             "share": round(e.self_cpu_time_total / total, 4)} for e in events[:top]]
    return {"total_self_cpu_ms": round(total / 1000, 1), "top": rows, "encoder_forward_backward_seconds": encoder_seconds,
            "table": prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=top)}
