"""An experiment's runs as the Runs page judges them: verdicts, inventory, champion, recommendation.

For the command line (`python -m core runs`, `promote --recommended`): the same stability rule,
recommendation and notes as the page, on the whole experiment, with no Streamlit.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd

from core.errors import GovernanceError
from core.record.manifest import ManifestError, PromotionManifest, read_manifest
from core.runs import views
from core.runs.analysis import (
    champion_comparison,
    metric_label,
    numeric_column,
    primary_metric_options,
)
from core.runs.recommendation import Recommendation
from core.runs.stability import DEFAULT_PRIMARY_METRIC, StabilityRule, stability_verdicts
from core.scoring.feature_policy import load_feature_policy
from core.settings import Settings
from core.store.access import load_runs_table, row_inventory
from core.store.client import get_experiment, open_client
from core.store.paired_ties import paired_intervals, recommend_with_pairs

# Columns a run is listed with, beside the primary metric (None when the run lacks one).
LISTED_METRICS = ("metrics.val_auc", "metrics.val_ks", "cv_auc_mean", "cv_auc_std", "cv_auc_min")


class UnknownMetricError(GovernanceError):
    """The metric asked for is not one any run of the experiment logged."""


class NoRecommendationError(GovernanceError):
    """No run of the experiment is stable, finished and carries a model with the metric."""


@dataclass(frozen=True)
class ListedRun:
    """One run: its numbers, CV stability verdict, what it carries, and its role."""

    run_id: str
    run_name: str
    status: str
    start_time: str | None
    primary: float | None
    metrics: dict[str, float | None]
    stability: str
    stability_explanation: str
    carries: dict[str, bool]
    missing: list[str]
    governed: bool
    champion: bool
    recommended: bool
    tied: bool = False

    @property
    def lacks(self) -> list[str]:
        """The short names of what the run does not carry."""
        return [name for name, present in self.carries.items() if not present]

    @property
    def role(self) -> str:
        """'champion', 'recommended', 'equivalent within noise' (a tie), several, or ''."""
        roles = (
            ("champion", self.champion),
            ("recommended", self.recommended),
            ("equivalent within noise", self.tied),
        )
        return ", ".join(name for name, on in roles if on)


@dataclass(frozen=True)
class RunsListing:
    """The experiment's runs best first by the primary metric, and what the page would say."""

    experiment: str
    tracking_uri: str
    metric: str
    rule: StabilityRule
    runs: tuple[ListedRun, ...]
    recommendation: Recommendation
    champion_run_id: str | None
    champion_note: str | None
    notes: tuple[str, ...]
    warnings: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """The listing as JSON-ready data (NaN as None)."""
        recommended = self.recommendation
        return {
            "experiment": self.experiment,
            "tracking_uri": self.tracking_uri,
            "metric": metric_label(self.metric),
            "stability_rule": asdict(self.rule) | {"description": self.rule.describe()},
            "recommended": {
                "run_id": recommended.run_id,
                "run_name": recommended.run_name,
                "value": recommended.value,
                "reason": str(recommended.reason),
                "equivalent_within_noise": list(recommended.tied_run_ids),
                "tie_break_rule": recommended.tie_rule or None,
            },
            "champion": {"run_id": self.champion_run_id, "note": self.champion_note}
            if self.champion_run_id
            else None,
            "runs": [asdict(run) | {"lacks": run.lacks} for run in self.runs],
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }


