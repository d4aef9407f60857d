"""The pack's figures, from the core.charts builders, as div + script with inlined JSON."""

from __future__ import annotations

import html

import plotly.graph_objects as go
import plotly.io as pio

from core.charts import diagnostics as charts
from core.charts import explanations
from core.evaluation.explain_global import beeswarm_frame
from core.report import pack as p

_CONFIG = '{"displaylogo": false, "responsive": true, "staticPlot": false}'
# A standard chart's height in the pack: short enough that one moved to the next page leaves
# no half page blank; taller charts (one bar per feature) keep their own height.
PACK_FIGURE_HEIGHT = 340
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def embed(fig: go.Figure, element_id: str) -> str:
    """A figure as a div and the script that draws it (plotly.js is inlined once per page).

    The JSON is escaped so that no text in it (a hostile feature or run name) can close the
    script element: '<', '>' and '&' only occur inside JSON strings, where \\u escapes are valid.
    """
    if fig.layout.height is None or fig.layout.height <= 500:
        fig = go.Figure(fig).update_layout(height=PACK_FIGURE_HEIGHT)
    spec = pio.to_json(fig, validate=False)
    for char, escaped in _JSON_ESCAPES.items():
        spec = spec.replace(char, escaped)
    element = html.escape(element_id, quote=True)
    return (
        f'<div class="figure" id="{element}"></div>\n<script>(function(){{var s={spec};'
        f'Plotly.newPlot("{element}",s.data,s.layout,{_CONFIG});}})();</script>'
    )


def outcome_figures(outcomes: p.OutcomesSection) -> list[tuple[str, go.Figure]]:
    """ROC, KS, score distribution, calibration, lift and gains."""
    evaluation, point = outcomes.evaluation, outcomes.policy
    curves = {"this run": evaluation}
    return [
        ("fig-roc", charts.roc_figure(curves, {"this run": point})),
        ("fig-ks", charts.ks_figure(curves, point.threshold)),
        ("fig-distribution", charts.distribution_figure(evaluation, point.threshold)),
        ("fig-calibration", charts.calibration_figure(outcomes.calibration, evaluation.brier)),
        ("fig-lift", charts.lift_figure(outcomes.bands)),
        ("fig-gains", charts.gains_figure(outcomes.bands)),
    ]


def soundness_figures(soundness: p.SoundnessSection) -> list[tuple[str, go.Figure]]:
    """Importance, the SHAP summary and each checked feature's partial dependence."""
    found = []
    if soundness.importance is not None:
        found.append(
            (
                "fig-importance",
                explanations.bar_figure(
                    soundness.importance, "importance", "Feature importance (gain)", "gain"
                ),
            )
        )
    if soundness.shap is not None:
        shap = soundness.shap
        found.append(
            (
                "fig-shap-mean",
                explanations.bar_figure(
                    shap.mean_abs(), "mean_abs_shap", "Mean |SHAP|", "mean |SHAP|"
                ),
            )
        )
        found.append(("fig-shap-beeswarm", explanations.beeswarm_figure(beeswarm_frame(shap))))
    check = soundness.monotonicity
    if check is not None:
        for index, feature in enumerate(check.curves["feature"].unique()):
            found.append(
                (f"fig-pd-{index}", explanations.monotonicity_figure(check.curves, feature))
            )
    return found


def benchmark_figures(
    benchmark: p.BenchmarkSection, outcomes: p.OutcomesSection
) -> list[tuple[str, go.Figure]]:
    """ROC and KS of this run and the champion on the same rows."""
    curves = {"this run": outcomes.evaluation, "champion": benchmark.champion_evaluation}
    return [
        ("fig-benchmark-roc", charts.roc_figure(curves)),
        ("fig-benchmark-ks", charts.ks_figure(curves)),
    ]
