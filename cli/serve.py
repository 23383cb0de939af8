"""``anime-gnn serve``: the web page on 127.0.0.1 (static files only; scoring happens in the browser)."""

from __future__ import annotations

import click

from cli.common import friendly_errors
from gnn.serve import COEP_CHOICES


@click.command()
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--directory", default="public", show_default=True, type=click.Path(file_okay=False),
              help="Folder to serve: the page, vendor/ (`make web`) and model/ (`anime-gnn export`).")
@click.option("--coep", default="credentialless", show_default=True, type=click.Choice(COEP_CHOICES),
              help="Cross-Origin-Embedder-Policy. credentialless keeps remote cover images; "
                   "require-corp blocks covers whose host sends no CORP header (placeholders shown).")
@click.option("--quiet", is_flag=True, help="Do not log each request.")
@friendly_errors
def serve(port: int, directory: str, coep: str, quiet: bool) -> None:
    """Serve the web page (cross-origin isolated, with a Content-Security-Policy) until Ctrl-C."""
    from pathlib import Path

    from gnn.serve import make_server, url_of

    server = make_server(directory, port=port, coep=coep, quiet=quiet)
    if not (Path(directory) / "vendor").is_dir():
        click.echo(f"warning: {directory}/vendor/ is missing: run `make web` first", err=True)
    if not (Path(directory) / "model" / "anime_recommender").is_dir():
        click.echo(f"warning: {directory}/model/anime_recommender/ is missing: run `anime-gnn export` first",
                   err=True)
    click.echo(f"Serving {directory}/ at {url_of(server)} (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
