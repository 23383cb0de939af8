"""The optimizer and gradient clipping, for dense and row-sparse gradients alike.

An ID table that grows with the data (the baseline's 311k x 64 user embedding at 60M ratings) costs
every step a pass over all its rows with dense gradients: the gradient's zeroing and scatter, the
clipping norm, AdamW's update of rows no rating in the batch touched. With ``nn.Embedding(sparse=True)``
its gradient holds only the batch's rows, and :class:`LazyAdamW` moves only those ("lazy" Adam, as in
TensorFlow's LazyAdam and torch's ``SparseAdam``): a step costs what the batch touches.
"""

from __future__ import annotations

import math
from typing import Iterable

import torch

from gnn.models.base import RatingModel
from gnn.train.config import TrainConfig


class LazyAdamW(torch.optim.AdamW):
    r"""AdamW whose parameters with a sparse gradient are updated lazily, row by row.

    A dense gradient gets torch's AdamW (fused where asked). For a sparse gradient (rows
    :math:`R` of an embedding), only those rows' moments and values change, with AdamW's formulas
    and the step count shared by the group: a row in every step's gradient follows exactly the dense
    AdamW path; a row left out of a step keeps its value and moments (dense AdamW would move it by its
    momentum and decay its moments). Its state has AdamW's keys, so checkpoints read either way.
    """

    @torch.no_grad()
    def step(self, closure=None):  # noqa: D102 - torch's signature
        if closure is not None:
            raise ValueError("LazyAdamW takes no closure")
        held = []
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None and p.grad.is_sparse:
                    self._sparse_step(p, group)
                    held.append((p, p.grad))
                    p.grad = None   # AdamW's own step skips a parameter without a gradient
        super().step()
        for p, grad in held:
            p.grad = grad

    def _sparse_step(self, p: torch.Tensor, group: dict) -> None:
        if group["amsgrad"] or group["maximize"]:
            raise ValueError("LazyAdamW's sparse update has no amsgrad or maximize")
        state = self.state[p]
        if not state:
            state["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        grad = p.grad.coalesce()   # an embedding's backward repeats a row once per occurrence
        rows, values = grad.indices()[0], grad.values()
        lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t = float(state["step"])
        m = state["exp_avg"][rows].lerp_(values, 1 - beta1)
        v = state["exp_avg_sq"][rows].mul_(beta2).addcmul_(values, values, value=1 - beta2)
        state["exp_avg"].index_copy_(0, rows, m)
        state["exp_avg_sq"].index_copy_(0, rows, v)
        denom = (v.sqrt() / math.sqrt(1 - beta2 ** t)).add_(eps)
        value = p[rows].mul_(1 - lr * wd).addcdiv_(m, denom, value=-lr / (1 - beta1 ** t))
        p.index_copy_(0, rows, value)


def clip_grad_norm(parameters: Iterable[torch.Tensor], max_norm: float) -> torch.Tensor:
    """``torch.nn.utils.clip_grad_norm_`` (L2 norm over all gradients), sparse gradients included.

    A sparse gradient is coalesced first (repeated rows summed), so its norm is that of the dense
    gradient it stands for; returns the total norm before clipping.
    """
    grads = []
    for p in parameters:
        if p.grad is None:
            continue
        if p.grad.is_sparse:
            p.grad = p.grad.coalesce()
            grads.append(p.grad.values())
        else:
            grads.append(p.grad)
    if not grads:
        return torch.zeros(())
    total = torch.nn.utils.get_total_norm(grads)
    scale = (max_norm / (total + 1e-6)).clamp(max=1.0)   # torch's clip coefficient
    for g in grads:
        g.mul_(scale)
    return total


def dense_embedding_grads(model: torch.nn.Module) -> int:
    """Make every row-sparse embedding gradient dense again; returns how many tables changed.

    For torchrun on GPUs: DDP all-reduces sparse gradients over gloo (tested here), and NCCL support
    for them is not something this project has measured, while on a GPU the dense table's step is cheap.
    The forward is the same either way (``nn.Embedding.sparse`` only shapes the gradient).
    """
    changed = 0
    for module in model.modules():
        if isinstance(module, torch.nn.Embedding) and module.sparse:
            module.sparse, changed = False, changed + 1
    return changed


def build_optimizer(model: RatingModel, cfg: TrainConfig, device: torch.device) -> LazyAdamW:
    """AdamW over the model's weight-decay groups, with torch's fused kernel on CPU and CUDA: the same
    update in one pass over each parameter, equal to the default loop up to float rounding and ~10x
    faster on CPU (a dense 311k x 64 table: 164 -> 17 ms a step, one thread). Parameters whose gradient
    arrives sparse (ID tables built with ``sparse=True``) are updated lazily (:class:`LazyAdamW`)."""
    groups = model.optimizer_groups(cfg.weight_decay) or [{"params": [torch.nn.Parameter(torch.zeros(1))]}]
    fused = True if device.type in ("cpu", "cuda") else None
    return LazyAdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=fused)
