"""``anime-gnn preprocess``."""

from __future__ import annotations

import click
from tqdm import tqdm

from cli.common import friendly_errors
from gnn.io import ensure_writable_dir

STEPS = 6


@click.command()
@click.option("--input-dir", default="data", show_default=True, type=click.Path(file_okay=False),
              help="Folder with anime_catalog.json and ratings.csv (or user_ratings.json).")
@click.option("--output-dir", default="data/processed", show_default=True, type=click.Path(file_okay=False),
              help="Where the splits, graph, mappings and report are written.")
@click.option("--min-ratings", default=10, show_default=True, type=click.IntRange(min=1),
              help="Train on users and anime with at least this many ratings (repeated until stable); "
                   "every catalog anime stays in the graph and is scored all the same.")
@click.option("--val-frac", default=0.1, show_default=True, type=click.FloatRange(0, 1, max_open=True),
              help="Share of each user's ratings for validation.")
@click.option("--test-frac", default=0.1, show_default=True, type=click.FloatRange(0, 1, max_open=True),
              help="Share of each user's ratings for test.")
@click.option("--holdout-users", default=0.05, show_default=True, type=click.FloatRange(0, 1, max_open=True),
              help="Share of users kept out of training entirely, for the new-user evaluation.")
@click.option("--cold-anime", default=0.0, show_default=True, type=click.FloatRange(0, 1, max_open=True),
              help="Share of rated anime held out entirely (all their ratings form the cold split, the "
                   "cold-item test); 0 for a model you deploy.")
@click.option("--cold-after", "cold_after", default=None, type=int, metavar="YEAR",
              help="Also hold out every rated anime that came out after YEAR (the new-season test: anime "
                   "newer than all the model trained on); not for a model you deploy.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the splits.")
@click.option("--scale", default="1-10", show_default=True, metavar="LOW-HIGH",
              help="Declared rating scale; ratings outside it are dropped and counted.")
@friendly_errors
def preprocess(input_dir: str, output_dir: str, min_ratings: int, val_frac: float, test_frac: float,
               holdout_users: float, cold_anime: float, cold_after: int | None, seed: int, scale: str) -> None:
    """Turn a catalog and ratings into indexed splits, the catalog graph and a report."""
    from gnn.data.ratings import RatingScale  # torch/pandas load only when the command runs
    from gnn.preprocess import PreprocessConfig, preprocess as run_preprocess

    try:
        low, high = (float(x) for x in scale.split("-"))
        rating_scale = RatingScale(low, high)
    except ValueError as err:
        detail = str(err) if "scale" in str(err) else f"got {scale!r}"
        raise click.BadParameter(f"expected LOW-HIGH like 1-10 ({detail})", param_hint="'--scale'") from None
    try:
        config = PreprocessConfig(min_ratings=min_ratings, val_frac=val_frac, test_frac=test_frac,
                                  seed=seed, holdout_user_frac=holdout_users, scale=rating_scale,
                                  cold_anime_frac=cold_anime, cold_after_year=cold_after)
    except ValueError as err:
        hint = ("'--holdout-users'" if "holdout" in str(err) else "'--cold-anime'" if "cold" in str(err)
                else "'--val-frac' / '--test-frac'")
        raise click.BadParameter(str(err), param_hint=hint) from None
    ensure_writable_dir(output_dir, "--output-dir")
    with tqdm(total=STEPS, desc="preprocess", unit="step", leave=False) as bar:
        def progress(label: str) -> None:
            bar.set_postfix_str(label)
            bar.update(1)

        result = run_preprocess(input_dir, output_dir, config, progress=progress)
    r = result.report
    click.echo(f"Wrote {result.output_dir}/ (see preprocess_report.json)")
    for name in ("anime", "ratings", "relations"):
        part = r[name]
        dropped = ", ".join(f"{k} {v:,}" for k, v in part["dropped"].items()) or "none"
        click.echo(f"  {name:9s} {part['total']:>9,} read  {part['kept']:>9,} kept  dropped: {dropped}")
    for name in ("anime", "relations"):
        notes = r[name].get("notes", {})
        if notes:
            click.echo(f"  {name} notes: " + ", ".join(f"{k} {v:,}" for k, v in notes.items()))
    s = r["splits"]
    click.echo(f"  splits    train {s['train']:,}  val {s['val']:,}  test {s['test']:,}  "
               f"holdout {s['holdout']:,} ({r['users']['holdout_users']:,} users); "
               f"{r['users']['train_users']:,} training users"
               + (f"; cold {s['cold']:,} ratings of {r['cold_anime']:,} held-out anime" if r.get("cold_anime") else ""))
