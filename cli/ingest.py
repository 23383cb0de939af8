"""``fetch-catalog``, ``fetch-ratings`` and ``import mal``: real data -> the input contract.

Thin wrappers: the work is in :mod:`gnn.ingest`; these only parse options,
print the counts, and let :func:`cli.common.friendly_errors` turn expected
failures (bad file, bad response, exhausted retries) into one line, exit code 2.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from cli.common import friendly_errors
from gnn.errors import UsageError
from gnn.ingest.graphql import ANILIST_ENDPOINT, GraphQLClient, RetryPolicy, default_checkpoint
from gnn.io import ensure_writable_dir

_SOURCE = click.option("--source", type=click.Choice(["anilist"]), default="anilist", show_default=True,
                       help="Where to fetch from (only AniList's public GraphQL API for now).")
_ENDPOINT = click.option("--endpoint", default=ANILIST_ENDPOINT, show_default=True,
                         help="GraphQL endpoint URL (tests point this at a local fake server).")
_RETRIES = click.option("--max-retries", type=click.IntRange(min=0), default=5, show_default=True,
                        help="Retries per request after HTTP 429/5xx or a connection error.")
_INTERVAL = click.option("--min-interval", type=click.FloatRange(min=0), default=2.5, show_default=True,
                         help="Seconds between requests (AniList serves about 30 requests a minute; "
                              "the default, 24 a minute, keeps headroom).")
_IN_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_PROGRESS = click.option("--progress/--no-progress", default=True, show_default=True,
                         help="Show a progress bar on stderr.")


def _fetch_options(command):
    """The options both fetch commands share: checkpoint, endpoint, retries, pacing, progress."""
    for option in reversed([
        click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Progress file for resuming; default: OUT's name with .checkpoint.json."),
        _ENDPOINT, _RETRIES, _INTERVAL, _PROGRESS]):
        command = option(command)
    return command


def _client(endpoint: str, max_retries: int, min_interval: float) -> GraphQLClient:
    return GraphQLClient(endpoint, RetryPolicy(max_retries=max_retries, min_interval=min_interval))


def _writable(*files: Path) -> None:
    """The folders of the output and checkpoint files, checked writable before the first request."""
    for f in files:
        if f.is_dir():
            raise UsageError(f"{f}: is a folder; give a file name")
        ensure_writable_dir(f.parent, f"folder of {f.name}")


def _echo_counts(counts: Counter[str]) -> None:
    for key in sorted(counts):
        click.echo(f"  {key}: {counts[key]}")


@click.command("fetch-catalog")
@_SOURCE
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("data/anime_catalog.json"), show_default=True,
              help="Catalog file to write (the input contract's anime_catalog.json).")
@click.option("--max-anime", type=click.IntRange(min=1), default=None,
              help="Stop after this many anime (most popular first). Default: all.")
@click.option("--pages", type=click.IntRange(min=1), default=None,
              help="Stop after this many pages in total (resumed pages included). Default: all.")
@click.option("--per-page", type=click.IntRange(1, 50), default=50, show_default=True,
              help="Anime per request (AniList allows at most 50).")
@_fetch_options
@friendly_errors
def fetch_catalog(source: str, out: Path, max_anime: int | None, pages: int | None, per_page: int,
                  checkpoint: Path | None, endpoint: str, max_retries: int, min_interval: float,
                  progress: bool) -> None:
    """Fetch the anime catalog (most popular first) into anime_catalog.json.

    Interrupted? Rerun the same command: it resumes from the checkpoint.
    """
    from gnn.ingest.anilist import fetch_catalog as fetch

    checkpoint = checkpoint or default_checkpoint(out)
    _writable(out, checkpoint)
    client = _client(endpoint, max_retries, min_interval)
    counts = fetch(client, out, checkpoint, max_anime=max_anime, pages=pages,
                   per_page=per_page, progress=progress)
    click.echo(f"wrote {counts['anime']} anime to {out} ({client.requests} requests to {source})")
    _echo_counts(counts)


@click.command("fetch-ratings")
@_SOURCE
@click.option("--users", type=click.IntRange(min=0), default=0, show_default=True,
              help="Discover this many users with public, scored anime lists (most active first; "
                   "AniList lists at most 5,000, so discovery stops there).")
@click.option("--user", "names", multiple=True, metavar="NAME",
              help="Also fetch this user's public list (repeatable). Names never reach the output.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("data/ratings.csv"), show_default=True,
              help="Ratings file to write (user_id,anime_id,rating).")
@click.option("--catalog", type=_IN_FILE, default=None,
              help="Keep only anime in this anime_catalog.json (drops are counted).")
@_fetch_options
@friendly_errors
def fetch_ratings(source: str, users: int, names: tuple[str, ...], out: Path, catalog: Path | None,
                  checkpoint: Path | None, endpoint: str, max_retries: int, min_interval: float,
                  progress: bool) -> None:
    """Fetch users' public anime scores into ratings.csv (scores converted to 1-10).

    Users get opaque ids (u000001...). Interrupted? Rerun the same command to resume.
    """
    from gnn.ingest.anilist_ratings import fetch_ratings as fetch

    if not users and not names:
        raise UsageError("nothing to fetch: give --users N and/or --user NAME")
    catalog_ids = None
    if catalog is not None:
        from gnn.data.catalog import read_catalog

        catalog_ids = {a.id for a in read_catalog(catalog).anime}
    checkpoint = checkpoint or default_checkpoint(out)
    _writable(out, checkpoint)
    client = _client(endpoint, max_retries, min_interval)
    counts = fetch(client, out, checkpoint, users=users, names=names,
                   catalog_ids=catalog_ids, progress=progress)
    click.echo(f"wrote {counts['ratings']} ratings of {counts['users']} users to {out} "
               f"({client.requests} requests to {source})")
    _echo_counts(counts)


@click.group("import")
def import_group() -> None:
    """Convert downloaded datasets to the input contract."""


@import_group.command("mal")
@click.option("--anime", "anime_csv", required=True, type=_IN_FILE,
              help="Kaggle MyAnimeList anime.csv (2017 or 2020 layout, detected from the header).")
@click.option("--ratings", "ratings_csv", type=_IN_FILE, default=None,
              help="rating.csv (2017) or rating_complete.csv / animelist.csv (2020).")
@click.option("--animelist", "animelist_csv", type=_IN_FILE, default=None,
              help="2020 animelist.csv (every list status; rating 0 = unscored), "
                   "instead of --ratings.")
@click.option("--out-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for anime_catalog.json and ratings.csv.")
@friendly_errors
def import_mal(anime_csv: Path, ratings_csv: Path | None, animelist_csv: Path | None,
               out_dir: Path) -> None:
    """Convert the Kaggle MyAnimeList CSVs to anime_catalog.json + ratings.csv."""
    from gnn.ingest.mal_import import detect_ratings_layout, import_mal as convert

    if (ratings_csv is None) == (animelist_csv is None):
        raise UsageError("give exactly one of --ratings and --animelist")
    if animelist_csv is not None and detect_ratings_layout(animelist_csv) != "animelist":
        raise UsageError(f"{animelist_csv} has no watching_status column: pass it with --ratings")
    ensure_writable_dir(out_dir, "--out-dir")
    counts = convert(anime_csv, ratings_csv or animelist_csv, out_dir)  # type: ignore[arg-type]
    click.echo(f"wrote {counts['anime']} anime and {counts['ratings']} ratings of "
               f"{counts['users']} users to {out_dir}")
    _echo_counts(counts)
