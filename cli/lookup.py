"""``anime-gnn search`` and ``anime-gnn similar``: find an anime's id by title, and "more like this", from
an ONNX export (the web page's search box and its "More like this" button)."""

from __future__ import annotations

import click

from cli.common import clip, echo, friendly_errors
from cli.export import DEFAULT_OUTPUT
from gnn.io import dumps_json

_MODEL_DIR = click.option("--model-dir", default=DEFAULT_OUTPUT, show_default=True, type=click.Path(file_okay=False),
                          help="ONNX export folder written by `anime-gnn export`.")
_TOP_K = click.option("--top-k", default=10, show_default=True, type=click.IntRange(min=1), help="How many to list.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")


def _table(rows: list[dict], value: str, header: str, fmt: str) -> str:
    """``id  title  year  format  <header>``, one line per row."""
    width = min(48, max([len("title")] + [len(str(r["title"])) for r in rows]))
    ids = max([len("id")] + [len(str(r["anime_id"])) for r in rows])
    lines = [f"{'id':>{ids}}  {'title':<{width}}  {'year':>4}  {'format':<8}  {header}"]
    for r in rows:
        year = "" if r["year"] is None else str(r["year"])
        shown = "" if r[value] is None else format(r[value], fmt)
        lines.append(f"{r['anime_id']!s:>{ids}}  {clip(r['title'], width):<{width}}  {year:>4}  "
                     f"{str(r['format'] or ''):<8}  {shown}")
    return "\n".join(lines)


@click.command()
@click.argument("query")
@_MODEL_DIR
@_TOP_K
@_JSON
@friendly_errors
def search(query: str, model_dir: str, top_k: int, as_json: bool) -> None:
    """Find anime by title (romaji, English or native; forgiving about case, accents and punctuation) and
    print their ids, for --ratings and `anime-gnn similar`. Best match first, then the most popular."""
    from gnn.inference import OnnxRecommender

    rows = OnnxRecommender.load(model_dir).search(query, top_k)
    if as_json:
        echo(dumps_json({"query": query, "results": rows}, indent=2))
    elif not rows:
        click.echo(f"no title in this model's catalog matches {query!r}")
    else:
        echo(_table(rows, "ratings", "training ratings", ".0f"))


@click.command()
@click.argument("anime")
@_MODEL_DIR
@_TOP_K
@_JSON
@friendly_errors
def similar(anime: str, model_dir: str, top_k: int, as_json: bool) -> None:
    """More like ANIME (a catalog id, or a title: its best match): the anime nearest to it in the model's
    learned item embeddings (cosine similarity), as the web page's "More like this" shows."""
    from gnn.inference import OnnxRecommender

    model = OnnxRecommender.load(model_dir)
    index = model.find(anime)
    rows = model.similar(model.anime_ids[index], top_k)
    title = (model.display[index] or {}).get("title")
    if as_json:
        echo(dumps_json({"anime_id": model.anime_ids[index], "title": title, "similar": rows}, indent=2))
    else:
        echo(f"more like {title} (id {model.anime_ids[index]}):")
        echo(_table(rows, "similarity", "similarity", ".3f"))
