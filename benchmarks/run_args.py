"""Command-line options shared by the benchmark scripts that read finished work: training output
folders (``--run NAME=DIR``), a compare.py run (``--results``) or an export (``--export``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gnn.models.registry import model_names  # the model table only: no torch


def named_run(text: str) -> tuple[str, Path]:
    """``NAME=DIR`` (an argparse type for the scripts' ``--run``): the name and the training output folder."""
    name, sep, folder = text.partition("=")
    if not sep or not name or not folder:
        raise argparse.ArgumentTypeError(f"expected NAME=DIR, got {text!r}")
    return name, Path(folder)


def trained_runs_parser(description: str, data_help: str) -> argparse.ArgumentParser:
    """Options of the scripts that evaluate training output folders: ``--data-dir`` (``data_help``), ``--run
    NAME=DIR`` (repeatable, as ``args.runs``) and ``--out``; read them with :func:`parse_trained_runs`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-dir", required=True, type=Path, help=data_help)
    parser.add_argument("--run", dest="runs", action="append", type=named_run, required=True, metavar="NAME=DIR",
                        help="an `anime-gnn train --output-dir` folder (its best_model.pt), repeatable")
    parser.add_argument("--out", type=Path, help="also write the numbers here as JSON")
    return parser


def export_users_parser(description: str, top: int) -> argparse.ArgumentParser:
    """Options of the scripts that give held-out users' first ratings to an export, as the page would:
    ``--export``, ``--data-dir`` (what it was trained on), ``--given`` and ``--top`` (rows counted)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--export", required=True, type=Path, help="an `anime-gnn export` folder")
    parser.add_argument("--data-dir", required=True, type=Path, help="the processed folder it was trained on")
    parser.add_argument("--given", type=int, default=10, help="ratings given per held-out user")
    parser.add_argument("--top", type=int, default=top, help="rows of each list counted")
    return parser


def parse_trained_runs(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """``parser.parse_args(argv)``; a ``--run`` folder without a best_model.pt is a one-line usage error."""
    args = parser.parse_args(argv)
    for _, folder in args.runs:
        if not (folder / "best_model.pt").is_file():
            parser.error(f"{folder} has no best_model.pt (an anime-gnn train --output-dir folder)")
    return args


def finished_run_parser(description: str) -> argparse.ArgumentParser:
    """Options of the scripts that read a finished compare.py run (its data and seed-0 checkpoints)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--results", required=True, type=Path, help="a compare.py --out folder")
    parser.add_argument("--models", nargs="+", default=list(model_names("neural")), choices=model_names(),
                        help="models with a run of seed 0")
    return parser
