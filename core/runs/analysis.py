"""Runs page computations: filters, the table view, CV gaps, run comparison, param effects."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.record.manifest import PromotionManifest
from core.runs.labels import run_labels
from core.runs.overfit import overfit_column
from core.runs.stability import DEFAULT_PRIMARY_METRIC, Recommendation, higher_is_better
from core.sentence import Sentence

CV_STAT_COLUMNS = [f"cv_{m}_{s}" for m in ("auc", "ks") for s in ("mean", "std", "min", "max")]
_PREFERRED_METRICS = (
    "metrics.val_auc",
    "metrics.val_ks",
    "cv_auc_mean",
    "cv_ks_mean",
    "cv_auc_min",
    "cv_ks_min",
)
MIN_RUNS_FOR_EFFECTS = 4
CHAMPION_ROLE = "Champion"
# Below this many runs, or above this p-value, an effect is flagged as possibly chance.
FEW_RUNS = 10
SIGNIFICANCE = 0.05
# Logged once per fold: their "latest value" is just the last fold, so it is not compared.
_FOLD_STEP_METRICS = {"cv_auc", "cv_ks"}


def metric_label(column: str) -> str:
    """A column name as users read it ('metrics.val_auc' -> 'val_auc')."""
    for prefix in ("metrics.", "params.", "tags."):
        if column.startswith(prefix):
            return column[len(prefix) :]
    return column


def primary_metric_options(runs: pd.DataFrame) -> list[str]:
    """Columns a run can be ranked by: val AUC/KS, CV statistics, then every logged metric."""
    present = [c for c in _PREFERRED_METRICS if c in runs.columns and runs[c].notna().any()]
    labels = {metric_label(c) for c in present}
    logged = sorted(
        c
        for c in runs.columns
        if c.startswith("metrics.")
        and c not in present
        and metric_label(c) not in labels
        and runs[c].notna().any()
    )
    options = present + logged
    return options or [DEFAULT_PRIMARY_METRIC]


def numeric_column(runs: pd.DataFrame, column: str) -> pd.Series:
    """A column as floats (non-numbers become NaN), or all-NaN when the column is absent."""
    if column not in runs.columns:
        return pd.Series(np.nan, index=runs.index, dtype="float64")
    return pd.to_numeric(runs[column], errors="coerce").astype("float64")


@dataclass(frozen=True)
class RunFilter:
    """What the user narrowed the runs table to; empty fields filter nothing."""

    search: str = ""
    statuses: tuple[str, ...] = ()
    tag: str = ""
    param: str = ""
    param_values: tuple[str, ...] = ()
    range_metric: str = ""
    range_min: float | None = None
    range_max: float | None = None

    def describe(self) -> list[str]:
        """One short phrase per active filter."""
        parts = []
        if self.search.strip():
            parts.append(f"name or id contains '{self.search.strip()}'")
        if self.statuses:
            parts.append("status in " + ", ".join(self.statuses))
        if self.tag.strip():
            parts.append(f"tag {self.tag.strip()}")
        if self.param and self.param_values:
            parts.append(f"{metric_label(self.param)} in " + ", ".join(self.param_values))
        if self.range_applies():
            low = "−∞" if self.range_min is None else f"{self.range_min:g}"
            high = "∞" if self.range_max is None else f"{self.range_max:g}"
            parts.append(f"{metric_label(self.range_metric)} in [{low}, {high}]")
        return parts

    def range_applies(self) -> bool:
        """True when a metric range is set and makes sense (its minimum not above its maximum)."""
        bounds = (self.range_min, self.range_max)
        return bool(self.range_metric) and bounds != (None, None) and not self.range_problem()

    def range_problem(self) -> str | None:
        """What is wrong with the metric range, in a sentence with the fix, or None.

        A minimum above the maximum would match no run; the range is then not applied (the
        other filters are) and this sentence names the cause.
        """
        low, high = self.range_min, self.range_max
        if not self.range_metric or low is None or high is None or low <= high:
            return None
        return (
            f"The minimum {low:g} is above the maximum {high:g} for "
            f"{metric_label(self.range_metric)}: swap them. The range is not applied until "
            "then; the other filters are."
        )


def _tag_mask(runs: pd.DataFrame, expression: str) -> pd.Series:
    """Runs whose tag matches 'key=value' (or that carry tag 'key' at all)."""
    key, _, value = expression.partition("=")
    column = f"tags.{key.strip()}"
    if column not in runs.columns:
        return pd.Series(False, index=runs.index)
    present = runs[column].notna()
    if not value.strip():
        return present
    return present & (runs[column].astype("str").str.strip() == value.strip())


def apply_filter(runs: pd.DataFrame, run_filter: RunFilter) -> pd.DataFrame:
    """The runs that pass every active filter (a metric range drops runs without the metric;
    an inverted range, minimum above maximum, is not applied: see RunFilter.range_problem)."""
    mask = pd.Series(True, index=runs.index)
    needle = run_filter.search.strip().lower()
    if needle:
        names = runs["run_name"].astype("str").str.lower()
        ids = runs["run_id"].astype("str").str.lower()
        mask &= names.str.contains(needle, regex=False) | ids.str.startswith(needle)
    if run_filter.statuses:
        mask &= runs["status"].isin(run_filter.statuses)
    if run_filter.tag.strip():
        mask &= _tag_mask(runs, run_filter.tag)
    if run_filter.param and run_filter.param_values:
        if run_filter.param in runs.columns:
            mask &= runs[run_filter.param].astype("str").isin(run_filter.param_values)
        else:
            mask &= False
    if run_filter.range_applies():
        values = numeric_column(runs, run_filter.range_metric)
        if run_filter.range_min is not None:
            mask &= values >= run_filter.range_min
        if run_filter.range_max is not None:
            mask &= values <= run_filter.range_max
    return runs[mask]


def auc_gaps(runs: pd.DataFrame) -> pd.DataFrame:
    """Train, CV and validation AUC per run and the gaps between them (over-fitting shows here)."""
    frame = pd.DataFrame(
        {
            "run_id": runs["run_id"],
            "run_name": runs["run_name"],
            "train_auc": numeric_column(runs, "metrics.train_auc"),
            "cv_auc_mean": numeric_column(runs, "cv_auc_mean"),
            "val_auc": numeric_column(runs, "metrics.val_auc"),
        }
    )
    frame["train_minus_cv"] = frame["train_auc"] - frame["cv_auc_mean"]
    frame["cv_minus_val"] = frame["cv_auc_mean"] - frame["val_auc"]
    return frame.reset_index(drop=True)


def selected_in_order(runs: pd.DataFrame, run_ids: Iterable[str]) -> pd.DataFrame:
    """The rows of the given run ids, in the order given (unknown ids are skipped)."""
    indexed = runs.set_index("run_id", drop=False)
    wanted = [r for r in run_ids if r in indexed.index]
    return indexed.loc[wanted].reset_index(drop=True)


def compare_params(
    runs: pd.DataFrame, run_ids: Sequence[str], *, differences_only: bool = False
) -> pd.DataFrame:
    """Params side by side: one row per param, one column per run ('' where a run lacks it)."""
    chosen = selected_in_order(runs, run_ids)
    labels = run_labels(runs, list(chosen["run_id"]))
    columns = [c for c in runs.columns if c.startswith("params.") and chosen[c].notna().any()]
    table = chosen.set_index("run_id")[columns].T
    table.index = [metric_label(c) for c in table.index]
    table.columns = [labels[r] for r in table.columns]
    table = table.astype("object").where(table.notna(), "")
    table = table.astype("str")
    differs = table.nunique(axis=1) > 1
    table.insert(0, "differs", differs)
    if differences_only:
        table = table[differs]
    table.index.name = "param"
    return table.sort_index()


def compare_metrics(runs: pd.DataFrame, run_ids: Sequence[str]) -> pd.DataFrame:
    """Metrics side by side (headline, CV statistics, then the rest), with Δ to the first run."""
    chosen = selected_in_order(runs, run_ids)
    labels = run_labels(runs, list(chosen["run_id"]))
    stats = [c for c in CV_STAT_COLUMNS if c in runs.columns]
    headline = [c for c in _PREFERRED_METRICS if c.startswith("metrics.")] + ["metrics.train_auc"]
    others = sorted(
        c
        for c in runs.columns
        if c.startswith("metrics.")
        and c not in headline
        and metric_label(c) not in {*stats, *_FOLD_STEP_METRICS}
    )
    columns = [
        c for c in [*headline, *stats, *others] if c in chosen.columns and chosen[c].notna().any()
    ]
    values = chosen.set_index("run_id")[columns].apply(pd.to_numeric, errors="coerce").T
    result = pd.DataFrame(index=[metric_label(c) for c in columns])
    first = values.columns[0] if len(values.columns) else None
    for run_id in values.columns:
        result[labels[run_id]] = values[run_id].to_numpy()
        if run_id != first:
            delta = values[run_id] - values[first]
            result[f"Δ {labels[run_id]} − {labels[first]}"] = delta.to_numpy()
    result.index.name = "metric"
    return result


def _spearman(x: pd.Series, y: pd.Series) -> tuple[float, float]:
    """Spearman rank correlation of two aligned numeric series and its p-value (NaN: undefined)."""
    rx, ry = x.rank(), y.rank()
    if rx.std() == 0 or ry.std() == 0:
        return float("nan"), float("nan")
    from scipy.stats import spearmanr  # deferred: ~1 s to import; only the effects tab uses it

    return float(np.corrcoef(rx, ry)[0, 1]), float(spearmanr(x.to_numpy(), y.to_numpy()).pvalue)


def _correlation_ratio(groups: pd.Series, y: pd.Series) -> tuple[float, float]:
    """Eta (share of the metric's spread a categorical param explains) and the ANOVA p-value."""
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0:
        return float("nan"), float("nan")
    between = float(((y.groupby(groups).transform("mean") - y.mean()) ** 2).sum())
    samples = [values.to_numpy() for _, values in y.groupby(groups)]
    enough = len(samples) > 1 and len(y) > len(samples)
    from scipy.stats import f_oneway  # deferred: ~1 s to import; only the effects tab uses it

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
    for column in (c for c in runs.columns if c.startswith("params.")):
        raw = usable[column].dropna().astype("str")
        if raw.nunique() < 2 or len(raw) < min_runs:
            continue
        numbers = pd.to_numeric(raw, errors="coerce")
        n_text = int(numbers.isna().sum())
        numeric = numbers.notna().mean() >= 0.8 and numbers.dropna().nunique() >= 2
        if numeric:
            x = numbers.dropna()
            effect, p_value = _spearman(x, y_all[x.index])
            kind, n, note = "numeric", len(x), f"{n_text} text value(s) left out" if n_text else ""
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


def champion_comparison(
    runs: pd.DataFrame,
    recommendation: Recommendation,
    manifest: PromotionManifest | None,
    experiment: str | None = None,
) -> str | None:
    """One sentence comparing the recommended run to the promoted champion, or None.

    The champion is compared only with runs of its own slot (the experiment by default): for
    another experiment the sentence says it has no champion.
    """
    if manifest is None:
        return None
    name = manifest.run_name or manifest.run_id[:8]
    if experiment is not None and manifest.served_slot != experiment:
        return Sentence(
            "Experiment {0} has no champion: the deploy folder serves slot {1} (run {2}), "
            "whose runs are not compared with these.",
            experiment,
            manifest.served_slot,
            name,
        )
    label = metric_label(recommendation.metric)
    if recommendation.run_id is None:
        return Sentence(
            "The current champion is {0}; no stable run is recommended to replace it.", name
        )
    if recommendation.run_id == manifest.run_id:
        return Sentence("The recommended run is already the promoted champion ({0}).", name)
    champion_value = numeric_column(runs, recommendation.metric)[runs["run_id"] == manifest.run_id]
    value = champion_value.iloc[0] if len(champion_value) else float("nan")
    if np.isnan(value):
        value = manifest.metrics.get(label, float("nan"))
    if value is None or np.isnan(value) or recommendation.value is None:
        return Sentence(
            f"The current champion is {{0}}; its {label} is not known, so compare by hand.", name
        )
    delta = recommendation.value - value
    better = delta > 0 if higher_is_better(recommendation.metric) else delta < 0
    verdict = "better than" if better else ("equal to" if delta == 0 else "worse than")
    return Sentence(
        f"The recommended run is {verdict} the champion {{0}} on {label} "
        f"({recommendation.value:.4f} vs {value:.4f}, {delta:+.4f}).",
        name,
    )


def child_runs_view(children: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Nested child runs with their parent's name, for the grouped view."""
    if children.empty:
        return children
    parents = runs.set_index("run_id")["run_name"]
    view = children.copy()
    view.insert(0, "parent", view["parent_run_id"].map(parents).fillna(view["parent_run_id"]))
    keep = ["parent", "run_name", "status", "start_time", "run_id"]
    metrics = [c for c in view.columns if c.startswith("metrics.")]
    view = view[keep + metrics].sort_values(["parent", "start_time"])
    view["start_time"] = view["start_time"].dt.tz_convert(None)
    return view.rename(columns={c: metric_label(c) for c in metrics}).reset_index(drop=True)


def table_view(
    runs: pd.DataFrame,
    primary: str,
    flags: pd.Series,
    extra_columns: Sequence[str] = (),
    *,
    link_paths: Mapping[str, str] | None = None,
    champion: str | None = None,
) -> pd.DataFrame:
    """The runs table as shown: headline columns, stability flag, extra columns, page links.

    With the promoted run's id, a "role" column marks it "Champion" (absent when it is not shown).
    """
    view = pd.DataFrame(
        {
            "run_name": runs["run_name"],
            "status": runs["status"],
            "start_time": runs["start_time"].dt.tz_convert(None),
            "primary": numeric_column(runs, primary),
            "val_auc": numeric_column(runs, "metrics.val_auc"),
            "val_ks": numeric_column(runs, "metrics.val_ks"),
            "cv_auc_mean": numeric_column(runs, "cv_auc_mean"),
            "cv_auc_std": numeric_column(runs, "cv_auc_std"),
            "cv_auc_min": numeric_column(runs, "cv_auc_min"),
            "cv_ks_mean": numeric_column(runs, "cv_ks_mean"),
            "stability": flags.reindex(runs.index),
            "overfit": overfit_column(runs),
            "data_version": runs["data_version"],
            "child_runs": runs["n_child_runs"],
            "model": runs["has_model"].astype(bool),
        },
        index=runs.index,
    )
    if champion is not None and (runs["run_id"] == champion).any():
        view.insert(1, "role", np.where(runs["run_id"] == champion, CHAMPION_ROLE, ""))
    for column in extra_columns:
        if column in runs.columns and column not in view.columns:
            view[column] = runs[column]
    for name, path in (link_paths or {}).items():
        view[name] = path + "?run_id=" + runs["run_id"].astype("str")
    view["run_id"] = runs["run_id"]
    return view.reset_index(drop=True)
