"""Helpers shared by the CLI commands: one-line errors instead of tracebacks (see :mod:`cli.errors`)."""

from __future__ import annotations

from cli.errors import guarded as friendly_errors  # noqa: F401 - every command's decorator


def echo(text: str, err: bool = False) -> None:
    """``click.echo`` for text that holds catalog or list strings: a character the terminal's encoding
    cannot write (a lone surrogate in a title) is printed escaped, never a traceback."""
    import click

    click.echo(text.encode("utf-8", "backslashreplace").decode("utf-8"), err=err)


def clip(text: object, width: int) -> str:
    """``text`` cut to ``width`` characters, the last one an ellipsis where it was cut (table columns)."""
    text = str(text)
    return text if len(text) <= width else text[:width - 1] + "…"
