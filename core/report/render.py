"""Render an EvidencePack as one self-contained HTML file from the autoescaped templates/."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from core.evaluation.fairness import fairness_sentences
from core.monitoring.reference import ReferenceProfile
from core.plain_words import plain_header
from core.record.manifest import GateResult
from core.record.verification import VerificationReport
from core.report import figures
from core.report import pack as p
from core.templating import html_environment

BAND_FORMATS = {
    "band": ".0f",
    "count": ",.0f",
    "bads": ",.0f",
    "goods": ",.0f",
    **dict.fromkeys(("score_min", "score_max", "mean_score"), ".4f"),
    **dict.fromkeys(
        ("share", "bad_rate", "cum_bad_capture", "cum_good_capture", "ks", "cum_share"), ".2%"
    ),
    **dict.fromkeys(("lift", "cum_lift"), ".2f"),
}


@dataclass(frozen=True)
class Cell:
    """A table cell: its column, the text shown, and a numeric cell's exact value."""

    column: str
    text: object
    exact: str | None = None  # None for a text cell; "" for a missing number


@dataclass(frozen=True)
class Row:
    """A table row and its key (the row_key column's value)."""

    key: object
    cells: list[Cell]


@dataclass(frozen=True)
class Table:
    """A DataFrame ready for the table macro: (column, header) pairs and rows."""

    columns: list[tuple[str, str]]
    rows: list[Row]


@dataclass(frozen=True)
class PlotlyMarkup:
    """plotly.js and the pack's figures: the only HTML the templates print unescaped."""

    js: Markup
    soundness: Markup
    outcomes: Markup
    benchmarking: Markup


def _is_missing(value: object) -> bool:
    """True for None and NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_number(value: object, spec: str = ".4f") -> str:
    """A number formatted, '—' when absent."""
    if _is_missing(value):
        return "—"
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


def exact_number(value: object) -> str:
    """A headline number's exact value for data-value ('' when absent)."""
    return "" if _is_missing(value) else repr(float(value))


def _cell(column: str, value: object, spec: str) -> Cell:
    """A numeric cell carries its exact value; anything else is text."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return Cell(column, value)
    exact = "" if _is_missing(value) else repr(value.item() if hasattr(value, "item") else value)
    return Cell(column, fmt_number(value, spec), exact)


def table_rows(
    frame: pd.DataFrame, formats: Mapping[str, str] | None = None, row_key: str | None = None
) -> Table:
    """A DataFrame's headers and cells; numbers formatted by column (default .4g)."""
    formats = formats or {}
    columns = list(frame.columns)
    return Table(
        [(c, plain_header(c)) for c in columns],
        [
            Row(
                row[row_key] if row_key else None,
                [_cell(c, row[c], formats.get(c, ".4g")) for c in columns],
            )
            for row in frame.to_dict("records")
        ],
    )


def declared_directions(constraints: Mapping[str, int]) -> pd.DataFrame:
    """The declared monotone constraints as feature and direction."""
    return pd.DataFrame(
        {
            "feature": list(constraints),
            "declared": ["increasing" if d > 0 else "decreasing" for d in constraints.values()],
        }
    )


def reference_bands(profile: ReferenceProfile) -> pd.DataFrame:
    """The reference profile's score bands with their expected bad rates."""
    return pd.DataFrame([b.model_dump() for b in profile.bands])


def alert_levels(levels: Iterable[tuple[str, str]]) -> pd.DataFrame:
    """The alert levels in words, one row per signal."""
    return pd.DataFrame(list(levels), columns=["signal", "alert level"])


def gate_results(gates: Iterable[GateResult]) -> pd.DataFrame:
    """Each promotion gate: passed, overridden or failed, and why."""
    return pd.DataFrame(
        [
            {
                "gate": gate.name,
                "result": "passed"
                if gate.passed
                else "overridden"
                if gate.overridden
                else "failed",
                "detail": gate.detail,
            }
            for gate in gates
        ]
    )


def verification_checks(verification: VerificationReport) -> pd.DataFrame:
    """Each check of the promotion record's verification."""
    return pd.DataFrame(
        [
            {
                "check": c.name,
                "ok": {"ok": "yes", "WARN": "WARN"}.get(c.mark, "NO"),
                "detail": c.detail,
            }
            for c in verification.checks
        ]
    )


def plotly_markup(pack: p.EvidencePack) -> PlotlyMarkup:
    """The one place HTML is marked safe: plotly.js and the figures from figures.embed.

    embed escapes each figure's element id, and every '<', '>' and '&' in its JSON, so no run,
    feature or category name inside a figure can open markup. Nothing else is Markup: every
    other value reaches the templates as data and is escaped there.
    """
    o, b = pack.outcomes, pack.benchmark

    def embedded(found: list[tuple[str, go.Figure]]) -> Markup:
        return Markup("\n".join(figures.embed(fig, element_id) for element_id, fig in found))

    return PlotlyMarkup(
        js=Markup(get_plotlyjs()),
        soundness=embedded(figures.soundness_figures(pack.soundness)),
        outcomes=embedded(figures.outcome_figures(o) if o is not None else []),
        benchmarking=embedded(
            figures.benchmark_figures(b, o) if b is not None and o is not None else []
        ),
    )


_TEMPLATES = html_environment("core.report")
_TEMPLATES.filters.update(number=fmt_number, exact=exact_number)
_TEMPLATES.globals.update(
    BAND_FORMATS=BAND_FORMATS,
    table_rows=table_rows,
    declared_directions=declared_directions,
    reference_bands=reference_bands,
    alert_levels=alert_levels,
    gate_results=gate_results,
    verification_checks=verification_checks,
    fairness_sentences=fairness_sentences,
)


def render_html(pack: p.EvidencePack) -> str:
    """The whole pack as one HTML document that opens offline."""
    template = _TEMPLATES.get_template("evidence_pack.html.j2")
    return template.render(pack=pack, sections=p.SECTIONS, plotly=plotly_markup(pack))
