"""What-if scoring: the result of one edit drawn as one HTML block (score, decision, reasons,
waterfall, what changed, counterfactuals), every name and value escaped.

One element per edit instead of a dozen: Streamlit's cost per element and the browser's drawing,
not the scoring, set the time an edit takes. The functions here build text; `ui/whatif/editor`
sends it with `st.html` (sanitised again by the browser, no script).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import pandas as pd

from core.charts.whatif import BarChart
from core.scoring.counterfactual import CounterfactualResult
from core.scoring.model_spec import ModelSpec
from core.scoring.scorer import DECLINE, ScoringResult

# Bars are laid out in CSS (a grid per chart); colours follow core/charts' kinds.
STYLE = """<style>
.wi-result{font-size:0.95rem;line-height:1.45}
.wi-result h3{font-size:1.3rem;font-weight:600;margin:1.4rem 0 0.5rem;padding:0}
.wi-metrics{display:grid;grid-template-columns:repeat(3,1fr);gap:1rem;margin:0.3rem 0 0.8rem}
.wi-metric-label{font-size:0.875rem;opacity:0.75}
.wi-metric-value{font-size:2.1rem;line-height:1.25}
.wi-delta{display:inline-block;font-size:0.875rem;border-radius:0.75rem;padding:0 0.5rem}
.wi-delta.up{color:#c0392b;background:rgba(192,57,43,0.1)}
.wi-delta.down{color:#1e8449;background:rgba(30,132,73,0.1)}
.wi-note{border-radius:0.5rem;padding:0.6rem 0.9rem;margin:0.4rem 0}
.wi-warn{background:rgba(255,189,69,0.2)}
.wi-caption{font-size:0.875rem;opacity:0.7;margin:0.3rem 0}
.wi-result table{border-collapse:collapse;margin:0.4rem 0 0.6rem;font-size:0.875rem}
.wi-result th,.wi-result td{padding:0.25rem 0.75rem;border-bottom:1px solid rgba(128,128,128,0.25);
 text-align:left;vertical-align:top}
.wi-result thead th{opacity:0.75;font-weight:600}
.wi-result td.num{text-align:right;font-variant-numeric:tabular-nums}
.wi-wide{width:100%}
.wi-chart{margin:0.8rem 0 1rem}
.wi-chart-title{font-weight:600;margin-bottom:0.4rem}
.wi-rows{display:grid;grid-template-columns:minmax(8rem,34%) 1fr 4.5rem;column-gap:0.6rem;
 font-size:0.85rem}
.wi-label{text-align:right;overflow-wrap:anywhere;padding:0.2rem 0}
.wi-track{position:relative;min-height:1.5rem}
.wi-bar{position:absolute;top:0.25rem;bottom:0.25rem;min-width:2px}
.wi-pair .wi-bar.original{top:0.15rem;bottom:50%}
.wi-pair .wi-bar.edited{top:50%;bottom:0.15rem}
.wi-bar.base,.wi-bar.total{background:#555555}
.wi-bar.up,.wi-bar.edited{background:#c0392b}
.wi-bar.down{background:#1f77b4}
.wi-bar.original{background:#999999}
.wi-zero{position:absolute;top:0;bottom:0;border-left:1px solid rgba(128,128,128,0.6)}
.wi-mark{position:absolute;top:0;bottom:0;border-left:1px dashed currentColor}
.wi-value{font-variant-numeric:tabular-nums;padding:0.2rem 0}
.wi-axis{font-size:0.8rem;opacity:0.7;margin-top:0.3rem}
</style>"""


def _text(value: object) -> str:
    """Any value as escaped text."""
    return escape(str(value), quote=True)


def shown_value(value: object) -> str:
    """A feature value for the comparison table ('missing' for a missing one)."""
    if value is None or pd.isna(value):
        return "missing"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def html_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    numeric: Sequence[int] = (),
    wide: bool = False,
) -> str:
    """A static table: escaped header and cells; the columns at the `numeric` positions are
    right-aligned; a wide one spans the page."""
    head = "".join(f"<th>{_text(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_text(v)}</td>' if i in numeric else f"<td>{_text(v)}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    table = '<table class="wi-wide">' if wide else "<table>"
    return f"{table}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _position(chart: BarChart, value: float) -> float:
    """Where a value sits on the chart's axis, in percent of the track."""
    return 100.0 * (value - chart.low) / (chart.high - chart.low)


def chart_html(chart: BarChart, name: str) -> str:
    """A horizontal bar chart as a CSS grid: label, track with the bar, printed value. Bars with
    the same label in a row are drawn as an original/edited pair."""
    rows: list[list] = []
    for bar in chart.bars:
        if rows and rows[-1][0] == bar.label:
            rows[-1][1].append(bar)
        else:
            rows.append([bar.label, [bar]])
    zero = _position(chart, 0.0)
    marker = (
        f'<div class="wi-mark" style="left:{_position(chart, chart.marker):.3f}%"></div>'
        if chart.marker is not None
        else ""
    )
    cells = []
    for label, bars in rows:
        drawn = []
        for bar in bars:
            left = _position(chart, min(bar.start, bar.end))
            width = _position(chart, max(bar.start, bar.end)) - left
            drawn.append(
                f'<div class="wi-bar {bar.kind}" style="left:{left:.3f}%;width:{width:.3f}%" '
                f'title="{_text(bar.text)}"></div>'
            )
        pair = " wi-pair" if len(bars) > 1 else ""
        cells.append(
            f'<div class="wi-label">{_text(label)}</div>'
            f'<div class="wi-track{pair}"><div class="wi-zero" style="left:{zero:.3f}%"></div>'
            f"{marker}{''.join(drawn)}</div>"
            f'<div class="wi-value">{"<br>".join(_text(b.text) for b in bars)}</div>'
        )
    note = f" · dashed line: {_text(chart.marker_text)}" if chart.marker_text else ""
    return (
        f'<div class="wi-chart" data-chart="{_text(name)}">'
        f'<div class="wi-chart-title">{_text(chart.title)}</div>'
        f'<div class="wi-rows">{"".join(cells)}</div>'
        f'<div class="wi-axis">{_text(chart.axis_title)}{note}</div></div>'
    )


def notes_html(result: ScoringResult, spec: ModelSpec) -> str:
    """Warnings for values outside the training range and for categories the model never saw,
    and a note naming the values scored as missing."""
    row = result.prepared.frame.iloc[0]
    parts = []
    for name in result.prepared.out_of_range:
        feature = spec.feature(name)
        parts.append(
            f'<div class="wi-note wi-warn">{_text(name)} = {row[name]:g} is outside the training '
            f"range {feature.low:g} – {feature.high:g}: the model never saw such a value, so its "
            "score there is an extrapolation.</div>"
        )
    for name, levels in result.prepared.unseen_categories.items():
        parts.append(
            f'<div class="wi-note wi-warn">{_text(name)} = {_text(", ".join(levels))} was never '
            "seen in training: the model scores it as a missing value, as the scoring service "
            "does.</div>"
        )
    if result.prepared.missing_values:
        listed = ", ".join(result.prepared.missing_values)
        parts.append(f'<p class="wi-caption">Scored as missing: {_text(listed)}</p>')
    return "".join(parts)


def _metric(label: str, value: str, delta: str = "", direction: str = "", tip: str = "") -> str:
    """One metric: label, value and an optional delta (up: riskier, red)."""
    shown = f'<span class="wi-delta {direction}">{_text(delta)}</span>' if delta else ""
    return (
        f'<div class="wi-metric" data-label="{_text(label)}" title="{_text(tip)}">'
        f'<div class="wi-metric-label">{_text(label)}</div>'
        f'<div class="wi-metric-value">{_text(value)}</div>{shown}</div>'
    )


def score_html(result: ScoringResult, original: ScoringResult | None) -> str:
    """Score, decision and distance to the threshold, then the reason codes of a decline."""
    scores = result.scores.iloc[0]
    moved = (
        0.0 if original is None else scores["probability"] - original.scores["probability"].iloc[0]
    )
    delta = f"{moved * 100:+.2f} pp vs original" if abs(moved) > 1e-12 else ""
    label = result.output_label.capitalize()
    metrics = (
        _metric(label, f"{scores['probability']:.2%}", delta, "up" if moved > 0 else "down")
        + _metric("Decision", str(scores["decision"]).upper())
        + _metric(
            "Distance to threshold",
            f"{scores['distance_to_threshold'] * 100:+.2f} pp",
            tip=f"{label} minus the threshold {result.threshold:.2%} ({result.threshold:.4f}), "
            "in percentage points; at or above the threshold the applicant is declined.",
        )
    )
    reasons = ""
    if scores["decision"] == DECLINE:
        texts = [r for r in result.reasons.iloc[0].tolist() if r]
        if texts:
            items = "".join(f"<li>{_text(t)}</li>" for t in texts)
            reasons = f"<p><strong>Reasons for the decline</strong></p><ol>{items}</ol>"
    else:
        reasons = '<p class="wi-caption">Approved: no reason codes are given for an approval.</p>'
    return f'<div class="wi-metrics">{metrics}</div>{reasons}'


def summary_html(original: ScoringResult, edited: ScoringResult) -> str:
    """Original and edited applicant's score, decision and distance, side by side."""
    before, after = original.scores.iloc[0], edited.scores.iloc[0]
    rows = [
        [
            edited.output_label.capitalize(),
            f"{before['probability']:.2%}",
            f"{after['probability']:.2%}",
        ],
        ["Decision", before["decision"], after["decision"]],
        [
            "Distance to threshold",
            f"{before['distance_to_threshold'] * 100:+.2f} pp",
            f"{after['distance_to_threshold'] * 100:+.2f} pp",
        ],
    ]
    return html_table(["", "Original", "Edited"], rows, numeric=(1, 2))


def moves_html(moved: pd.DataFrame) -> str:
    """Every feature whose value or contribution moved: values, contributions and the move."""
    rows = [
        [
            r.feature,
            shown_value(r.original_value),
            shown_value(r.edited_value),
            f"{r.original:+.4f}",
            f"{r.edited:+.4f}",
            f"{r.delta:+.4f}",
        ]
        for r in moved.itertuples()
    ]
    headers = ["Feature", "Original value", "Edited value", "Original contribution",
               "Edited contribution", "Moved by"]  # fmt: skip
    return html_table(headers, rows, numeric=(3, 4, 5), wide=True)


def counterfactuals_html(result: CounterfactualResult, output_label: str) -> str:
    """The smallest single-feature change that flips the decision, and the next best."""
    head = "<h3>Smallest change that flips the decision</h3>"
    if not result.found:
        return f'{head}<div class="wi-note wi-warn">{_text(result.note)}</div>'
    best = result.changes[0]
    lines = [
        head,
        f"<p><strong>{_text(best.describe())}</strong> The {_text(output_label)} becomes "
        f"{best.probability:.2%} and the decision <strong>{_text(best.decision)}</strong>.</p>",
    ]
    if len(result.changes) > 1:
        lines.append(
            '<p class="wi-caption">Next best single-feature changes (ranked by the change as a '
            "share of the feature's training range; a category switch counts as a whole "
            "range):</p>"
        )
    rows = [
        [
            c.feature,
            shown_value(c.current),
            shown_value(c.proposed),
            "" if c.change is None else f"{c.change:+.6g}",
            f"{c.cost * 100:.2f}%",
            f"{c.probability * 100:.2f}%",
            c.decision,
        ]
        for c in result.changes
    ]
    headers = ["Feature", "Current", "Proposed", "Change", "Share of range", "New score",
               "Decision"]  # fmt: skip
    lines.append(html_table(headers, rows, numeric=(3, 4, 5)))
    lines.append(
        '<p class="wi-caption">Only changes inside the training range, in each monotone '
        "feature's direction and allowed by the feature policy are considered. "
        f"{_text(result.note)}</p>"
    )
    return "".join(lines)
