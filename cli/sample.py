"""``anime-gnn generate-sample``: write the seeded synthetic sample (the demo's default input)."""

from __future__ import annotations

import sys

import click

from cli.common import friendly_errors
from gnn.errors import UsageError


@click.command("generate-sample")
@click.option("--out-dir", type=click.Path(file_okay=False), default="data/sample", show_default=True,
              help="Directory to write anime_catalog.json, ratings.csv and README.md into.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Random seed; the same seed and sizes always give byte-identical files.")
@click.option("--n-anime", type=click.IntRange(min=1), default=None,
              help="Number of anime in the catalog (default 1500).")
@click.option("--n-users", type=click.IntRange(min=1), default=None,
              help="Number of users before --scale (default 1200).")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Multiply the number of users (and so ratings) for benchmarks, e.g. 2, 4, 8; "
                   "the catalog stays the same.")
@friendly_errors
def generate_sample(out_dir: str, seed: int, n_anime: int | None, n_users: int | None, scale: float) -> None:
    """Write a SYNTHETIC sample (invented anime, simulated users) in the input-contract shape."""
    # Imported here so that `anime-gnn --help` stays fast.
    from gnn.data.synthetic import SampleConfig, write_sample

    sizes = {k: v for k, v in (("n_anime", n_anime), ("n_users", n_users)) if v is not None}
    try:
        config = SampleConfig(seed=seed, scale=scale, **sizes)
    except ValueError as err:
        raise UsageError(str(err)) from None
    summary = write_sample(out_dir, config, progress=sys.stderr.isatty())
    relations = ", ".join(f"{k} {v:,}" for k, v in sorted(summary.relations.items(), key=lambda kv: -kv[1]))
    click.echo(
        f"Wrote a SYNTHETIC sample to {summary.out_dir}: {summary.n_anime:,} invented anime and "
        f"{summary.n_ratings:,} ratings (1-10) from {summary.n_users:,} simulated users "
        f"(seed {seed}, scale {scale:g}); relations: {relations or 'none'}. "
        "It is not real data; see README.md there.")
