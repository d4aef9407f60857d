"""Which hyper-parameters move the primary metric across runs, with how sure each effect is."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import f_oneway, spearmanr

from core.runs.analysis import metric_label, numeric_column
from core.runs.fold_noise import FOLD_BADS_PARAM, FOLD_ROWS_PARAM

MIN_RUNS_FOR_EFFECTS = 4
# Below this many runs, or above this p-value, an effect is flagged as possibly chance.
FEW_RUNS = 10
SIGNIFICANCE = 0.05


def _spearman(x: pd.Series, y: pd.Series) -> tuple[float, float]:
    """Spearman rank correlation of two aligned numeric series and its p-value (NaN: undefined)."""
    rx, ry = x.rank(), y.rank()
    if rx.std() == 0 or ry.std() == 0:
        return float("nan"), float("nan")
    result = spearmanr(x.to_numpy(), y.to_numpy())
    return float(np.corrcoef(rx, ry)[0, 1]), float(result.pvalue)


def _correlation_ratio(groups: pd.Series, y: pd.Series) -> tuple[float, float]:
    """Eta (share of the metric's spread a categorical param explains) and the ANOVA p-value."""
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0:
        return float("nan"), float("nan")
    means = y.groupby(groups).transform("mean")
    between = float(((means - y.mean()) ** 2).sum())
    samples = [values.to_numpy() for _, values in y.groupby(groups)]
    enough = len(samples) > 1 and len(y) > len(samples)
    p_value = float(f_oneway(*samples).pvalue) if enough else float("nan")
    return float(np.sqrt(between / total)), p_value


def _evidence_note(n_runs: int, p_value: float) -> str:
    """Why an effect may be chance: few runs, or no significance at 5%."""
    if not np.isfinite(p_value) or p_value > SIGNIFICANCE:
        shown = "undefined" if not np.isfinite(p_value) else f"{p_value:.2f}"
        return f"could be chance (p = {shown})"
    if n_runs < FEW_RUNS:
        return f"only {n_runs} runs (p = {p_value:.3f})"
    return ""


# Params that describe the data or the validation set-up, not the model: the folds' sizes
# follow the data, so ranking them as "hyper-parameters that matter" would mislead.
SETUP_PARAMS = frozenset(
    {FOLD_ROWS_PARAM, FOLD_BADS_PARAM, "cv_folds", "n_jobs", "data_source", "data_version",
     "features", "categorical_columns", "target"}
)  # fmt: skip


def param_effects(
    runs: pd.DataFrame, metric: str, *, min_runs: int = MIN_RUNS_FOR_EFFECTS
) -> pd.DataFrame:
    """How strongly each varying param moves with the metric across finished runs.

    Numeric params get a signed Spearman correlation; params with text values get the
    correlation ratio (eta, unsigned). Mixed params use their numeric values and say how many
    text values were left out.
    """
    columns = ["param", "kind", "effect", "strength", "p_value", "n_runs", "n_values", "note"]
    y_all = numeric_column(runs, metric)
    usable = runs[(runs["status"] == "FINISHED") & y_all.notna()]
    y_all = y_all[usable.index]
    rows = []
    hyper = (
        c
        for c in runs.columns
        if c.startswith("params.") and c.removeprefix("params.") not in SETUP_PARAMS
    )
    for column in hyper:
        raw = usable[column].dropna().astype("str")
        if raw.nunique() < 2 or len(raw) < min_runs:
            continue
        numbers = pd.to_numeric(raw, errors="coerce")
        n_text = int(numbers.isna().sum())
        numeric = numbers.notna().mean() >= 0.8 and numbers.dropna().nunique() >= 2
        if numeric:
            x = numbers.dropna()
            effect, p_value = _spearman(x, y_all[x.index])
            kind, n = "numeric", len(x)
            note = f"{n_text} text value(s) left out" if n_text else ""
        else:
            effect, p_value = _correlation_ratio(raw, y_all[raw.index])
            kind, n, note = "categorical", len(raw), "unsigned (correlation ratio)"
        if np.isnan(effect):
            continue
        note = "; ".join(part for part in (_evidence_note(n, p_value), note) if part)
        rows.append(
            (metric_label(column), kind, effect, abs(effect), p_value, n, int(raw.nunique()), note)
        )
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("strength", ascending=False).reset_index(drop=True)
