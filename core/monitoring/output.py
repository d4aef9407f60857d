"""The monitoring report as JSON or as a standalone HTML page (for a scheduled job's output)."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import pandas as pd

from core.errors import DataValidationError
from core.monitoring.report import MonitoringReport
from core.record.atomic_io import write_atomic

REPORT_SCHEMA_VERSION = 1
_TABLES = ("segments", "features", "categories", "score_bins", "bands")


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


def report_html(report: MonitoringReport) -> str:
    """A plain HTML page: alerts, notes, then the tables."""
    alerts = (
        "".join(f"<li class='{a.level}'>{html.escape(a.line())}</li>" for a in report.alerts)
        or "<li>No alert: nothing crosses an alert level.</li>"
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes) or "<li>none</li>"
    tables = "".join(
        f"<h2>{name.replace('_', ' ')}</h2>"
        + getattr(report, name).to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="")
        for name in _TABLES
        if not getattr(report, name).empty
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Monitoring report</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}.critical{color:#c62828}"
        ".warning{color:#a66f00}</style></head><body>"
        f"<h1>Monitoring report</h1><p>{html.escape(report.source)}, by {report.period}</p>"
        f"<h2>Alerts</h2><ul>{alerts}</ul><h2>Notes on the input</h2><ul>{notes}</ul>"
        f"{tables}</body></html>"
    )


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
