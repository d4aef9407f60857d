"""Server-side files the dashboard may read: regular files inside DATA_ROOT, nothing else.

A path typed on the Diagnostics page is read by the server process, which can see far more
than the analyst should (keys, other teams' data, /proc). Only regular files whose real
location, after every symbolic link is followed, lies inside DATA_ROOT are read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from core.data.tables import MAX_TABLE_BYTES
from core.errors import DataValidationError

MAX_PATH_CHARS = 4096
ROOT_FIX = "Copy the file into DATA_ROOT (or a folder under it), or upload it instead."


class DataPathRefusedError(DataValidationError):
    """A server-side path is outside DATA_ROOT, escapes it by a symlink, or is not a file."""


def _check_path_text(text: str) -> None:
    """Refuse a path with a NUL byte or longer than MAX_PATH_CHARS (the OS would raise)."""
    if "\x00" in text:
        raise DataPathRefusedError(
            "The path contains a NUL character, which no file name can hold.",
            fix="Type or paste the path again, without control characters.",
        )
    if len(text) > MAX_PATH_CHARS:
        raise DataPathRefusedError(
            f"The path is {len(text):,} characters long; at most {MAX_PATH_CHARS:,} are accepted.",
            fix="Give the file's path relative to DATA_ROOT.",
        )


def resolve_in_root(root: Path, text: str) -> Path:
    """The real path of text (relative to root unless absolute) when it is a file inside root."""
    _check_path_text(text)
    real_root = root.resolve()
    given = Path(text.strip()).expanduser()
    candidate = given if given.is_absolute() else real_root / given
    lexical = Path(os.path.normpath(candidate))
    if not lexical.is_relative_to(real_root):
        raise DataPathRefusedError(
            f"'{text.strip()}' is outside the data folder DATA_ROOT ('{real_root}').", fix=ROOT_FIX
        )
    real = Path(os.path.realpath(candidate))
    if not real.is_relative_to(real_root):
        raise DataPathRefusedError(
            f"'{text.strip()}' is a symbolic link (or goes through one) that leads outside "
            f"DATA_ROOT ('{real_root}').",
            fix=ROOT_FIX,
        )
    if not real.exists():
        raise DataValidationError(
            f"No file at '{text.strip()}' in DATA_ROOT ('{real_root}').",
            fix="Give the path of a .csv or .parquet file under DATA_ROOT.",
        )
    if not stat.S_ISREG(real.stat().st_mode):
        raise DataPathRefusedError(
            f"'{text.strip()}' is not a regular file (a folder, device, socket or pipe).",
            fix="Give the path of a .csv or .parquet file.",
        )
    return real


def read_in_root(root: Path, text: str) -> tuple[str, bytes]:
    """The name and bytes of a regular file inside root (checked again on the open file)."""
    real = resolve_in_root(root, text)
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise DataPathRefusedError(
            f"'{text.strip()}' cannot be opened ({exc.strerror}).", fix=ROOT_FIX
        ) from exc
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise DataPathRefusedError(f"'{text.strip()}' is not a regular file.", fix=ROOT_FIX)
        if status.st_nlink > 1:
            raise DataPathRefusedError(
                f"'{text.strip()}' has {status.st_nlink} hard links: one of them may be a file "
                "outside DATA_ROOT, so it is not read.",
                fix="Copy the file into DATA_ROOT (a copy has one link) instead of linking it.",
            )
        if status.st_size > MAX_TABLE_BYTES:
            raise DataValidationError(
                f"'{real.name}' is {status.st_size / 1e6:,.0f} MB; the limit is "
                f"{MAX_TABLE_BYTES / 1e6:,.0f} MB.",
                fix="Split it into smaller files.",
            )
        return real.name, handle.read()
