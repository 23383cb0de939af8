"""``anime-gnn recommend``: top-k anime from an ONNX export, for a known user or a list of ratings."""

from __future__ import annotations

import csv
from pathlib import Path

import click

from cli.common import clip, echo, friendly_errors
from cli.export import DEFAULT_OUTPUT
from gnn.errors import InputError, UsageError
from gnn.io import dumps_json

STATUSES = ("FINISHED", "RELEASING", "NOT_YET_RELEASED")  # the input contract's airing statuses


def parse_ratings(text: str) -> list[tuple[str, float]]:
    """``"16498:9,5114:10"`` -> ``[("16498", 9.0), ("5114", 10.0)]``; one error naming every bad item."""
    pairs, bad = [], []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        anime_id, sep, rating = item.partition(":")
        try:
            if not sep or not anime_id.strip():
                raise ValueError
            pairs.append((anime_id.strip(), float(rating)))
        except ValueError:
            bad.append(repr(item))
    if bad:
        raise UsageError(f"--ratings expects ANIME_ID:RATING pairs separated by commas "
                         f"(e.g. 16498:9,5114:10); bad item(s): {', '.join(bad)}")
    return pairs


def repeated_note(history: list[tuple[str, float]], shown: int = 5) -> str:
    """One line naming the anime given more than once (the last rating of each is the one used), else ``""``."""
    given: dict[str, list[float]] = {}
    for anime_id, rating in history:
        given.setdefault(anime_id, []).append(rating)
    repeated = [(a, rs) for a, rs in given.items() if len(rs) > 1]
    if not repeated:
        return ""
    named = ", ".join(f"{a} ({', '.join(f'{r:g}' for r in rs)})" for a, rs in repeated[:shown])
    more = f" and {len(repeated) - shown} more" if len(repeated) > shown else ""
    return (f"note: {len(repeated)} anime given more than once, the last rating of each is used: "
            f"{named}{more}")


