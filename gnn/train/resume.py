"""``--resume``: what a checkpoint may continue, and what it refuses.

A resumed run continues the stored run: its data, model and training options.
Before anything is trained, :func:`plan_resume` checks that

* ``checkpoint.pt`` exists (no silent fresh start) and is a full training
  checkpoint (not a ``best_model.pt``);
* it was made on the same data (the preprocess data fingerprint, or for older
  checkpoints the number of users and anime);
* no option the user gave differs from the stored one (a new ``--model``,
  ``--epochs``, ``--lr``... would make it another run, not a continuation).
  Options the user did not give are taken from the checkpoint, and said so;
* it was written by as many processes as this run has (``torchrun
  --nproc_per_node``): the steps of an epoch, so the learning-rate schedule,
  depend on the number of processes (a checkpoint without the count: not checked).

"Exact": with one thread per process (``OMP_NUM_THREADS=1``, or
``torch.set_num_threads(1)``) a resumed run is bit-identical to an
uninterrupted one; with several threads, float sums are reordered between
runs, so even two uninterrupted runs differ in the last digits (about 1e-4 in
the metrics) and a resumed run matches within that noise.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Collection

import torch

from gnn.errors import InputError, UsageError
from gnn.models.registry import stored_config
from gnn.processed import ProcessedData
from gnn.train.checkpoint import load_state, read_checkpoint
from gnn.train.config import TrainConfig

# What a training checkpoint holds beyond the model (a best_model.pt lacks these).
_STATE_KEYS = ("train_config", "optimizer", "scheduler", "epoch", "epoch_log", "best_rmse", "best_epoch",
               "bad_epochs", "seen_ratings", "rng_torch", "rng_shuffle")
# Where to run may change between the interrupted run and the resumed one.
_FREE = {"device"}


@dataclass(frozen=True)
class ResumePlan:
    state: dict                  # the checkpoint
    cfg: TrainConfig             # the stored training options (device: the requested one)
    model_name: str
    model_config: dict
    notes: list[str]             # what was taken from the checkpoint, for the log


def _option(name: str) -> str:
    """The CLI spelling of an option name (``batch_size`` -> ``--batch-size``)."""
    if name.startswith("model_option "):
        return "--model-option " + name.split(" ", 1)[1]
    return "--model" if name == "model_name" else f"--{name.replace('_', '-')}"


def _same_data(state: dict, data: ProcessedData, path: Path) -> None:
    stored, current = state.get("data_fingerprint"), data.stats.get("data_fingerprint")
    if stored and current:
        if stored != current:
            raise InputError(str(path), f"made on other data (fingerprint {stored}; {data.data_dir} has "
                                        f"{current}): resume with the data it was made on, or train without --resume")
        return
    ctx = state.get("context") or {}
    sizes = {"n_users": data.n_users, "n_anime": data.n_anime}
    other = {k: ctx.get(k) for k in sizes if ctx.get(k) != sizes[k]}
    if other:
        raise InputError(str(path), f"made on other data ({other} vs {sizes} in {data.data_dir}): "
                                    "resume with the data it was made on, or train without --resume")


def _differences(state: dict, model_name: str, cfg: TrainConfig,
                 model_config: dict | None) -> dict[str, tuple[Any, Any]]:
    """name -> (stored, requested) for every option that differs."""
    stored_cfg = TrainConfig.from_dict(state["train_config"])
    out = {f.name: (getattr(stored_cfg, f.name), getattr(cfg, f.name)) for f in fields(TrainConfig)
           if f.name not in _FREE and getattr(stored_cfg, f.name) != getattr(cfg, f.name)}
    if model_name != state["model_name"]:
        out["model_name"] = (state["model_name"], model_name)
    stored_model = state.get("model_config") or {}
    for key, value in (model_config or {}).items():
        if stored_model.get(key) != value:
            out[f"model_option {key}"] = (stored_model.get(key), value)
    return out


def _same_world(state: dict, world: int, path: Path) -> None:
    stored = state.get("world_size")
    if stored is not None and stored != world:
        raise UsageError(f"--resume: {path} was written by a run of {stored} process(es), this run has {world}: "
                         "an epoch's steps and the learning-rate schedule depend on it; resume with "
                         f"torchrun --nproc_per_node={stored} (or {stored} process(es) in all), or train without --resume")


def plan_resume(path: Path, data: ProcessedData, model_name: str, cfg: TrainConfig,
                model_config: dict | None, explicit: Collection[str] | None = None, world: int = 1) -> ResumePlan:
    """Check ``path`` can continue on ``data`` with the requested options; see the module docstring.

    ``explicit``: the option names the user gave (``model_name``, ``model_options`` and
    :class:`TrainConfig` fields); a difference in one of them is refused. None (a library call)
    treats every option as given. ``world``: this run's number of processes.
    """
    path = Path(path)
    if not path.exists():
        raise UsageError(f"--resume: no checkpoint to resume from ({path} does not exist); "
                         "run without --resume to start training from scratch")
    state = read_checkpoint(path)
    if "history" in state and "epoch_log" not in state:  # the key's name before the rename
        raise InputError(str(path), "written by an older anime-gnn (its epoch records are under 'history', now "
                                    "'epoch_log'); train without --resume to start over")
    missing = [k for k in _STATE_KEYS if k not in state]
    if missing:
        raise InputError(str(path), f"not a training checkpoint to resume (lacks {', '.join(missing)})")
    _same_data(state, data, path)
    _same_world(state, world, path)
    # Options added since it was written: the values it was made with (read_checkpoint checked both keys).
    state["model_config"] = stored_config(state["model_name"], state["model_config"])
    diff = _differences(state, model_name, cfg, model_config)

    def given(name: str) -> bool:
        if explicit is None:
            return True
        return ("model_options" if name.startswith("model_option ") else name) in explicit

    changed = [f"{_option(k)} {old!r} -> {new!r}" for k, (old, new) in diff.items() if given(k)]
    if changed:
        raise UsageError(f"--resume: {path} was made with other options ({'; '.join(changed)}); resume with "
                         "the checkpoint's options (or leave them out), or train without --resume to start over")
    kept = [f"{_option(k)} {old!r}" for k, (old, _new) in diff.items()]
    notes = [f"options kept from the checkpoint: {', '.join(kept)}"] if kept else []
    return ResumePlan(state=state, cfg=TrainConfig.from_dict({**state["train_config"], "device": cfg.device}),
                      model_name=state["model_name"], model_config=state["model_config"], notes=notes)


def restore(state: dict, path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
            scheduler: Any, gen: torch.Generator) -> None:
    """Load weights, optimizer, scheduler and random states; a mismatch is one InputError naming ``path``."""
    load_state(model, state["state_dict"], path)
    try:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng_torch"])
        gen.set_state(state["rng_shuffle"])
    except (RuntimeError, ValueError, KeyError, TypeError) as err:
        first = (str(err).splitlines() or [""])[0][:160]
        raise InputError(str(path), f"optimizer or random state does not fit this run ({first})") from None
