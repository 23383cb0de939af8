"""Issue 17, defect 6 (and the checkpoint part of 4): ``--resume`` keeps what it promises, refuses the rest.

* with one thread a resumed GNN run is bit-identical to an uninterrupted one;
* a missing checkpoint, other data or a changed option is refused (one line);
  options left out are taken from the checkpoint and listed;
* ratings/s counts the resumed session's ratings only;
* a truncated, random or empty checkpoint is one ``error:`` line, not a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cli.main import main
from gnn.errors import InputError, UsageError
from gnn.preprocess import PreprocessConfig, preprocess
from gnn.processed import load_processed
from gnn.train.config import TrainConfig
from gnn.train.trainer import train_model
from tests.builders import write_tiny_inputs

QUIET = dict(log=lambda _m: None, progress=False)
CFG = TrainConfig(epochs=3, batch_size=64, lr=1e-2, patience=10, seed=3)


def strict_json(path: Path):
    def refuse(name: str):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(path.read_text(), parse_constant=refuse)


def no_seconds(epoch_log: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in epoch_log]


@pytest.fixture(scope="module")
def other_processed(tmp_path_factory) -> Path:
    """Another tiny dataset of the same shape (other ratings): another data fingerprint."""
    root = tmp_path_factory.mktemp("other")
    write_tiny_inputs(root / "raw", seed=7)
    preprocess(root / "raw", root / "processed", PreprocessConfig(min_ratings=1, holdout_user_frac=0.1))
    return root / "processed"


def test_resumed_gnn_run_is_bit_identical_with_one_thread(tiny_processed, tmp_path):
    data = load_processed(tiny_processed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        full = train_model("gnn", data, tmp_path / "full", CFG, **QUIET)
        train_model("gnn", data, tmp_path / "cut", CFG, on_epoch=lambda epoch, _r: epoch == 1, **QUIET)
        resumed = train_model("gnn", data, tmp_path / "cut", CFG, resume=True, **QUIET)
    finally:
        torch.set_num_threads(threads)
    assert no_seconds(resumed.epoch_log) == no_seconds(full.epoch_log) and len(full.epoch_log) == 3
    assert resumed.metrics == full.metrics
    a = torch.load(tmp_path / "full" / "best_model.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "cut" / "best_model.pt", weights_only=True)["state_dict"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_without_a_checkpoint_is_an_error(tiny_processed, tmp_path):
    with pytest.raises(UsageError, match=r"--resume: no checkpoint to resume from .*checkpoint\.pt does not "
                                         r"exist\); run without --resume"):
        train_model("mf", load_processed(tiny_processed), tmp_path, CFG, resume=True, **QUIET)
    assert not any(tmp_path.iterdir())  # nothing trained, nothing written


def test_changed_options_are_refused_and_left_out_ones_are_kept(tiny_processed, tmp_path):
    data = load_processed(tiny_processed)
    train_model("mf", data, tmp_path, CFG, on_epoch=lambda epoch, _r: epoch == 1, **QUIET)
    longer = TrainConfig(**{**CFG.to_dict(), "epochs": 6, "lr": 0.5})
    with pytest.raises(UsageError) as info:
        train_model("biases", data, tmp_path, longer, resume=True, **QUIET)
    assert str(info.value).startswith(f"--resume: {tmp_path / 'checkpoint.pt'} was made with other options (")
    assert "--epochs 3 -> 6; --lr 0.01 -> 0.5; --model 'mf' -> 'biases'" in str(info.value)
    with pytest.raises(UsageError, match="--model-option dim 32 -> 8"):
        train_model("mf", data, tmp_path, CFG, model_config={"dim": 8}, resume=True, **QUIET)
    # The same options given only in part (as the CLI does): the rest comes from the checkpoint, and is said.
    lines: list[str] = []
    result = train_model("mf", data, tmp_path, longer, resume=True, explicit={"seed"}, log=lines.append,
                         progress=False)
    assert "options kept from the checkpoint: --epochs 3, --lr 0.01" in lines
    assert [h["epoch"] for h in result.epoch_log] == [1, 2, 3]


def test_a_checkpoint_of_other_data_is_refused(tiny_processed, other_processed, tmp_path):
    train_model("mf", load_processed(tiny_processed), tmp_path, CFG, on_epoch=lambda e, _r: True, **QUIET)
    with pytest.raises(InputError, match=r"checkpoint\.pt: made on other data \(fingerprint [0-9a-f]{16}; "):
        train_model("mf", load_processed(other_processed), tmp_path, CFG, resume=True, **QUIET)


def test_ratings_per_second_counts_this_session_only(tiny_processed, tmp_path):
    data = load_processed(tiny_processed)
    train_model("mf", data, tmp_path, CFG, on_epoch=lambda epoch, _r: epoch == 1, **QUIET)
    resumed = train_model("mf", data, tmp_path, CFG, resume=True, **QUIET)
    # Epochs 2 and 3 ran in this session: 2 x the training ratings, not 3 x.
    assert resumed.ratings_per_second * resumed.train_seconds == pytest.approx(2 * len(data.train), rel=1e-9)


def cli_train(*args: str):
    return CliRunner().invoke(main, ["train", "--model", "mf", "--quiet", *args])


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.mark.parametrize("content", [b"", b"\x00" * 100, b"PK\x03\x04 truncated zip", "random"])
def test_unreadable_checkpoints_are_one_line(tiny_processed, tmp_path, content):
    out = tmp_path / "out"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(bytes(range(256)) * 20 if content == "random" else content)
    line = one_error_line(cli_train("--data-dir", str(tiny_processed), "--output-dir", str(out), "--resume"))
    assert line.startswith(f"error: {out / 'checkpoint.pt'}: not a readable checkpoint written by `anime-gnn train`")
    assert "weights_only" not in line


def test_a_checkpoint_of_the_older_trainer_is_refused_in_one_line(tiny_processed, tmp_path):
    """It stored the epoch records under 'history' (the name the rating lists keep)."""
    data = load_processed(tiny_processed)
    train_model("mf", data, tmp_path, CFG, on_epoch=lambda e, _r: True, **QUIET)
    ckpt = tmp_path / "checkpoint.pt"
    state = torch.load(ckpt, weights_only=True)
    state["history"] = state.pop("epoch_log")
    torch.save(state, ckpt)
    with pytest.raises(InputError) as info:
        train_model("mf", data, tmp_path, CFG, resume=True, **QUIET)
    assert str(info.value) == (f"{ckpt}: written by an older anime-gnn (its epoch records are under 'history', "
                               "now 'epoch_log'); train without --resume to start over")


def test_a_truncated_real_checkpoint_is_one_line(tiny_processed, tmp_path):
    args = ["--data-dir", str(tiny_processed), "--output-dir", str(tmp_path), "--epochs", "2", "--batch-size", "64"]
    assert cli_train(*args).exit_code == 0
    ckpt = tmp_path / "checkpoint.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:2000])
    assert "not a readable checkpoint" in one_error_line(cli_train(*args, "--resume"))


def test_cli_resume_keeps_left_out_options_and_refuses_changed_ones(tiny_processed, tmp_path):
    args = ["--data-dir", str(tiny_processed), "--output-dir", str(tmp_path)]
    assert cli_train(*args, "--epochs", "1", "--batch-size", "64", "--lr", "0.02").exit_code == 0
    changed = one_error_line(cli_train(*args, "--resume", "--epochs", "3", "--lr", "0.02"))
    assert "was made with other options (--epochs 1 -> 3)" in changed
    kept = cli_train(*args, "--resume")
    assert kept.exit_code == 0, kept.output
    assert "options kept from the checkpoint: --epochs 1, --batch-size 64, --lr 0.02" in kept.stdout
    assert "resumed from" in kept.stdout


def test_output_folder_that_cannot_be_written_fails_before_training(tiny_processed, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    result = cli_train("--data-dir", str(tiny_processed), "--output-dir", str(blocker / "out"))
    assert one_error_line(result) == f"error: --output-dir {blocker / 'out'}: {blocker} is a file, not a folder"
    assert "epoch" not in result.stdout


def test_empty_new_user_evaluation_writes_null_not_nan(tmp_path):
    write_tiny_inputs(tmp_path / "raw")
    preprocess(tmp_path / "raw", tmp_path / "processed", PreprocessConfig(min_ratings=1, holdout_user_frac=0.0))
    result = cli_train("--data-dir", str(tmp_path / "processed"), "--output-dir", str(tmp_path / "model"),
                       "--epochs", "1")
    assert result.exit_code == 0, result.output
    assert "new users (k=5 given, 0 users): MAE n/a RMSE n/a" in result.stdout
    meta = strict_json(tmp_path / "model" / "model_metadata.json")
    assert meta["metrics"]["new_users"]["k=5"] == {"mae": None, "rmse": None, "n": 0, "users": 0}


def test_a_checkpoint_of_another_number_of_processes_is_refused(tiny_processed, tmp_path):
    """A 2-process checkpoint resumed by 1 process used to fail an epoch later (OneCycle: 'Tried to step 73
    times. The specified number of total steps is 72'); it is refused before training, in one line."""
    data = load_processed(tiny_processed)
    train_model("mf", data, tmp_path, CFG, on_epoch=lambda e, _r: True, **QUIET)
    ckpt = tmp_path / "checkpoint.pt"
    state = torch.load(ckpt, weights_only=True)
    assert state["world_size"] == 1
    state["world_size"] = 2
    torch.save(state, ckpt)
    with pytest.raises(UsageError) as info:
        train_model("mf", data, tmp_path, CFG, resume=True, **QUIET)
    assert str(info.value).startswith(f"--resume: {ckpt} was written by a run of 2 process(es), this run has 1: ")
    assert "torchrun --nproc_per_node=2" in str(info.value) and "\n" not in str(info.value)
