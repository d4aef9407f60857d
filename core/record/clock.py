"""The one clock promotion records use: UTC, ISO-8601."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current UTC time."""
    return datetime.now(UTC)


def stamp(moment: datetime | None = None) -> str:
    """A UTC time (now by default) as ISO-8601 to the second."""
    return (moment or now()).isoformat(timespec="seconds")


def parse(text: str) -> datetime:
    """An ISO-8601 time written by stamp (or with microseconds)."""
    return datetime.fromisoformat(text)
