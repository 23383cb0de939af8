"""Errors that carry enough context for a one-line message to the user."""

from __future__ import annotations


class InputError(Exception):
    """Fatal problem in a user-supplied file.

    The message names the file, the record (index or id) and the field, so the
    CLI can print it on one line and exit with code 2.
    """

    def __init__(self, file: str, message: str, record: str | int | None = None,
                 field: str | None = None) -> None:
        self.file = str(file)
        self.record = record
        self.field = field
        self.detail = message
        where = self.file
        if record is not None:
            where += f", record {record}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")


class UsageError(Exception):
    """A user mistake that is not about a file's content (bad option value, missing file)."""


class ModelConfigError(UsageError):
    """An unknown model name, or an unknown or refused model option (``--model``, ``--model-option``)."""
