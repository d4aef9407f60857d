"""The monitoring report as JSON or as a standalone HTML page (for a scheduled job's output)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.errors import DataValidationError
from core.monitoring.report import MonitoringReport
from core.record.atomic_io import write_atomic
from core.templating import html_environment

REPORT_SCHEMA_VERSION = 1
_TABLES = ("segments", "features", "categories", "score_bins", "bands")
_TEMPLATES = html_environment("core.monitoring")


@dataclass(frozen=True)
class _Table:
    """One report table as the page prints it: title, column names, cell texts."""

    title: str
    columns: list[str]
    rows: list[list[str]]


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as dicts with NaN as null."""
    rows = frame.to_dict(orient="records")
    return [
        {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        for row in rows
    ]


def report_dict(report: MonitoringReport) -> dict[str, object]:
    """The whole report as plain JSON-ready data."""
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "source": report.source,
        "period": report.period,
        "alerts": [a.as_dict() for a in report.alerts],
        "notes": list(report.notes),
        **{name: _records(getattr(report, name)) for name in _TABLES},
    }


def _cell(value: object) -> str:
    """A cell as text: floats to 4 significant digits, missing values blank."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _tables(report: MonitoringReport) -> list[_Table]:
    """The report's non-empty tables, each cell as text (the template escapes it)."""
    return [
        _Table(
            name.replace("_", " "),
            [str(c) for c in frame.columns],
            [[_cell(row[c]) for c in frame.columns] for row in frame.to_dict(orient="records")],
        )
        for name in _TABLES
        if not (frame := getattr(report, name)).empty
    ]


def report_html(report: MonitoringReport) -> str:
    """A plain HTML page: alerts, notes, then the tables."""
    template = _TEMPLATES.get_template("monitoring_report.html.j2")
    return template.render(report=report, tables=_tables(report))


def write_report(report: MonitoringReport, path: Path) -> None:
    """Write the report atomically as .json or .html (the suffix decides)."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = json.dumps(report_dict(report), indent=1, default=str).encode("utf-8")
    elif suffix in (".html", ".htm"):
        data = report_html(report).encode("utf-8")
    else:
        raise DataValidationError(
            f"Cannot write a report to '{path.name}'.", fix="Name it report.json or report.html."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)
