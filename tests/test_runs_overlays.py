"""Runs › Compare figures: ROC/KS overlays per run, and a scatter that highlights, not fades."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.charts import runs as charts
from core.evaluation.curves import evaluate
from core.evaluation.threshold_policy import build_score_table
from core.runs.overlays import NO_VALIDATION_SET, curve_overlay, not_drawn_sentence


def _evaluation(seed: int, signal: float):
    """The evaluation of a synthetic score whose separation grows with `signal`."""
    rng = np.random.default_rng(seed)
    labels = (rng.random(800) < 0.2).astype(int)
    scores = 1 / (1 + np.exp(-(signal * labels + rng.normal(0, 1, 800) - 1.5)))
    return evaluate(build_score_table(labels, scores))


def test_overlay_draws_each_run_with_its_numbers_and_names_the_runs_left_out() -> None:
    # given two evaluated runs (one the champion) and one without a validation set
    weak, strong = _evaluation(1, 0.5), _evaluation(2, 2.0)
    overlay = curve_overlay({"weak": weak, "strong": strong}, {"seed": NO_VALIDATION_SET})
    labels = {"weak": "run A", "strong": "run B", "seed": "seed run"}
    # when the overlays are drawn
    roc = charts.roc_overlay_figure(overlay, labels, champion="strong")
    ks = charts.ks_overlay_figure(overlay, labels, champion="strong")
    # then each run has its own coloured curve with its AUC / KS, the champion said and thicker
    lines = [t for t in roc.data if t.name != "random"]
    assert [t.name for t in lines] == [
        f"run A: AUC {weak.auc:.4f}",
        f"run B (champion): AUC {strong.auc:.4f}",
    ]
    assert lines[0].line.color != lines[1].line.color
    assert lines[1].line.width > lines[0].line.width
    peaks = [t for t in ks.data if t.mode == "markers"]
    assert [p.y[0] for p in peaks] == [weak.ks, strong.ks]
    assert overlay.ks["gap"].max() <= 1.0
    # and the run without a validation set is named with the reason
    assert not_drawn_sentence(overlay.not_drawn, labels) == (
        f"Not drawn: seed run ({NO_VALIDATION_SET})."
    )


def test_scatter_draws_selected_runs_stronger_than_the_others() -> None:
    # given five runs, two selected, one of them the champion
    runs = pd.DataFrame(
        {
            "run_id": list("abcde"),
            "params.num_leaves": [7, 15, 31, 63, 127],
            "metrics.val_auc": [0.70, 0.72, 0.75, 0.74, 0.73],
        }
    )
    # when the scatter is drawn
    fig = charts.scatter_figure(
        runs, "params.num_leaves", "metrics.val_auc", ["b", "c"], {}, champion="c"
    )
    # then other runs are grey and small, the selected one coloured and larger, the champion a star
    traces = {t.name: t for t in fig.data}
    assert traces["other runs"].marker.color == charts.OTHER_RUNS_COLOUR
    assert traces["selected"].marker.color == charts.RUN_COLOURS[0]
    assert traces["selected"].marker.size > traces["other runs"].marker.size
    assert traces["champion"].marker.symbol == "star"
    assert list(traces["champion"].x) == [31]
