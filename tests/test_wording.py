"""Wording and charts that said more than the data: each fixed at its cause."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.charts.explanations import beeswarm_figure
from core.charts.whatif import waterfall
from core.evaluation.explain_global import GlobalShap, beeswarm_frame
from core.runs.param_effects import param_effects


def test_a_calibrated_pd_is_not_shown_beside_its_raw_log_odds_as_if_they_matched() -> None:
    contributions = pd.Series({"age": 0.4, "income": -0.2})
    values = pd.Series({"age": 30, "income": 1000})
    calibrated = waterfall(contributions, values, 0.313, 0.5, output=0.429, threshold_raw=0.2)
    raw = waterfall(contributions, values, 0.313, 0.5)
    assert "raw model log-odds before calibration 0.513" in calibrated.title
    assert "(log-odds 0.513)" in raw.title


def test_the_beeswarm_does_not_colour_nominal_categories_high_or_low() -> None:
    rng = np.random.default_rng(0)
    features = pd.DataFrame(
        {"income": rng.normal(size=50), "purpose": pd.Categorical(rng.choice(["car", "tv"], 50))}
    )
    shap = GlobalShap(
        values=pd.DataFrame({"income": rng.normal(size=50), "purpose": rng.normal(size=50)}),
        features=features, base_value=0.0, n_total=50,
    )  # fmt: skip
    swarm = beeswarm_frame(shap)
    purpose = swarm[swarm["feature"] == "purpose"]
    assert purpose["nominal"].all() and purpose["value_rank"].isna().all()
    figure = beeswarm_figure(swarm)
    grey = [t for t in figure.data if t.name == "category (no high or low)"]
    assert len(grey) == 1 and len(grey[0].x) == 50
    assert len(figure.data[0].x) == 50  # only the numeric feature is coloured low to high


def test_hyper_parameter_effects_leave_out_fold_sizes_and_cv_folds() -> None:
    n = 12
    runs = pd.DataFrame(
        {
            "status": ["FINISHED"] * n,
            "metrics.val_auc": np.linspace(0.7, 0.8, n),
            "params.num_leaves": [str(8 + i) for i in range(n)],
            "params.cv_fold_rows": [f"{100 + i},{100 + i}" for i in range(n)],
            "params.cv_fold_bads": [f"{10 + i},{10 + i}" for i in range(n)],
            "params.cv_folds": [str(2 + i % 3) for i in range(n)],
        }
    )
    ranked = param_effects(runs, "metrics.val_auc")["param"].tolist()
    assert ranked == ["num_leaves"]
