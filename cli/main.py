"""The ``anime-gnn`` command group. Each subcommand lives in its own module."""

from __future__ import annotations

import click

from cli.errors import DEBUG_ENV, guarded
from gnn import __version__


class _GuardedGroup(click.Group):
    """Every subcommand runs inside the one error boundary (:mod:`cli.errors`)."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201 - click's signature
        return guarded(super().invoke)(ctx)


@click.group(cls=_GuardedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="anime-gnn")
@click.option("--debug", is_flag=True,
              help=f"Show the traceback of expected errors too (or set {DEBUG_ENV}=1).")
def main(debug: bool) -> None:
    """anime-gnn: anime recommendations from a heterogeneous catalog graph.

    Typical flow: preprocess -> train -> export -> recommend (or serve the web page).
    """


def _register() -> None:
    # Imported here so that `anime-gnn --help` stays fast and each command is one module.
    from cli.export import export, rollback
    from cli.ingest import fetch_catalog, fetch_ratings, import_group
    from cli.lookup import search, similar
    from cli.preprocess import preprocess
    from cli.recommend import recommend
    from cli.sample import generate_sample
    from cli.serve import serve
    from cli.train import train

    for command in (preprocess, generate_sample, train, fetch_catalog, fetch_ratings, import_group,
                    export, rollback, recommend, search, similar, serve):
        main.add_command(command)


_register()
