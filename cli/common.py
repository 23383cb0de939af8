"""Helpers shared by the CLI commands: one-line errors instead of tracebacks (see :mod:`cli.errors`)."""

from __future__ import annotations

from cli.errors import guarded as friendly_errors  # noqa: F401 - every command's decorator
