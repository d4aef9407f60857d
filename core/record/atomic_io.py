"""Atomic file writes (temp file, fsync, rename) and the file lock that serialises promotions."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from core.errors import GovernanceError

LOCK_POLL_SECONDS = 0.05
DEFAULT_LOCK_TIMEOUT_SECONDS = 120.0


class DeployPathError(GovernanceError):
    """The deploy folder (manifest, ledger, exported models) cannot be written."""


class PromotionLockedError(GovernanceError):
    """Another promotion held the lock for longer than the timeout."""


def ensure_writable_dir(folder: Path) -> None:
    """Create folder if needed and check that files can be created in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DeployPathError(
            f"Cannot create the deploy folder '{folder}' ({exc.strerror}).",
            fix="Set PROMOTION_MANIFEST to a path in a folder you can write.",
        ) from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DeployPathError(
            f"The deploy folder '{folder}' is not writable.",
            fix="Fix its permissions or set PROMOTION_MANIFEST to a writable path.",
        )


def _fsync_dir(folder: Path) -> None:
    """Flush a directory entry (the rename) to disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def stage_file(path: Path, data: bytes) -> Path:
    """Write data to a fsynced temporary file beside path and return the temp file's path."""
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise DeployPathError(
            f"Cannot write '{path}' ({exc.strerror}).",
            fix="Set PROMOTION_MANIFEST to a path in a folder you can write.",
        ) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        Path(name).unlink(missing_ok=True)
        raise DeployPathError(f"Cannot write '{path}' ({exc.strerror}).") from exc
    return Path(name)


def commit_file(staged: Path, path: Path) -> None:
    """Atomically move a staged temp file onto path (readers see the old or the new file)."""
    try:
        os.replace(staged, path)
        _fsync_dir(path.parent)
    except OSError as exc:
        staged.unlink(missing_ok=True)
        raise DeployPathError(f"Cannot replace '{path}' ({exc.strerror}).") from exc


def write_atomic(path: Path, data: bytes) -> None:
    """Write data to path atomically: temp file in the same folder, fsync, rename."""
    commit_file(stage_file(path, data), path)


def lock_path(path: Path) -> Path:
    """The lock file guarding path."""
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def exclusive_lock(
    path: Path,
    *,
    timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold an exclusive fcntl lock on path's lock file; on_wait runs once if it must wait."""
    ensure_writable_dir(path.parent)
    handle = lock_path(path).open("a+b")
    try:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if not waited and on_wait is not None:
                on_wait()
            waited = True
            if time.monotonic() >= deadline:
                raise PromotionLockedError(
                    f"Another promotion holds the lock on '{path}' for over {timeout:g} s.",
                    fix="Wait for it to finish, then try again.",
                )
            time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()
