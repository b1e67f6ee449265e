"""The workspace file lock: one writer at a time across processes, on every operating system.

Built on ``filelock`` (an ``fcntl`` lock on POSIX, ``msvcrt`` on Windows). By default a writer
waits as long as another holds the lock; with a ``timeout`` it gives up with a
:class:`~upward.core.errors.WorkspaceError` naming the lock file.

Examples
--------
>>> import tempfile, pathlib
>>> lock = pathlib.Path(tempfile.mkdtemp()) / "evidence" / ".library.lock"
>>> with file_lock(lock):
...     lock.exists()
True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from upward.core.errors import WorkspaceError


@contextmanager
def file_lock(path: str | Path, *, timeout: float = -1) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (made with its folder if missing) while the block runs.

    Parameters
    ----------
    path
        The lock file; every writer of the same data must use the same path.
    timeout
        Seconds to wait for another holder; negative (the default) waits as long as it takes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> lock = pathlib.Path(tempfile.mkdtemp()) / ".x.lock"
    >>> with file_lock(lock, timeout=1):
    ...     with file_lock(lock, timeout=0.05):
    ...         pass
    Traceback (most recent call last):
    ...
    upward.core.errors.WorkspaceError: another Upward process holds .../.x.lock. What to do: wait for it to finish and try again
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, is_singleton=False, thread_local=False)
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise WorkspaceError(f"another Upward process holds {path}",
                             fix="wait for it to finish and try again") from None
    try:
        yield
    finally:
        lock.release()
