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
              help="Number of anime in the catalog (default 1500; the real MyAnimeList scale is 17,000-28,000).")
@click.option("--n-users", type=click.IntRange(min=1), default=None,
              help="Number of users before --scale (default 1200).")
@click.option("--n-ratings", type=click.IntRange(min=1), default=None,
              help="About this many ratings (at --scale 1): sets --n-users from the expected ratings per user. "
                   "Written in chunks of users, so any size fits in memory.")
@click.option("--ratings-median", type=click.FloatRange(min=1), default=None,
              help="Median ratings per user (default 42; about 140 gives MyAnimeList's ~190 per user on average).")
@click.option("--ratings-max", type=click.IntRange(min=1), default=None,
              help="Most ratings one user gives (default 400).")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Multiply the number of users (and so ratings) for benchmarks, e.g. 2, 4, 8; "
                   "the catalog stays the same.")
@friendly_errors
def generate_sample(out_dir: str, seed: int, n_anime: int | None, n_users: int | None, n_ratings: int | None,
                    ratings_median: float | None, ratings_max: int | None, scale: float) -> None:
    """Write a SYNTHETIC sample (invented anime, simulated users) in the input-contract shape."""
    # Imported here so that `anime-gnn --help` stays fast.
    from gnn.data.synthetic import SampleConfig, users_for_ratings, write_sample

    if n_ratings is not None and n_users is not None:
        raise UsageError("give --n-users or --n-ratings, not both")
    sizes = {k: v for k, v in (("n_anime", n_anime), ("n_users", n_users), ("ratings_median", ratings_median),
                               ("ratings_max", ratings_max)) if v is not None}
    try:
        config = SampleConfig(seed=seed, scale=scale, **sizes)
        if n_ratings is not None:
            config = SampleConfig(seed=seed, scale=scale, n_users=users_for_ratings(n_ratings, config), **sizes)
    except ValueError as err:
        raise UsageError(str(err)) from None
    summary = write_sample(out_dir, config, progress=sys.stderr.isatty())
    relations = ", ".join(f"{k} {v:,}" for k, v in sorted(summary.relations.items(), key=lambda kv: -kv[1]))
    click.echo(
        f"Wrote a SYNTHETIC sample to {summary.out_dir}: {summary.n_anime:,} invented anime and "
        f"{summary.n_ratings:,} ratings (1-10) from {summary.n_users:,} simulated users "
        f"(seed {seed}, scale {scale:g}); relations: {relations or 'none'}. "
        "It is not real data; see README.md there.")
