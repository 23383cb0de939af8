from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gnn.models.base import Batch
from gnn.processed import load_processed
from gnn.train.checkpoint import load_model
from gnn.train.config import TrainConfig
from gnn.train.evaluate import predict_split
from gnn.train.optim import build_optimizer
from gnn.train.trainer import train_model

QUIET = dict(log=lambda _m: None, progress=False)
CFG = TrainConfig(epochs=4, batch_size=64, lr=1e-2, patience=10, seed=3)


def test_mf_learns_and_writes_artifacts(tiny_processed, tmp_path):
    data = load_processed(tiny_processed)
    result = train_model("mf", data, tmp_path, CFG, **QUIET)
    epoch_log = json.loads((tmp_path / "training_history.json").read_text())
    assert [h["epoch"] for h in epoch_log] == [1, 2, 3, 4]
    assert epoch_log[-1]["val_rmse"] < epoch_log[0]["val_rmse"]
    for name in ("best_model.pt", "checkpoint.pt", "training_curves.png", "model_metadata.json"):
        assert (tmp_path / name).stat().st_size > 0
    meta = json.loads((tmp_path / "model_metadata.json").read_text())
    assert meta["metrics"]["test"]["rmse"] == pytest.approx(result.metrics["test"]["rmse"])
    assert set(meta["metrics"]["new_users"]) == {"k=5", "k=10", "k=20"}
    assert (tmp_path / "training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_best_model_rebuilds_from_checkpoint_alone(tiny_processed, tmp_path):
    data = load_processed(tiny_processed)
    train_model("mf", data, tmp_path, CFG, **QUIET)
    blob = torch.load(tmp_path / "best_model.pt", weights_only=True)  # no pickle of code
    assert blob["model_name"] == "mf"
    model, _, _ = load_model(tmp_path / "best_model.pt")
    again, _, _ = load_model(tmp_path / "best_model.pt")
    pred = predict_split(model, data.test)
    assert torch.equal(pred, predict_split(again, data.test))
    assert ((pred >= 1) & (pred <= 10)).all()


def test_the_optimizer_is_fused_adamw_with_the_models_decay_groups(tiny_processed):
    """The fused kernel (one pass per parameter: the 60M baseline's 311k-row user table made the default
    loop the step's largest cost) must be the same AdamW: decoupled decay on weight matrices only."""
    from gnn.models.base import ModelContext
    from gnn.models.registry import build_model

    data = load_processed(tiny_processed)
    cfg = TrainConfig(lr=1e-2, weight_decay=0.5)
    models = [build_model("mf", ModelContext.from_processed(data), None) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    fused = build_optimizer(models[0], cfg, torch.device("cpu"))
    assert all(g["fused"] for g in fused.param_groups)
    loop = torch.optim.AdamW(models[1].optimizer_groups(cfg.weight_decay), lr=cfg.lr, weight_decay=cfg.weight_decay)
    assert [g["weight_decay"] for g in fused.param_groups] == [g["weight_decay"] for g in loop.param_groups]
    start = [p.detach().clone() for p in models[0].parameters()]
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        grads = [torch.randn(p.shape, generator=gen) for p in models[0].parameters()]
        for model, opt in zip(models, (fused, loop)):
            for p, g in zip(model.parameters(), grads):
                p.grad = g.clone()
            opt.step()
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert all(not torch.equal(a, b) for a, b in zip(models[0].parameters(), start))


def test_same_seed_same_result(tiny_processed, tmp_path):
    data = load_processed(tiny_processed)
    a = train_model("mf", data, tmp_path / "a", CFG, **QUIET)
    b = train_model("mf", data, tmp_path / "b", CFG, **QUIET)
    c = train_model("mf", data, tmp_path / "c", TrainConfig(**{**CFG.to_dict(), "seed": 4}), **QUIET)
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert strip(a.epoch_log) == strip(b.epoch_log)
    assert strip(a.epoch_log) != strip(c.epoch_log)


def test_resume_continues_exactly(tiny_processed, tmp_path):
    data = load_processed(tiny_processed)
    full = train_model("mf", data, tmp_path / "full", CFG, **QUIET)
    # "Kill" the run after epoch 2, then resume from its checkpoint.
    train_model("mf", data, tmp_path / "cut", CFG, on_epoch=lambda epoch, _r: epoch == 2, **QUIET)
    assert json.loads((tmp_path / "cut" / "training_history.json").read_text())[-1]["epoch"] == 2
    resumed = train_model("mf", data, tmp_path / "cut", CFG, resume=True, **QUIET)
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert strip(resumed.epoch_log) == strip(full.epoch_log)
    assert resumed.metrics["test"] == full.metrics["test"]


def test_steps_per_epoch_caps_an_epoch_and_resumes_exactly(tiny_processed, tmp_path, monkeypatch):
    """Each epoch stops after 3 steps of its own shuffle (3 x 64 ratings), the schedule is sized for it,
    and a run cut after epoch 2 resumes to the same result."""
    import gnn.train.trainer as trainer

    data = load_processed(tiny_processed)
    assert len(data.train) > 6 * 64                               # a full epoch would be more steps
    cfg = TrainConfig(**{**CFG.to_dict(), "steps_per_epoch": 3})
    totals = []
    scheduler = trainer._scheduler
    monkeypatch.setattr(trainer, "_scheduler", lambda opt, c, total: totals.append(total) or scheduler(opt, c, total))
    full = train_model("mf", data, tmp_path / "full", cfg, **QUIET)
    ckpt = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=False)
    assert ckpt["seen_ratings"] == 4 * 3 * 64 and totals == [4 * 3]
    train_model("mf", data, tmp_path / "cut", cfg, on_epoch=lambda epoch, _r: epoch == 2, **QUIET)
    resumed = train_model("mf", data, tmp_path / "cut", cfg, resume=True, **QUIET)
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert strip(resumed.epoch_log) == strip(full.epoch_log) and resumed.metrics["test"] == full.metrics["test"]
    with pytest.raises(ValueError, match="steps_per_epoch must be 0"):
        TrainConfig(steps_per_epoch=-1)


@pytest.mark.parametrize("name", ["mf", "gnn", "baseline"])
def test_final_metrics_are_those_of_best_model_pt_rebuilt_alone(name, tiny_processed, tmp_path):
    """The trainer loads the best weights into its own model for the final metrics (no second model):
    the same numbers as the model rebuilt from best_model.pt alone; a model whose weights moved on
    gets best_model.pt's back."""
    from gnn.train.evaluate import Evaluator
    from gnn.train.trainer import _with_best_weights

    data = load_processed(tiny_processed)
    result = train_model(name, data, tmp_path, TrainConfig(**{**CFG.to_dict(), "epochs": 2}), **QUIET)
    model, ctx, _ = load_model(tmp_path / "best_model.pt")
    again = Evaluator(data, ctx)
    assert result.metrics["test"] == again.split(model, data.test).as_dict()
    assert result.metrics["val"] == again.split(model, data.val).as_dict()
    moved, _, _ = load_model(tmp_path / "best_model.pt")
    with torch.no_grad():
        for p in moved.parameters():
            p.add_(0.1)
    assert again.split(moved, data.test).as_dict() != result.metrics["test"]
    assert again.split(_with_best_weights(moved.train(), tmp_path / "best_model.pt"), data.test).as_dict() \
        == result.metrics["test"] and not moved.training


def test_global_mean_is_closed_form(tiny_processed, tmp_path):
    data = load_processed(tiny_processed)
    result = train_model("global_mean", data, tmp_path, CFG, **QUIET)
    assert len(result.epoch_log) == 1
    model, _, _ = load_model(tmp_path / "best_model.pt")
    pred = model.predict(Batch(user=data.test.user, anime=data.test.anime))
    assert torch.allclose(pred, data.train.rating.mean().expand_as(pred), atol=1e-5)


@pytest.mark.slow
def test_torchrun_two_processes_match_one(tiny_processed, tmp_path):
    """2 gloo processes on CPU reach the 1-process validation RMSE within tolerance. The baseline: its
    user table's row-sparse gradients are all-reduced as sparse tensors (gloo)."""
    args = ["--data-dir", str(tiny_processed), "--model", "baseline", "--epochs", "6", "--batch-size", "32",
            "--lr", "0.01", "--quiet", "--seed", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    one = subprocess.run([sys.executable, "-m", "cli", "train", *args, "--output-dir", str(tmp_path / "one")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert one.returncode == 0, one.stderr
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          "-m", "cli", "train", *args, "--batch-size", "16", "--output-dir", str(tmp_path / "two")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert two.returncode == 0, two.stderr[-3000:]
    rmse = [json.loads((tmp_path / d / "model_metadata.json").read_text())["metrics"]["val"]["rmse"]
            for d in ("one", "two")]
    assert rmse[1] == pytest.approx(rmse[0], rel=0.1)
    assert len(list(Path(tmp_path / "two").glob("best_model.pt"))) == 1
    # Rank 0 alone reports: each epoch once, and one final report (of best_model.pt, the written metrics).
    lines = two.stdout.splitlines()
    assert sum(line.startswith("epoch   1 ") for line in lines) == 1
    final = [line for line in lines if line.startswith("best epoch")]
    test_rmse = json.loads((tmp_path / "two" / "model_metadata.json").read_text())["metrics"]["test"]["rmse"]
    assert len(final) == 1 and f"RMSE {test_rmse:.4f}" in final[0]
    # Resumed by 2 processes: the resume note, too, is printed once.
    again = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                            "-m", "cli", "train", *args, "--batch-size", "16", "--output-dir", str(tmp_path / "two"),
                            "--resume"], capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert sum(line.startswith("resumed from") for line in again.stdout.splitlines()) == 1


def test_device_is_validated():
    assert TrainConfig(device="cuda:1").device == "cuda:1"
    with pytest.raises(ValueError, match="device must be cpu, cuda or cuda:N"):
        TrainConfig(device="tpu")


def test_gnn_trains_on_tasks_and_a_rated_relative_moves_its_sequel(tiny_processed, tmp_path):
    """Issue 14: nothing is fitted after training; the franchise effect comes from inside the model."""
    data = load_processed(tiny_processed)
    # The trainer's default peak rate: at 1e-2 this tiny run was unstable (validation jumped after epoch 1
    # and whether it came back within 10 epochs depended on the seed); at 3e-3 seeds 0, 1, 2 all learn.
    cfg = TrainConfig(epochs=10, batch_size=64, seed=0, patience=10)
    result = train_model("gnn", data, tmp_path, cfg, **QUIET)
    blob = torch.load(tmp_path / "best_model.pt", weights_only=True)
    assert "series" not in blob and "series_term" not in result.metrics
    assert min(h["val_rmse"] for h in result.epoch_log) < result.epoch_log[0]["val_rmse"]
    model, _, _ = load_model(tmp_path / "best_model.pt")
    # Show 0 S1/S2/S3 are anime 1/2/3 (tests/builders.write_tiny_inputs): rating S1 high lifts S2.
    others = [(13, 0.0), (20, 0.0)]

    def predicted(s1_rating: float) -> float:
        hist = torch.tensor([[1] + [a for a, _ in others]])
        z = model.normalize(torch.tensor([[s1_rating] + [7.0 for _ in others]]))
        return float(model.predict(Batch(user=torch.zeros(1, dtype=torch.long), anime=torch.tensor([2]),
                                         hist_anime=hist, hist_rating=z, use_history=torch.ones(1, dtype=torch.bool))))

    assert predicted(10.0) > predicted(2.0) + 0.1


@pytest.mark.parametrize("name", ["most_popular", "ease"])
def test_a_ranking_only_model_trains_with_null_rating_metrics(name, tiny_processed, tmp_path):
    data = load_processed(tiny_processed)
    lines: list[str] = []
    result = train_model(name, data, tmp_path, CFG, log=lines.append, progress=False)
    assert result.best_epoch == 1 and len(result.epoch_log) == 1          # closed form: one pass
    assert lines[0].endswith("val RMSE n/a  *")

    def strict(text: str):
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in strict JSON"))

    meta = strict((tmp_path / "model_metadata.json").read_text())
    assert meta["metrics"]["val"] == {"mae": None, "rmse": None, "n": 0}
    assert meta["metrics"]["test"]["rmse"] is None and "series_term" not in meta["metrics"]
    assert {k: v["rmse"] for k, v in meta["metrics"]["new_users"].items()} == {"k=5": None, "k=10": None, "k=20": None}
    assert strict((tmp_path / "training_history.json").read_text())[0]["val_rmse"] is None
    model, _, _ = load_model(tmp_path / "best_model.pt")
    assert model.name == name and not model.predicts_ratings


def test_a_baseline_step_moves_only_the_user_rows_of_its_batch(tiny_processed):
    """The baseline's user table takes row-sparse gradients and the trainer's optimizer moves only those
    rows (issue 18: a step's cost must not grow with the users). Bugs caught: the table built dense, the
    optimizer stepping every row (AdamW's decay or momentum), a user of the batch left unchanged."""
    from gnn.models.base import ModelContext
    from gnn.models.registry import build_model
    from gnn.train.batches import batch_source

    data = load_processed(tiny_processed)
    cfg = TrainConfig(batch_size=16, lr=1e-2, seed=0)
    ctx = ModelContext.from_processed(data)
    model = build_model("baseline", ctx, None)
    batches = batch_source(model, data, ctx, cfg).epoch(torch.Generator().manual_seed(0), 0, 1)
    opt = build_optimizer(model, cfg, torch.device("cpu"))
    model.train()
    for step, batch in zip(range(2), batches):   # step 2: rows of step 1 only, momentum would move them
        before = model.user_emb.weight.detach().clone()
        opt.zero_grad(set_to_none=True)
        model.loss(batch).backward()
        opt.step()
        by_id = batch.user[~batch.use_history] if batch.use_history is not None else batch.user
        touched = torch.zeros(ctx.n_users, dtype=torch.bool)
        touched[by_id] = True
        assert 0 < int(touched.sum()) < ctx.n_users - 1
        after = model.user_emb.weight.detach()
        assert model.user_emb.weight.grad.is_sparse
        assert torch.equal(after[~touched], before[~touched])
        assert not torch.isclose(after[touched], before[touched]).all(dim=1).any()
