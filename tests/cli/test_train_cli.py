"""``anime-gnn train``: a mistake in --model / --model-option is one ``error:`` line and exit 2; a bug is not."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import main
from tests.cli.test_hostile_inputs import one_error_line


@pytest.fixture
def processed(tiny_processed) -> Path:
    return tiny_processed


def train(processed: Path, out: Path, *args: str):
    return CliRunner().invoke(main, ["train", "--data-dir", str(processed), "--output-dir", str(out), "--quiet",
                                     *args])


@pytest.mark.parametrize("args, message", [
    (["--model", "global_mean", "--model-option", "x=1"], "unknown option(s) for model 'global_mean': x; it has none"),
    (["--model", "ease", "--model-option", "alpha=1", "--model-option", "reg=3"],
     "unknown option(s) for model 'ease': alpha; it has reg"),
    (["--model", "ease", "--model-option", "reg=-1"], "model 'ease': ease reg must be a positive number, got -1"),
])
def test_a_bad_model_option_is_one_line(processed, tmp_path, args, message):
    result = train(processed, tmp_path / "o", *args)
    assert one_error_line(result) == f"error: {message}"
    assert not (tmp_path / "o" / "best_model.pt").exists()


def test_an_unknown_model_is_refused_with_the_registered_choices(processed, tmp_path):
    result = train(processed, tmp_path / "o", "--model", "gnnn")
    assert result.exit_code == 2 and "Invalid value for '--model': 'gnnn' is not one of 'global_mean'" in result.output


def test_the_model_option_works(processed, tmp_path):
    result = train(processed, tmp_path / "o", "--model", "ease", "--model-option", "reg=3")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "best_model.pt").exists()


def test_an_internal_key_error_is_a_bug_with_its_traceback(processed, tmp_path, monkeypatch):
    """The old ``except KeyError`` around training printed any KeyError as a usage error."""
    import gnn.train.trainer

    def broken(*_args, **_kwargs):
        return {}["metrics"]

    monkeypatch.setattr(gnn.train.trainer, "train_model", broken)
    result = train(processed, tmp_path / "o", "--model", "global_mean")
    assert result.exit_code == 1 and isinstance(result.exception, KeyError)
    assert "error:" not in result.stderr


def test_a_processed_folder_of_the_older_preprocess_is_one_line(processed, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(processed, old)
    (old / "data_stats.json").rename(old / "model_config.json")
    result = train(old, tmp_path / "o", "--model", "global_mean")
    assert one_error_line(result) == (f"error: {old}: written by an older anime-gnn (model_config.json, now "
                                      "data_stats.json); rerun `anime-gnn preprocess` to make it again")


def test_steps_per_epoch_reaches_the_trainer_and_a_negative_one_is_refused(processed, tmp_path):
    result = train(processed, tmp_path / "a", "--model", "mf", "--epochs", "1", "--steps-per-epoch", "2",
                   "--batch-size", "16")
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "a" / "model_metadata.json").read_text())
    assert meta["train_config"]["steps_per_epoch"] == 2
    bad = train(processed, tmp_path / "b", "--steps-per-epoch", "-1")
    assert bad.exit_code == 2 and "--steps-per-epoch" in bad.output
