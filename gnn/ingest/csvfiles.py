"""Reading outside CSV files so that every failure is one InputError naming the file.

Not UTF-8 (anywhere in the file, also after the first chunk pandas decodes), a quote
left open, a field over the csv module's 128 KB limit, a ragged row: all become
``InputError(path, ...)``, never a pandas or csv traceback.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from gnn.errors import InputError

_CSV_ERRORS = (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error)


def csv_error(path: Path, err: Exception) -> InputError:
    """The one-line InputError for a decoding or parsing failure of ``path``."""
    if isinstance(err, UnicodeDecodeError):
        return InputError(str(path), f"not UTF-8 text ({err.reason} at byte {err.start})")
    first = (str(err).splitlines() or [""])[0][:200]
    return InputError(str(path), f"not a readable CSV ({first})")


def read_csv(path: Path, **kwargs: Any) -> Any:
    """``pd.read_csv`` with decoding and parsing failures as one InputError naming the file."""
    try:
        return pd.read_csv(path, **kwargs)
    except _CSV_ERRORS as err:
        raise csv_error(path, err) from None


def csv_chunks(reader: Any, path: Path) -> Iterator[pd.DataFrame]:
    """The chunks of a chunked reader; a failure deep in the file (bad bytes after 8 KB) is an InputError."""
    iterator = iter(reader)
    while True:
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        except _CSV_ERRORS as err:
            raise csv_error(path, err) from None
        yield chunk


def rows_with_lines(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, {column: text})`` per row of a small CSV, read with the csv module.

    A row with more or fewer fields than the header (a ragged row, which pandas would
    silently shift into an index) is an InputError naming the line. A BOM is skipped.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = [h.strip() for h in next(reader, [])]
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    raise InputError(str(path), f"{len(row)} fields where the header has {len(header)} "
                                                "(a ragged row)", record=reader.line_num)
                yield reader.line_num, dict(zip(header, row))
    except (UnicodeDecodeError, csv.Error) as err:
        raise csv_error(path, err) from None