def _short(value: str, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def read_ratings_file(path: str) -> list[tuple[str, float]]:
    """A CSV of ``anime_id,rating`` rows (a header line is optional; a UTF-8 BOM is skipped)."""
    pairs = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            for line, row in enumerate(csv.reader(f), start=1):
                if not row or not "".join(row).strip():
                    continue
                if line == 1 and row[0].strip().lower() == "anime_id":
                    continue
                if len(row) < 2:
                    raise InputError(path, "expected two columns anime_id,rating", record=line)
                try:
                    pairs.append((row[0].strip(), float(row[1])))
                except ValueError:
                    raise InputError(path, f"rating {_short(row[1])} is not a number", record=line,
                                     field="rating") from None
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    except csv.Error as err:  # e.g. a field over the csv module's 128 KB limit
        raise InputError(path, f"not a readable CSV ({err})") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a file") from None
    return pairs


def _table(rows: list[dict], shown_others: int = 3) -> str:
    """One line per card; a card's other entries of the same series on an indented line below it."""
    width = min(48, max([len("title")] + [len(str(r["title"])) for r in rows]))
    lines = [f"{'rank':>4}  {'title':<{width}}  {'rating':>6}  reason"]
    for r in rows:
        planned = " (on your plan-to-watch list)" if r.get("planned") else ""
        lines.append(f"{r['rank']:>4}  {clip(r['title'], width):<{width}}  {r['predicted_rating']:>6.2f}  "
                     f"{r['reason']}{planned}")
        others = r.get("other_entries") or []
        if others:
            named = ", ".join(f"{clip(o['title'], 40)} ({o['predicted_rating']:.1f})" for o in others[:shown_others])
            more = f" and {len(others) - shown_others} more" if len(others) > shown_others else ""
            lines.append(f"{'':>4}  also in this series: {named}{more}")
    return "\n".join(lines)


def _continue_hint(next_rows: list[dict], shown: int = 3) -> str:
    """One line naming the series the user started whose next entry the list above does not show
    (``next_rows``: ``recommend_with_next``'s), else ``""``."""
    if not next_rows:
        return ""
    named = ", ".join(clip(r["title"], 40) for r in next_rows[:shown])
    more = f" and {len(next_rows) - shown} more" if len(next_rows) > shown else ""
    return f"\nnext in series you started: {named}{more} (--continue lists them)"


def _list_history(path: str, model, report_to_stderr: bool) -> tuple[list, list, list]:
    """``(history, seen, planned)`` of catalog ids from a list export; prints the counts report."""
    from gnn.listimport import ListFormatError, parse_list
    from gnn.mylist import report_lines, resolve_list

    if not Path(path).exists():
        raise UsageError(f"--list-file {path}: no such file")
    try:
        parsed = parse_list(Path(path).read_bytes())
    except ListFormatError as err:
        raise InputError(path, str(err)) from None
    except OSError as err:
        raise InputError(path, f"could not be read ({err.strerror or err})") from None
    imported = resolve_list(parsed, model.display, model.low, model.high)
    for line in report_lines(imported):
        echo(line, err=report_to_stderr)
    ids = model.anime_ids
    return ([(ids[a], r) for a, r in imported.ratings], [ids[a] for a in imported.seen],
            [ids[a] for a in imported.planned])


def _check_options(users: dict[str, str | None], continue_series: bool, no_group: bool, include_rated: bool,
                   year_min: int | None, year_max: int | None) -> None:
    """A one-line UsageError for options that do not go together (``users``: option -> value)."""
    given = [name for name, v in users.items() if v is not None]
    if len(given) > 1:
        raise UsageError(f"give one of --user-id, --ratings, --ratings-file, --list-file (got {' and '.join(given)})")
    if not given:
        raise UsageError("give --user-id for a known user, or --ratings / --ratings-file / --list-file for a new user")
    if continue_series and (no_group or include_rated):
        raise UsageError(f"--continue lists unrated next entries, one per franchise: it does not go with "
                         f"{'--no-group' if no_group else '--include-rated'}")
    if year_min is not None and year_max is not None and year_min > year_max:
        raise UsageError(f"--year-min {year_min} is after --year-max {year_max}")


def _given_history(ratings: str | None, ratings_file: str | None) -> list[tuple[str, float]] | None:
    """The history --ratings or --ratings-file gives (None: neither was given), with a note on stderr when
    it is empty or rates an anime twice."""
    history = None
    if ratings is not None:
        history = parse_ratings(ratings)
    elif ratings_file is not None:
        if not Path(ratings_file).exists():
            raise UsageError(f"--ratings-file {ratings_file}: no such file")
        history = read_ratings_file(ratings_file)
    if history is not None and not history:
        source = "--ratings" if ratings is not None else f"--ratings-file {ratings_file}"
        echo(f"note: {source} gave no ratings: the list is for someone who has rated nothing yet", err=True)
    if history and (note := repeated_note(history)):
        echo(note, err=True)
    return history


@click.command()
@click.option("--model-dir", default=DEFAULT_OUTPUT, show_default=True, type=click.Path(file_okay=False),
              help="ONNX export folder written by `anime-gnn export`.")
@click.option("--user-id", default=None, help="A known (training) user id, e.g. u000123.")
@click.option("--ratings", default=None, metavar="ID:RATING,...",
              help='A new user\'s ratings as anime_id:rating pairs, e.g. "16498:9,5114:10".')
@click.option("--ratings-file", default=None, type=click.Path(dir_okay=False),
              help="A new user's ratings as a CSV file of anime_id,rating rows.")
@click.option("--list-file", default=None, type=click.Path(dir_okay=False),
              help="A new user's list as exported from MyAnimeList (the XML, gzipped or not) or AniList "
                   "(MediaListCollection JSON), or the web page's ratings export; the format is detected.")
@click.option("--top-k", default=10, show_default=True, type=click.IntRange(min=1), help="How many to list.")
@click.option("--format", "formats", multiple=True, metavar="FORMAT",
              help="Only these formats (TV, MOVIE, OVA, ONA, SPECIAL, TV_SHORT, MUSIC); repeat or comma-separate.")
@click.option("--status", "statuses", multiple=True, metavar="STATUS",
              help="Only anime of this airing status (FINISHED, RELEASING, NOT_YET_RELEASED: announced); "
                   "repeat or comma-separate. Anime of unknown status are left out.")
@click.option("--year-min", default=None, type=int, help="Only anime from this year on.")
@click.option("--year-max", default=None, type=int, help="Only anime up to this year.")
@click.option("--include-rated", is_flag=True, help="Also list anime the user already rated.")
@click.option("--adult", is_flag=True, help="Include adult (18+) titles: the Hentai and Erotica genres, left out by default.")
@click.option("--no-group", is_flag=True,
              help="The raw ranked list: no grouping into one card per franchise (entry point or next entry).")
@click.option("--continue", "continue_series", is_flag=True,
              help="Continue your series instead: the next entry of each franchise you started, best predicted "
                   "rating first.")
@click.option("--discover", default=0.0, show_default=True, type=click.FloatRange(min=0), metavar="WEIGHT",
              help="Lean the list away from what everybody watches: the ranking score less WEIGHT x log(1 + the "
                   "anime's training ratings); 0 = the model's order, 0.5 a mix, 1 = how much more likely you are "
                   "than the average user to watch it. It reorders the anime the model scored.")
@click.option("--json", "as_json", is_flag=True, help="Print the recommendations as JSON.")
@friendly_errors
def recommend(model_dir: str, user_id: str | None, ratings: str | None, ratings_file: str | None,
              list_file: str | None, top_k: int,
              formats: tuple[str, ...], statuses: tuple[str, ...], year_min: int | None, year_max: int | None, include_rated: bool,
              adult: bool, no_group: bool, continue_series: bool, discover: float, as_json: bool) -> None:
    """Recommend anime for a known user (--user-id) or a new user (--ratings / --ratings-file / --list-file).

    One card per franchise: its first entry if you rated none of it, else the entry after the
    furthest one you rated; its other listed entries follow it (--no-group lists every anime).
    --continue lists the next entry of each franchise you started instead.
    """
    from gnn.filters import Filters
    from gnn.inference import OnnxRecommender

    _check_options({"--user-id": user_id, "--ratings": ratings, "--ratings-file": ratings_file,
                    "--list-file": list_file}, continue_series, no_group, include_rated, year_min, year_max)
    if continue_series and discover:
        raise UsageError("--continue lists the next entries by predicted rating: --discover does not apply to it")
    history = _given_history(ratings, ratings_file)
    wanted = frozenset(f.strip().upper() for item in formats for f in item.split(",") if f.strip()) or None
    status_set = frozenset(s.strip().upper() for item in statuses for s in item.split(",") if s.strip()) or None
    if status_set and status_set - set(STATUSES):
        raise UsageError(f"--status {', '.join(sorted(status_set - set(STATUSES)))}: not one of {', '.join(STATUSES)}")
    model = OnnxRecommender.load(model_dir)
    seen, planned = [], []
    if list_file is not None:
        history, seen, planned = _list_history(list_file, model, report_to_stderr=as_json)
    filters = Filters(formats=wanted, statuses=status_set, year_min=year_min, year_max=year_max, adult=adult)
    next_rows: list[dict] = []   # the grouped table's series-to-continue line
    if continue_series:
        rows = model.continue_series(user_id=user_id, history=history, k=top_k, filters=filters, seen=seen,
                                     planned=planned)
    elif no_group or as_json:
        rows = model.recommend(user_id=user_id, history=history, k=top_k, exclude_rated=not include_rated,
                               filters=filters, group=not no_group, seen=seen, planned=planned, discover=discover)
    else:
        rows, next_rows = model.recommend_with_next(user_id=user_id, history=history, k=top_k,
                                                    exclude_rated=not include_rated, filters=filters, seen=seen,
                                                    planned=planned, discover=discover)
    filtered = filters != Filters(adult=adult)    # a format, status or year filter was given
    if as_json:
        echo(dumps_json({"model_version": model.version, "recommendations": rows}, indent=2))
    elif not rows and continue_series:
        click.echo("no series to continue: no franchise you started has an unrated next entry"
                   + (" that passes these filters" if filtered else ""))
    elif not rows:
        click.echo("no anime match these filters" if filtered else
                   "nothing to recommend: every anime of this model's catalog is already rated "
                   "(--include-rated lists them anyway)")
    else:
        echo(_table(rows))
        if next_rows:
            echo(_continue_hint(next_rows))
