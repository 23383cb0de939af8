"""``anime-gnn export`` and ``anime-gnn rollback``: verified, versioned ONNX deployments."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any, Callable

import click

from cli.common import friendly_errors

DEFAULT_OUTPUT = "public/model/anime_recommender"


def _export_failures(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A failed parity check is one line and exit code 1 (the inputs were fine; the export was not)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from gnn.export import ExportError

        try:
            return fn(*args, **kwargs)
        except ExportError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(1)

    return wrapper


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


@click.command()
@click.option("--model-dir", default="data/model/pytorch", show_default=True, type=click.Path(),
              help="Training output folder holding best_model.pt (or the .pt file itself).")
@click.option("--output-dir", default=DEFAULT_OUTPUT, show_default=True, type=click.Path(file_okay=False),
              help="Export folder; replaced atomically, the previous one kept as a version next to it.")
@click.option("--data-dir", default=None, type=click.Path(file_okay=False),
              help="Preprocess output the model was trained on (titles, id maps) "
                   "[default: the data_dir recorded in model_metadata.json].")
@click.option("--max-history", default=64, show_default=True, type=click.IntRange(min=1),
              help="baseline: history length H of the ONNX input (longer histories keep their last H "
                   "entries). gnn: ignored; its history input has a free length, up to the model's score_history.")
@click.option("--fp16-tables", is_flag=True,
              help="Store the big constant tables in float16 (about half the size; parity tolerance 1e-2).")
@click.option("--user-table", default="auto", show_default=True, type=click.Choice(["auto", "keep", "drop"]),
              help="Known users' ID embeddings: keep (for --user-id), drop (new users only, smaller), "
                   "auto = keep unless model.onnx would exceed 10 MB.")
@click.option("--exporter", default="dynamo", show_default=True, type=click.Choice(["dynamo", "torchscript"]),
              help="torch.onnx exporter (dynamo falls back to torchscript if it fails, and says so).")
@click.option("--keep-versions", default=3, show_default=True, type=click.IntRange(min=0),
              help="Earlier exports kept for rollback (0 = keep all).")
@friendly_errors
@_export_failures
def export(model_dir: str, output_dir: str, data_dir: str | None, max_history: int, fp16_tables: bool,
           user_table: str, exporter: str, keep_versions: int) -> None:
    """Export a trained model to ONNX (precomputed item tables), check parity, deploy atomically."""
    from gnn.export.onnx_export import export_model
    from gnn.io import ensure_writable_dir

    # The build happens in a staging folder next to the output, then replaces it: both must be writable.
    ensure_writable_dir(Path(output_dir).parent, "--output-dir's parent folder")
    if Path(output_dir).is_dir():
        ensure_writable_dir(output_dir, "--output-dir")
    r = export_model(model_dir, output_dir, max_history=max_history, fp16_tables=fp16_tables,
                     user_table=user_table, data_dir=data_dir, exporter=exporter, keep_versions=keep_versions,
                     log=lambda msg: click.echo(msg, err=True))
    click.echo(f"exported {r.output_dir}/ version {r.version}")
    click.echo(f"  model.onnx {_mb(r.model_bytes)} (all files {_mb(r.total_bytes)}), tables {r.table_dtype}, "
               f"user table {'kept' if r.user_table else 'left out'}, exporter {r.exporter}")
    click.echo(f"  parity vs PyTorch: {r.parity.summary()}")
    if r.previous_version:
        click.echo(f"  previous export kept as version {r.previous_version} (anime-gnn rollback restores it)")


@click.command()
@click.option("--output-dir", default=DEFAULT_OUTPUT, show_default=True, type=click.Path(file_okay=False),
              help="Export folder to restore the previous version of.")
@friendly_errors
def rollback(output_dir: str) -> None:
    """Put the previous export back in place (the current one is kept among the versions)."""
    from gnn.export.deploy import rollback as do_rollback

    restored, replaced = do_rollback(output_dir)
    click.echo(f"restored version {restored} in {output_dir}/"
               + (f" (replaced {replaced}, still kept)" if replaced else ""))
