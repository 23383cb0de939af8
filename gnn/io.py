"""Atomic file writes: an interrupted run never leaves a half-written output.

Every writer goes to a temporary file in the destination directory and then
``os.replace``s it, which is atomic on POSIX for paths on one filesystem.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:  # pandas and torch load lazily: the CLI's --help and the ingest commands need neither
    import pandas as pd



def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once: os.umask can only be read by setting it


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp creates the file 0600; give it the mode a plain open() would have.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: str | os.PathLike, obj: Any, indent: int | None = 2) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=indent, ensure_ascii=False)
            f.write("\n")


def write_csv(path: str | os.PathLike, frame: "pd.DataFrame") -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def write_torch(path: str | os.PathLike, obj: Any) -> None:
    """Save tensors/dicts of plain types; loadable with ``torch.load(weights_only=True)``."""
    import torch

    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        # Saved through a file object, the archive's inner folder is always "archive" rather than
        # the random temporary name, so the same content gives byte-identical files.
        torch.save(obj, f)


def read_json(path: str | os.PathLike) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_json_array(path: str | os.PathLike, what: str) -> list:
    """Read a user-supplied JSON array; any problem is an :class:`InputError` naming the file."""
    from gnn.errors import InputError

    file = str(path)
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except FileNotFoundError:
        raise InputError(file, "file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(file, f"not valid JSON ({err})") from None
    if not isinstance(raw, list):
        raise InputError(file, f"expected a JSON array of {what}")
    return raw
