"""All-or-nothing file writes: a reader sees the old file or the new one, never half of it.

The content goes to a temporary file in the same folder, is flushed and synced to disk, then
renamed over the target (``os.replace``, atomic on POSIX and Windows); the folder is synced too
where the operating system allows it, so the rename survives a power cut. On any failure the
temporary file is removed and the old file is left as it was.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a" / "b.json"
>>> _ = atomic_write(p, "{}")
>>> p.read_text()
'{}'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def atomic_write(path: str | Path, data: str | bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` all or nothing; returns the path.

    Parameters
    ----------
    path
        The file to write; its folder is made if missing.
    data
        Text (written as UTF-8, newlines untranslated) or bytes.
    mode
        Permission bits for the new file (for example ``0o644``); by default those of a
        temporary file (``0o600``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> atomic_write(p, b"\\x00\\x01").read_bytes()
    b'\\x00\\x01'
    >>> atomic_write(p, "new").read_text()
    'new'
    """
    path = Path(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _sync_folder(folder)
    return path


def _sync_folder(folder: Path) -> None:
    """Sync a folder's entry list to disk (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows: a folder cannot be opened this way
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