def _number(value: object) -> float | None:
    """A finite float, or None for missing values and NaN."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def resolve_metric(runs: pd.DataFrame, wanted: str) -> str:
    """The runs-table column of a metric given as 'val_auc', 'metrics.val_auc' or 'cv_auc_mean'."""
    options = primary_metric_options(runs)
    for column in options:
        if wanted in (column, metric_label(column)):
            return column
    raise UnknownMetricError(
        f"No run logged the metric '{wanted}'.",
        fix="Rank by one of: " + ", ".join(metric_label(c) for c in options) + ".",
    )


def _champion(settings: Settings) -> tuple[PromotionManifest | None, tuple[str, ...]]:
    """The manifest in force, or None with a warning when it cannot be read."""
    try:
        return read_manifest(settings.promotion_manifest), ()
    except ManifestError as exc:
        return None, (f"{exc.message} {exc.fix or ''}".strip(),)


def _listed(
    runs: pd.DataFrame,
    metric: str,
    verdicts: pd.DataFrame,
    champion: str | None,
    recommendation: Recommendation,
) -> tuple[ListedRun, ...]:
    """Every run, best first by the metric, with its verdict and inventory."""
    primary = numeric_column(runs, metric)
    numbers = {metric_label(c): numeric_column(runs, c) for c in LISTED_METRICS}
    listed = []
    for index, row in views.rank_runs(runs, metric).iterrows():
        inventory = row_inventory(row)
        start = row["start_time"]
        listed.append(
            ListedRun(
                run_id=str(row["run_id"]),
                run_name=str(row["run_name"]),
                status=str(row["status"]),
                start_time=start.isoformat() if pd.notna(start) else None,
                primary=_number(primary[index]),
                metrics={name: _number(values[index]) for name, values in numbers.items()},
                stability=str(verdicts.at[index, "flag"]),
                stability_explanation=str(verdicts.at[index, "explanation"]),
                carries=inventory.carries,
                missing=inventory.missing,
                governed=inventory.is_governed,
                champion=bool(row["run_id"] == champion),
                recommended=bool(row["run_id"] == recommendation.run_id),
                tied=str(row["run_id"]) in recommendation.tied_run_ids,
            )
        )
    return tuple(listed)


def list_runs(
    settings: Settings, metric: str = DEFAULT_PRIMARY_METRIC, rule: StabilityRule | None = None
) -> RunsListing:
    """The experiment's runs (settings' store and experiment) judged as the Runs page does."""
    rule = rule or StabilityRule()
    client = open_client(settings.tracking_uri, must_exist=True)
    experiment = get_experiment(client, settings.experiment_name)
    table = load_runs_table(
        client, settings.tracking_uri, experiment.experiment_id, settings.runs_search_partition
    )
    runs = table.runs
    column = resolve_metric(runs, metric) if not runs.empty else metric
    verdicts = stability_verdicts(runs, rule)
    flags = verdicts["flag"].astype("str")
    recommendation = recommend_with_pairs(
        runs, rule, column, flags, lambda best, tied: paired_intervals(client, best, tied)
    )
    manifest, warnings = _champion(settings)
    same_slot = manifest is not None and manifest.served_slot == experiment.name
    champion = manifest.run_id if manifest is not None and same_slot else None
    return RunsListing(
        experiment=experiment.name,
        tracking_uri=settings.tracking_uri,
        metric=column,
        rule=rule,
        runs=_listed(runs, column, verdicts, champion, recommendation),
        recommendation=recommendation,
        champion_run_id=champion,
        champion_note=champion_comparison(runs, recommendation, manifest, experiment.name),
        notes=_notes(runs, settings),
        warnings=tuple(table.warnings) + warnings,
    )


def _notes(runs: pd.DataFrame, settings: Settings) -> tuple[str, ...]:
    """The Runs page's notes: missing CV or models, and runs with protected inputs."""
    if runs.empty:
        return ()
    policy = load_feature_policy(settings.feature_policy_file)
    protected = views.protected_input_note(runs, policy)
    return (*views.table_notes(runs), *([str(protected)] if protected else []))


def recommended_run(settings: Settings) -> Recommendation:
    """The run `list_runs` recommends by default, or NoRecommendationError saying why none is."""
    found = list_runs(settings).recommendation
    if found.run_id is None:
        raise NoRecommendationError(
            f"No run to recommend in experiment '{settings.experiment_name}': {found.reason}",
            fix="Promote a run by its id with --run-id (an unstable one needs --force and a "
            "reason).",
        )
    return found
