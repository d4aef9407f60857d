"""What Monitoring reports on: rows held in pandas, or a decision log counted by DuckDB."""

from __future__ import annotations

from dataclasses import dataclass

from core.decision_log.reader import RecentData
from core.monitoring.log_summary import EngineChoice, LogFiles


@dataclass(frozen=True, eq=False)
class Picked:
    """The recent data chosen and a key naming its content for the caches.

    `recent` holds the rows in pandas; it is None when DuckDB counts the decision log (`log`),
    whose rows are never held. `engine` says which engine counted the log and why.
    """

    recent: RecentData | None
    key: str
    log: LogFiles | None = None
    engine: EngineChoice | None = None
