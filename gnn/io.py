"""Atomic file writes: an interrupted run never leaves a half-written output.

Every writer goes to a temporary file in the destination directory and then
``os.replace``s it, which is atomic on POSIX for paths on one filesystem.
"""

from __future__ import annotations

import json
import math
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


def _non_finite(obj: Any, where: str = "") -> str | None:
    """The key path of the first NaN/infinity in ``obj`` (e.g. ``metrics.test.rmse``), or None."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return where or "(top level)"
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, (list, tuple)) else ()
    for key, value in items:
        found = _non_finite(value, f"{where}.{key}" if where else str(key))
        if found:
            return found
    return None


def finite_or_null(obj: Any) -> Any:
    """``obj`` with every NaN/infinity replaced by None (JSON null: a number that was not measured)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_or_null(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_null(v) for v in obj]
    return obj


_STRICT = {"ensure_ascii": False, "allow_nan": False}  # UTF-8 characters kept; NaN/Infinity refused


def _non_finite_error(obj: Any, where: str) -> ValueError | None:
    path = _non_finite(obj)
    if path is None:
        return None
    return ValueError(f"{where}: {path} is not a finite number; strict JSON has no NaN/Infinity "
                      "(write None for a value that was not measured)")


def dumps_json(obj: Any, indent: int | None = 2, where: str = "JSON") -> str:
    """``obj`` as strict JSON text, as :func:`write_json` writes it (for stdout or a custom layout).

    A NaN or infinity raises ValueError naming ``where`` and its key path.
    """
    try:
        return json.dumps(obj, indent=indent, **_STRICT)
    except ValueError:
        err = _non_finite_error(obj, where)
        if err is None:
            raise
        raise err from None


def write_json(path: str | os.PathLike, obj: Any, indent: int | None = 2) -> None:
    """Strict JSON only: a NaN or infinity in ``obj`` raises ValueError naming it, and nothing is written.

    (Python's default would write ``NaN``/``Infinity``, which no other JSON reader accepts;
    write ``None`` where a number was not measured, e.g. with :func:`finite_or_null`.)
    Every JSON file of gnn/, cli/ and benchmarks/ is written here or with :func:`dumps_json`.
    """
    with atomic_path(path) as tmp:  # a failure leaves no file behind (the temporary one is removed)
        with open(tmp, "w", encoding="utf-8") as f:
            try:
                json.dump(obj, f, indent=indent, **_STRICT)
            except ValueError:
                err = _non_finite_error(obj, str(path))
                if err is None:
                    raise
                raise err from None
            f.write("\n")


def ensure_writable_dir(path: str | os.PathLike, what: str = "output folder") -> Path:
    """Prove now, before any long work starts, that files can be written in folder ``path``.

    A probe file is created and removed in ``path``, or, if it does not exist yet, in its
    nearest existing ancestor (where the writer will create it); nothing is left behind.
    Raises :class:`gnn.errors.UsageError` naming ``what`` (e.g. ``--output-dir``) otherwise.
    """
    from gnn.errors import UsageError

    path = Path(path)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == path else f"{existing} is a file"
        raise UsageError(f"{what} {path}: {where}, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise UsageError(f"{what} {path}: cannot write there ({err.strerror or err})") from None
    return path


def write_csv(path: str | os.PathLike, frame: "pd.DataFrame") -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def write_npy(path: str | os.PathLike, array: Any) -> None:
    """One numpy array as ``.npy`` (loadable memory-mapped: ``np.load(path, mmap_mode="r")``)."""
    import numpy as np

    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, np.ascontiguousarray(array), allow_pickle=False)


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


def read_json_input(path: str | os.PathLike) -> Any:
    """Read a JSON file that comes from outside (a user's file, an export); any problem is an InputError.

    A file that is missing, a folder, unreadable, not UTF-8, not JSON or nested too
    deeply gets a one-line message naming it. (``NaN``/``Infinity`` parse as floats here,
    so that the record checks can name the record and field holding them.)
    """
    from gnn.errors import InputError

    file = str(path)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise InputError(file, "file not found") from None
    except IsADirectoryError:
        raise InputError(file, "is a folder, not a file") from None
    except OSError as err:
        raise InputError(file, f"cannot read ({err.strerror or err})") from None
    except UnicodeDecodeError as err:
        raise InputError(file, f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise InputError(file, f"not valid JSON ({err})") from None
    except RecursionError:
        raise InputError(file, "not readable: JSON nested too deeply") from None


def read_json_array(path: str | os.PathLike, what: str) -> list:
    """Read a user-supplied JSON array; any problem is an :class:`InputError` naming the file."""
    from gnn.errors import InputError

    file = str(path)
    raw = read_json_input(path)
    if not isinstance(raw, list):
        raise InputError(file, f"expected a JSON array of {what}")
    return raw
