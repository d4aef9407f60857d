"""A table as plain HTML, for a first view that must be on screen before the data grid's script.

`st.dataframe` draws with a grid whose code (about 1.2 MB of script) a fresh browser tab loads
on first use, and Streamlit shows no new element until it has. A page whose content is a table
can show the same rows, headers and formats as plain HTML at once, and the grid on the rerun
after the first paint (ui.shared.figures_after_paint). Every value is escaped.
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from ui.shared.figures_after_paint import painted, waiting_box

HEADER_HEIGHT, ROW_HEIGHT = 38, 35  # the grid's, so the page keeps its layout when it swaps
NOTE_HEIGHT = 24
AUTO_ROWS = 10  # rows st.dataframe shows before it scrolls, when given no height
_MOMENT_TOKENS = (("YYYY", "%Y"), ("MM", "%m"), ("DD", "%d"), ("HH", "%H"), ("mm", "%M"))
_TABLE_STYLE = "border-collapse:collapse;width:max-content;min-width:100%;font-size:0.875rem"
_CELL_STYLE = (
    "padding:0 0.5rem;border-bottom:1px solid rgba(128,128,128,0.25);white-space:nowrap;"
    f"height:{ROW_HEIGHT - 1}px"
)
_HEAD_STYLE = _CELL_STYLE + ";font-weight:400;opacity:0.7;text-align:left;position:sticky;top:0"


@functools.cache
def grid_scripts() -> tuple[str, ...]:
    """The file name of the grid's script in Streamlit's static folder (none if not found), for
    a first view to load before it asks for the grid."""
    folder = Path(st.__file__).parent / "static" / "static" / "js"
    return tuple(sorted(p.name for p in folder.glob("DataFrame.*.js"))[:1])


def grid_waiting_box(key: str, text: str) -> None:
    """A one-line note (text) that loads the grid's script, then asks for the painted rerun."""
    waiting_box(key, NOTE_HEIGHT, text, preload=grid_scripts())


def _strftime_of(moment_format: str | None) -> str:
    """A grid (moment.js) date format as strftime's, for the tokens the pages use."""
    pattern = moment_format or "YYYY-MM-DD HH:mm:ss"
    for token, directive in _MOMENT_TOKENS:
        pattern = pattern.replace(token, directive)
    return pattern.replace("ss", "%S")


def _number_text(value: float, number_format: str | None) -> str:
    """A number under the grid's format: printf-style, percent or localized."""
    if not math.isfinite(float(value)):
        return str(value)
    if number_format == "percent":
        return f"{value:.2%}"
    if number_format == "localized":
        return f"{value:,}"
    if number_format and "%" in number_format:
        try:
            return number_format % value
        except (TypeError, ValueError):
            pass
    return f"{value:g}" if isinstance(value, float) else str(value)


def _configs(
    columns: Sequence[str], config: Mapping[str, Any]
) -> list[tuple[str, Mapping[str, Any]]]:
    """The shown columns with their config as a mapping (a text is a label; None hides one)."""
    shown = []
    for name in columns:
        value = config.get(name, {})
        if value is None:
            continue
        shown.append((name, {"label": value} if isinstance(value, str) else value))
    return shown


def _missing(value: object) -> bool:
    """True for None, NaN and NaT."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array cell
        return False


def cell_html(value: object, column: Mapping[str, Any] | None) -> str:
    """One cell as the grid would show it under its column config, escaped."""
    if _missing(value):
        return ""
    kind = ((column or {}).get("type_config") or {}).get("type")
    options = (column or {}).get("type_config") or {}
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return html.escape(_number_text(value, options.get("format")))
    if kind == "datetime":
        return html.escape(pd.Timestamp(value).strftime(_strftime_of(options.get("format"))))
    if kind == "checkbox":
        return "✓" if bool(value) else ""
    if kind == "link":
        text = options.get("display_text") or str(value)
        return f'<a href="{html.escape(str(value), quote=True)}">{html.escape(text)}</a>'
    return html.escape(str(value))


def _align(column: Mapping[str, Any] | None) -> str:
    """The cell style's alignment: numbers to the right, as the grid draws them."""
    kind = ((column or {}).get("type_config") or {}).get("type")
    return ";text-align:right" if kind == "number" else ""


def _header(name: str, column: Mapping[str, Any] | None) -> str:
    """A column's header cell: its configured label (and help as a tooltip)."""
    label = (column or {}).get("label") or name
    tip = (column or {}).get("help")
    title = f' title="{html.escape(str(tip), quote=True)}"' if tip else ""
    return f'<th style="{_HEAD_STYLE}"{title}>{html.escape(str(label))}</th>'


def table_html(
    frame: pd.DataFrame, order: Sequence[str], config: Mapping[str, Any], height: int
) -> str:
    """frame's columns in order as an HTML table of at most height pixels (it scrolls), with
    the grid's headers and formats."""
    shown = _configs([c for c in order if c in frame.columns], config)
    columns = [name for name, _ in shown]
    head = "".join(_header(name, column) for name, column in shown)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="{_CELL_STYLE}{_align(column)}">{cell_html(value, column)}</td>'
            for (_, column), value in zip(shown, row, strict=True)
        )
        + "</tr>"
        for row in frame[columns].itertuples(index=False, name=None)
    )
    return (
        f'<div data-testid="staticTable" style="max-height:{height}px;overflow:auto;'
        'border:1px solid rgba(128,128,128,0.25);border-radius:0.5rem">'
        f'<table style="{_TABLE_STYLE}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def static_table(
    frame: pd.DataFrame, order: Sequence[str], config: Mapping[str, Any], height: int
) -> None:
    """Draw table_html in the page (no script of its own to load)."""
    st.html(table_html(frame, order, config, height))


def grid_height(rows: int, shown: int = AUTO_ROWS) -> int:
    """The pixel height of a grid of rows rows that shows at most shown before it scrolls."""
    return HEADER_HEIGHT + ROW_HEIGHT * max(1, min(rows, shown)) + 2


def dataframe_after_paint(
    frame: pd.DataFrame,
    *,
    column_config: Mapping[str, Any] | None = None,
    height: int | None = None,
    **options: Any,
) -> None:
    """`st.dataframe(frame, hide_index=True, ...)` once the session's browser has painted a
    view; before that, the same rows and formats as a static table (no grid script to wait
    for). Read-only tables only: the static one has no selection."""
    if painted():
        st.dataframe(
            frame, hide_index=True, column_config=column_config, height=height or "auto", **options
        )
        return
    order = [str(c) for c in frame.columns]
    static_table(frame, order, column_config or {}, height or grid_height(len(frame)))
