"""Safe deployment of an export folder: build aside, verify, swap atomically, keep versions, roll back.

Layout, for ``--output-dir public/model/anime_recommender``::

    public/model/anime_recommender/                      the export in use (a real folder)
    public/model/.anime_recommender.versions/<version>/  earlier exports (newest ``keep`` kept)
    public/model/.anime_recommender.staging-<pid>-<rand>/ a build in progress (removed on failure)

A new export is built and checked in the staging folder, next to the output
so that renames stay on one filesystem. The swap uses Linux
``renameat2(RENAME_EXCHANGE)`` where available: the output path always holds
a complete export, old or new, with no instant where it is missing. Elsewhere
it falls back to two renames (old -> versions, staging -> output), where a
crash in between leaves the output path missing but never partial;
``rollback`` then restores the newest version. Versions are named
``<UTC time>-<hash of model.onnx>``, so names sort by export time. A version
read back from an export's metadata becomes a folder name only if it is one
plain path segment (:func:`is_safe_version`); anything else (``../x``, an
absolute path: a tampered file) is replaced by a generated name.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from gnn.errors import UsageError
from gnn.io import read_json

METADATA = "onnx_model_metadata.json"
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def versions_dir(output_dir: Path) -> Path:
    return output_dir.parent / f".{output_dir.name}.versions"


def new_version(digest: str) -> str:
    """``20250101T120000.123456Z-ab12cd34``: sortable by time, unique per build."""
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S.%fZ}-{digest[:8]}"


_SAFE_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,127}")


def is_safe_version(name: object) -> bool:
    """True for one plain path segment: letters, digits, ``._-``, not starting with a dot, at most 128."""
    return isinstance(name, str) and _SAFE_VERSION.fullmatch(name) is not None


def version_of(folder: Path) -> str:
    """The version recorded in an export folder, used as a folder name only if it is one safe segment.

    Folders without a readable version get ``<mtime>-unversioned``; a recorded version
    that is not one plain segment (``../x``, ``/abs``, an empty or odd name: a tampered
    metadata file) gets ``<mtime>-invalid``, so it never becomes a path.
    """
    try:
        version = read_json(folder / METADATA)["model_version"]
        suffix = "invalid"
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        version, suffix = None, "unversioned"
    if is_safe_version(version):
        return version  # type: ignore[return-value]
    stamp = datetime.fromtimestamp(folder.stat().st_mtime, timezone.utc)
    return f"{stamp:%Y%m%dT%H%M%S.%fZ}-{suffix}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_staging(output_dir: Path) -> None:
    """Remove staging folders left by killed exports (their process is gone)."""
    for d in output_dir.parent.glob(f".{output_dir.name}.staging-*"):
        pid = d.name.rsplit(".staging-", 1)[1].split("-", 1)[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(d, ignore_errors=True)


@contextmanager
def staging(output_dir: Path) -> Iterator[Path]:
    """A fresh folder next to ``output_dir``; removed if the block raises (or is interrupted)."""
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(output_dir)
    path = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.staging-{os.getpid()}-", dir=output_dir.parent))
    os.chmod(path, 0o755)  # mkdtemp makes it 0700; a served folder must be readable
    try:
        yield path
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths (Linux renameat2); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _free_name(folder: Path, name: str) -> Path:
    path, n = folder / name, 1
    while path.exists():
        path, n = folder / f"{name}.{n}", n + 1
    return path


def _put_in_place(new: Path, output_dir: Path) -> Path | None:
    """Move ``new`` to ``output_dir``; return the path the replaced export now has (a sibling), or None."""
    if not output_dir.exists():
        os.rename(new, output_dir)
        return None
    if _exchange(new, output_dir):
        return new  # the old export now sits at the staging path
    aside = _free_name(output_dir.parent, f".{output_dir.name}.old-{os.getpid()}")
    os.rename(output_dir, aside)
    os.rename(new, output_dir)
    return aside


def _checked(version: str) -> str:
    """``version`` itself, refused unless it is one safe path segment (so a version never becomes a path)."""
    if not is_safe_version(version):
        raise ValueError(f"unsafe version folder name {version!r}")
    return version


def _prune(vdir: Path, keep: int) -> None:
    """Keep the ``keep`` newest versions (names sort by time); ``keep <= 0`` keeps all."""
    if keep <= 0:
        return
    for old in sorted(p for p in vdir.iterdir() if p.is_dir())[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def deploy(built: Path, output_dir: Path, keep: int = 3) -> str | None:
    """Swap the verified ``built`` folder in as ``output_dir``; keep the replaced one as a version.

    Returns the replaced export's version (None if there was none).
    """
    output_dir = Path(output_dir)
    previous = version_of(output_dir) if output_dir.exists() else None
    replaced = _put_in_place(built, output_dir)
    if replaced is not None and previous is not None:
        vdir = versions_dir(output_dir)
        vdir.mkdir(exist_ok=True)
        os.rename(replaced, _free_name(vdir, _checked(previous)))
        _prune(vdir, keep)
    return previous


def list_versions(output_dir: Path) -> list[str]:
    vdir = versions_dir(Path(output_dir))
    return sorted(p.name for p in vdir.iterdir() if p.is_dir()) if vdir.exists() else []


def rollback(output_dir: str | Path) -> tuple[str, str | None]:
    """Put the newest kept version older than the current export back in place.

    The export it replaces is kept among the versions (it is newer, so a second
    rollback goes further back instead of toggling). If the output folder is
    missing (a crash between the two fallback renames), the newest version is restored.
    Returns ``(restored_version, replaced_version or None)``.
    """
    output_dir = Path(output_dir)
    vdir = versions_dir(output_dir)
    current = version_of(output_dir) if output_dir.exists() else None
    candidates = [v for v in list_versions(output_dir) if current is None or v < current]
    if not candidates:
        raise UsageError(f"{output_dir}: no earlier export to roll back to (versions are kept in {vdir})")
    chosen = vdir / candidates[-1]
    restored = version_of(chosen)
    replaced = _put_in_place(chosen, output_dir)
    if replaced is not None and current is not None:
        os.rename(replaced, _free_name(vdir, _checked(current)))
    return restored, current
