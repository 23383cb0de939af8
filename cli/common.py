"""Helpers shared by the CLI commands: one-line errors instead of tracebacks."""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable

import click

from gnn.errors import InputError, UsageError


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected user errors into one line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (InputError, UsageError, FileNotFoundError) as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(2)

    return wrapper
