"""Options shared by the scripts that read finished trainings, runs and exports."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from benchmarks.run_args import finished_run_parser, named_run, parse_trained_runs, trained_runs_parser


def test_trained_runs_options_and_a_folder_without_a_model(tmp_path, capsys):
    good = tmp_path / "a"
    good.mkdir()
    (good / "best_model.pt").write_bytes(b"")
    parser = trained_runs_parser("d", "processed folder")
    args = parse_trained_runs(parser, ["--data-dir", "p", "--run", f"x={good}", "--run", f"y={good}", "--out", "o.json"])
    assert args.runs == [("x", good), ("y", good)] and str(args.data_dir) == "p" and str(args.out) == "o.json"
    with pytest.raises(SystemExit):
        parse_trained_runs(parser, ["--data-dir", "p", "--run", f"x={good}", "--run", f"z={tmp_path / 'b'}"])
    assert capsys.readouterr().err.splitlines()[-1].endswith(f"{tmp_path / 'b'} has no best_model.pt (an anime-gnn train --output-dir folder)")
    with pytest.raises(SystemExit):
        parse_trained_runs(parser, ["--data-dir", "p", "--run", "no-equals-sign"])


def test_named_run_splits_at_the_first_equals_sign():
    assert named_run("full=/tmp/a=b") == ("full", Path("/tmp/a=b"))
    for bad in ("nodir=", "=dir", "plain"):
        with pytest.raises(argparse.ArgumentTypeError, match="expected NAME=DIR"):
            named_run(bad)


def test_finished_run_parser_defaults_to_the_neural_models():
    args = finished_run_parser("d").parse_args(["--results", "r"])
    assert args.models == ["baseline", "gnn"] and str(args.results) == "r"
