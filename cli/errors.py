"""The CLI's one error boundary: expected failures become one ``error: ...`` line and exit code 2.

Expected failures are the user's or the environment's, never the program's: a
bad or unreadable file (:class:`~gnn.errors.InputError`, ``OSError``, a JSON,
CSV or UTF-8 decoding error, input nested too deeply), a bad option
(:class:`~gnn.errors.UsageError`), an ONNX model ONNX Runtime cannot load.
Anything else is a bug and keeps its traceback. ``anime-gnn --debug ...`` or
``ANIME_GNN_DEBUG=1`` shows the traceback of expected failures too.

The group (:mod:`cli.main`) and every command (:func:`guarded`, also applied as
``cli.common.friendly_errors`` so a command invoked on its own is covered) go
through :func:`describe`, the single place that decides what is expected.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import sys
from typing import Any, Callable

import click

from gnn.errors import InputError, UsageError

DEBUG_ENV = "ANIME_GNN_DEBUG"
MAX_MESSAGE = 500  # characters: a message quoting a hostile field stays readable


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` with line breaks folded into spaces, cut to ``limit`` characters."""
    text = " ".join(text.splitlines()).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _from_module(err: BaseException, prefix: str) -> bool:
    return any(k.__module__.startswith(prefix) for k in type(err).__mro__)


def _os_error(err: OSError) -> str:
    where = " -> ".join(str(f) for f in (err.filename, err.filename2) if f is not None)
    reason = err.strerror or type(err).__name__
    return f"{where}: {reason}" if where else reason


def describe(err: BaseException) -> str | None:
    """The one-line message for an expected failure, or None for a bug (which keeps its traceback)."""
    if isinstance(err, (InputError, UsageError)):
        return str(err)
    if isinstance(err, UnicodeDecodeError):
        return f"not UTF-8 text ({err.reason} at byte {err.start})"
    if isinstance(err, json.JSONDecodeError):
        return f"not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})"
    if isinstance(err, RecursionError):
        return "input nested too deeply to read"
    if isinstance(err, csv.Error):
        return f"not a readable CSV ({err})"
    if isinstance(err, OSError):
        return _os_error(err)
    if _from_module(err, "onnxruntime"):
        return f"ONNX Runtime could not load or run the model ({err})"
    if _from_module(err, "pandas.errors"):
        return f"not a readable CSV ({err})"
    return None


def debug_enabled() -> bool:
    """True under ``--debug`` (on the group) or ``ANIME_GNN_DEBUG`` set to anything but 0/empty."""
    if os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"):
        return True
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.find_root().params.get("debug"))


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``fn``; an expected failure prints ``error: <one line>`` on stderr and exits with code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - classified by describe(); bugs are re-raised
            message = describe(err)
            if message is None or debug_enabled():
                raise
            click.echo(f"error: {one_line(message)}", err=True)
            sys.exit(2)

    return wrapper
