"""Read What-if's result block (one HTML element) as a user would: metrics, tables, charts, text."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pandas as pd
from streamlit.testing.v1 import AppTest

# Elements whose text is one value; none of them holds another.
CAPTURED = {"wi-metric-value", "wi-chart-title", "wi-label", "wi-value"}


@dataclass
class Chart:
    """A bar chart of the block: its title, row labels and printed values, in order."""

    title: str = ""
    labels: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)


class ResultBlock(HTMLParser):
    """The parsed block: `metrics` (label -> shown value), `tables` (header and rows of text),
    `charts` (data-chart name -> Chart) and `text` (every text, in order, joined by newlines)."""

    def __init__(self, body: str) -> None:
        super().__init__()
        self.metrics: dict[str, str] = {}
        self.tables: list[dict[str, list]] = []
        self.charts: dict[str, Chart] = {}
        self._texts: list[str] = []
        self._metric = ""
        self._chart: Chart | None = None
        self._sink: tuple[str, str, list[str]] | None = None  # (tag, kind, pieces)
        self._in_head = False
        self._style = False
        self.feed(body)

    @property
    def text(self) -> str:
        return "\n".join(self._texts)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        classes = set((named.get("class") or "").split())
        if tag == "style":
            self._style = True
        if "wi-metric" in classes:
            self._metric = named.get("data-label") or ""
        if "data-chart" in named:
            self._chart = self.charts.setdefault(named["data-chart"] or "", Chart())
        if tag == "table":
            self.tables.append({"head": [], "rows": []})
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and not self._in_head:
            self.tables[-1]["rows"].append([])
        if tag in ("th", "td"):
            self._sink = (tag, "cell", [])
        elif tag == "div" and classes & CAPTURED:
            self._sink = (tag, next(iter(classes & CAPTURED)), [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._style = False
        if tag == "thead":
            self._in_head = False
        if self._sink is None or tag != self._sink[0]:
            return
        _, kind, pieces = self._sink
        self._sink = None
        value = " ".join(p.strip() for p in pieces if p.strip())
        if kind == "cell":
            target = self.tables[-1]["head"] if self._in_head else self.tables[-1]["rows"][-1]
            target.append(value)
        elif kind == "wi-metric-value":
            self.metrics[self._metric] = value
        elif self._chart is not None:
            if kind == "wi-chart-title":
                self._chart.title = value
            elif kind == "wi-label":
                self._chart.labels.append(value)
            else:
                self._chart.values += [p.strip() for p in pieces if p.strip()]

    def handle_data(self, data: str) -> None:
        if self._style:
            return
        if self._sink is not None:
            self._sink[2].append(data)
        if data.strip():
            self._texts.append(data.strip())

    def table(self, column: str) -> pd.DataFrame:
        """The first table with this column header, as a frame of text."""
        for table in self.tables:
            if column in table["head"]:
                return pd.DataFrame(table["rows"], columns=table["head"])
        raise AssertionError(f"no table with column {column!r} in the result")


def result_block(at: AppTest) -> ResultBlock:
    """The What-if result block the last run drew (exactly one)."""
    (block,) = [e for e in at.get("html") if 'class="wi-result"' in e.proto.body]
    return ResultBlock(block.proto.body)
